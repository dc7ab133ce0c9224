import { bytesToBase64 } from '../base64.js';
import { EngramError } from '../errors.js';
import { CIPHERTEXT_PREFIX, isCiphertext } from './sealed.js';

/**
 * End-to-end encryption primitives on WebCrypto alone (browsers, Workers and Node 20 all have
 * `crypto.subtle`), so core ships no crypto library. AES-256-GCM with a fresh 96-bit IV per value;
 * the associated data names namespace, entity, id and field, so a ciphertext moved to another record
 * or field fails to decrypt instead of showing the wrong text.
 */

/** What the server keeps about a namespace's key: enough to derive and check it, nothing to read data. */
export interface KeyInfo {
  v: 1;
  /** Short id of the key (from its check value); every ciphertext carries it. */
  keyId: string;
  /** AES-GCM encryption of a fixed text under the key: proves a key right or wrong. */
  check: string;
  /** Present when the key comes from a passphrase. */
  kdf?: { name: 'PBKDF2-SHA256'; iterations: number; salt: string };
}

export type EncryptionOptions = { key: CryptoKey } | { passphrase: string; iterations?: number };

/** OWASP's 2023 figure for PBKDF2-HMAC-SHA256. */
export const DEFAULT_ITERATIONS = 600_000;
const CHECK_TEXT = 'engram key check v1';
const IV_BYTES = 12;

export function toBase64Url(bytes: Uint8Array): string {
  return bytesToBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function tampered(where: string): EngramError {
  return new EngramError(
    'VALIDATION',
    `${where}: the ciphertext does not decrypt with this key: it was altered, moved from another record or field, or written with another key`,
    { field: where },
  );
}

/** One namespace's key, with the operations sync needs. */
export class NamespaceCipher {
  private constructor(
    readonly info: KeyInfo,
    private readonly key: CryptoKey,
  ) {}

  get keyId(): string {
    return this.info.keyId;
  }

  /** A new key for a namespace that has none yet (fresh salt for a passphrase). */
  static async create(options: EncryptionOptions): Promise<NamespaceCipher> {
    if ('key' in options) return NamespaceCipher.fromKey(options.key, undefined);
    const iterations = options.iterations ?? DEFAULT_ITERATIONS;
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const kdf = { name: 'PBKDF2-SHA256' as const, iterations, salt: toBase64Url(salt) };
    return NamespaceCipher.fromKey(await deriveKey(options.passphrase, salt, iterations), kdf);
  }

  /**
   * The key for a namespace whose key info is known (stored locally or learned from the server).
   * Throws a VALIDATION error naming `encryption` when the key or passphrase is not the one the
   * namespace was encrypted with.
   */
  static async open(options: EncryptionOptions, info: KeyInfo, namespace: string): Promise<NamespaceCipher> {
    let key: CryptoKey;
    if ('key' in options) {
      if (info.kdf) throw wrongKey(namespace, 'it was encrypted with a passphrase, not a key');
      key = options.key;
    } else {
      if (!info.kdf) throw wrongKey(namespace, 'it was encrypted with a key, not a passphrase');
      key = await deriveKey(options.passphrase, fromBase64Url(info.kdf.salt), info.kdf.iterations);
    }
    const plain = await decryptBytes(key, info.check, checkData(info.keyId)).catch(() => undefined);
    if (!plain || decoder.decode(plain) !== CHECK_TEXT) throw wrongKey(namespace, 'the key check failed');
    return new NamespaceCipher(info, key);
  }

  private static async fromKey(key: CryptoKey, kdf: KeyInfo['kdf']): Promise<NamespaceCipher> {
    const keyId = toBase64Url(crypto.getRandomValues(new Uint8Array(6)));
    const check = await encryptBytes(key, encoder.encode(CHECK_TEXT), checkData(keyId));
    const info: KeyInfo = { v: 1, keyId, check, ...(kdf ? { kdf } : {}) };
    return new NamespaceCipher(info, key);
  }

  async encryptString(text: string, where: string): Promise<string> {
    return this.encrypt(encoder.encode(text), where);
  }

  async decryptString(value: string, where: string): Promise<string> {
    return decoder.decode(await this.decrypt(value, where));
  }

  async encrypt(bytes: Uint8Array<ArrayBuffer>, where: string): Promise<string> {
    return `${CIPHERTEXT_PREFIX}${this.keyId}.${await encryptBytes(this.key, bytes, encoder.encode(where))}`;
  }

  async decrypt(value: string, where: string): Promise<Uint8Array> {
    if (!isCiphertext(value)) throw tampered(where);
    const rest = value.slice(CIPHERTEXT_PREFIX.length);
    const dot = rest.indexOf('.');
    const keyId = rest.slice(0, dot);
    if (dot < 0) throw tampered(where);
    if (keyId !== this.keyId) {
      throw new EngramError(
        'VALIDATION',
        `${where}: encrypted with key ${keyId}, but this device has key ${this.keyId} (was the key rotated? open with the new key or passphrase)`,
        { field: where },
      );
    }
    return decryptBytes(this.key, rest.slice(dot + 1), encoder.encode(where)).catch(() => {
      throw tampered(where);
    });
  }
}

function wrongKey(namespace: string, why: string): EngramError {
  return new EngramError(
    'VALIDATION',
    `encryption: wrong key or passphrase for namespace ${JSON.stringify(namespace)} (${why}); nothing was written`,
    { field: 'encryption' },
  );
}

const checkData = (keyId: string) => encoder.encode(`engram/key-check/${keyId}`);

async function deriveKey(
  passphrase: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', encoder.encode(passphrase), 'PBKDF2', false, [
    'deriveKey',
  ]);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

async function encryptBytes(
  key: CryptoKey,
  bytes: Uint8Array<ArrayBuffer>,
  additionalData: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData }, key, bytes),
  );
  const out = new Uint8Array(IV_BYTES + sealed.length);
  out.set(iv);
  out.set(sealed, IV_BYTES);
  return toBase64Url(out);
}

async function decryptBytes(
  key: CryptoKey,
  text: string,
  additionalData: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array> {
  const bytes = fromBase64Url(text);
  const iv = bytes.subarray(0, IV_BYTES);
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv, additionalData },
    key,
    bytes.subarray(IV_BYTES),
  );
  return new Uint8Array(plain);
}
