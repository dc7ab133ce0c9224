import { fromBase64Url, toBase64Url } from '../base64.js';
import { EngramError } from '../errors.js';
import { CIPHERTEXT_PREFIX, isCiphertext } from './sealed.js';

/**
 * End-to-end encryption primitives on WebCrypto alone (browsers, Workers and Node 20 all have
 * `crypto.subtle`), so core ships no crypto library. AES-256-GCM with a fresh 96-bit IV per value;
 * the associated data names namespace, entity, id and field, so a ciphertext moved to another record
 * or field fails to decrypt instead of showing the wrong text.
 */

/**
 * What the server keeps about a namespace's key: enough to derive and check it, nothing to read data.
 * Version 2 (every key made since it exists) binds each sealed value to its field's clock stamp and keeps
 * `rotation`; version 1 keys, made before, do neither, and stay readable until `rekey` replaces them.
 */
export interface KeyInfo {
  v: 1 | 2;
  /** Short id of the key (from its check value); every ciphertext carries it. */
  keyId: string;
  /** AES-GCM encryption of a fixed text under the key: proves a key right or wrong. */
  check: string;
  /** Present when the key comes from a passphrase. */
  kdf?: { name: 'PBKDF2-SHA256'; iterations: number; salt: string };
  /**
   * Version 2: SHA-256 (base64url) of the key's rotation proof, which only a holder of the key can make:
   * the edge moves the namespace to another key only for a request carrying the proof.
   */
  rotation?: string;
}

export type EncryptionOptions = { key: CryptoKey } | { passphrase: string; iterations?: number };

/** OWASP's 2023 figure for PBKDF2-HMAC-SHA256. */
export const DEFAULT_ITERATIONS = 600_000;
const CHECK_TEXT = 'engram key check v1';
const IV_BYTES = 12;
/**
 * The most PBKDF2 iterations a device derives for key info it did not make (unless its own `iterations`
 * asks for more): key info comes from the edge, and a hostile one would otherwise have every device spend
 * minutes on a key.
 */
export const MAX_ACCEPTED_ITERATIONS = 2_000_000;
export { SEALING_VERSION } from '../sync/protocol.js';

const PROOF_TEXT = 'engram key rotation proof v2';
/** Marks a value sealed under another key than this device's: a rotation, not damage. */
const OTHER_KEY = Symbol('engram.otherKey');

/** Whether `error` says a value was sealed under another key (the namespace was rotated), not damaged. */
export function isOtherKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && OTHER_KEY in error;
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
  private readonly gcm: AesGcm;

  private constructor(
    readonly info: KeyInfo,
    key: CryptoKey,
  ) {
    this.gcm = aesGcm(key);
  }

  get keyId(): string {
    return this.info.keyId;
  }

  /** Whether sealed values are bound to their field's clock stamp (key info version 2). */
  get bindsStamps(): boolean {
    return this.info.v >= 2;
  }

  /**
   * What proves to the edge that a rotation comes from a holder of this key: the one message this key
   * ever seals under its fixed IV (derived from the key id, so no other message shares it), which the
   * edge compares, hashed, with the key info's `rotation`.
   */
  async rotationProof(): Promise<string> {
    const iv = (await sha256(`engram/rotation-iv/${this.keyId}`)).slice(0, IV_BYTES);
    const sealed = await this.gcm.encrypt(iv, encoder.encode(PROOF_TEXT), rotationData(this.keyId));
    return toBase64Url(sealed);
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
      const accepted = Math.max(MAX_ACCEPTED_ITERATIONS, options.iterations ?? 0);
      if (info.kdf.iterations > accepted) {
        throw new EngramError(
          'VALIDATION',
          `encryption: namespace ${JSON.stringify(namespace)}'s key info asks for ${info.kdf.iterations} PBKDF2 iterations, more than this device derives (${accepted}); if its first device chose that many, pass the same { passphrase, iterations } here`,
          { field: 'encryption.iterations' },
        );
      }
      key = await deriveKey(options.passphrase, fromBase64Url(info.kdf.salt), info.kdf.iterations);
    }
    const plain = await decryptBytes(aesGcm(key), info.check, checkData(info.keyId)).catch(() => undefined);
    if (!plain || decoder.decode(plain) !== CHECK_TEXT) throw wrongKey(namespace, 'the key check failed');
    return new NamespaceCipher(info, key);
  }

  private static async fromKey(key: CryptoKey, kdf: KeyInfo['kdf']): Promise<NamespaceCipher> {
    const keyId = toBase64Url(crypto.getRandomValues(new Uint8Array(6)));
    const check = await encryptBytes(aesGcm(key), encoder.encode(CHECK_TEXT), checkData(keyId));
    const made = new NamespaceCipher({ v: 2, keyId, check, ...(kdf ? { kdf } : {}) }, key);
    const rotation = await rotationHash(await made.rotationProof());
    return new NamespaceCipher({ ...made.info, rotation }, key);
  }

  async encryptString(text: string, where: string): Promise<string> {
    return this.encrypt(encoder.encode(text), where);
  }

  async decryptString(value: string, where: string): Promise<string> {
    return decoder.decode(await this.decrypt(value, where));
  }

  async encrypt(bytes: Uint8Array<ArrayBuffer>, where: string): Promise<string> {
    return `${CIPHERTEXT_PREFIX}${this.keyId}.${await encryptBytes(this.gcm, bytes, encoder.encode(where))}`;
  }

  async decrypt(value: string, where: string): Promise<Uint8Array> {
    if (!isCiphertext(value)) throw tampered(where);
    const rest = value.slice(CIPHERTEXT_PREFIX.length);
    const dot = rest.indexOf('.');
    const keyId = rest.slice(0, dot);
    if (dot < 0) throw tampered(where);
    if (keyId !== this.keyId) {
      const error = new EngramError(
        'VALIDATION',
        `${where}: encrypted with key ${keyId}, but this device has key ${this.keyId} (was the key rotated? open with the new key or passphrase)`,
        { field: where },
      );
      (error as { [OTHER_KEY]?: true })[OTHER_KEY] = true;
      throw error;
    }
    return decryptBytes(this.gcm, rest.slice(dot + 1), encoder.encode(where)).catch(() => {
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
const rotationData = (keyId: string) => encoder.encode(`engram/rotation/${keyId}`);

async function sha256(text: string): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

/** The key info's `rotation`: SHA-256 of a rotation proof, base64url. The edge computes it to compare. */
export async function rotationHash(proof: string): Promise<string> {
  return toBase64Url(await sha256(proof));
}

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
  gcm: AesGcm,
  bytes: Uint8Array<ArrayBuffer>,
  additionalData: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const iv = freshIv();
  const sealed = await gcm.encrypt(iv, bytes, additionalData);
  const out = new Uint8Array(IV_BYTES + sealed.length);
  out.set(iv);
  out.set(sealed, IV_BYTES);
  return toBase64Url(out);
}

async function decryptBytes(
  gcm: AesGcm,
  text: string,
  additionalData: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array> {
  const bytes = fromBase64Url(text);
  return gcm.decrypt(bytes.subarray(0, IV_BYTES), bytes.subarray(IV_BYTES), additionalData);
}

/**
 * Random IVs are drawn from the system's generator a pool at a time: one call per IV cost as much as
 * the sealing itself. Each IV is handed out once and the pool is refilled, never reused.
 */
const IV_POOL = 4096 * IV_BYTES;
let ivPool = new Uint8Array(0);
let ivAt = 0;

function freshIv(): Uint8Array<ArrayBuffer> {
  if (ivAt + IV_BYTES > ivPool.length) {
    ivPool = crypto.getRandomValues(new Uint8Array(IV_POOL));
    ivAt = 0;
  }
  ivAt += IV_BYTES;
  return ivPool.slice(ivAt - IV_BYTES, ivAt);
}

/** AES-256-GCM with one key: the ciphertext with its 16-byte tag appended, as WebCrypto writes it. */
interface AesGcm {
  encrypt(
    iv: Uint8Array<ArrayBuffer>,
    plain: Uint8Array<ArrayBuffer>,
    aad: Uint8Array<ArrayBuffer>,
  ): Promise<Uint8Array>;
  decrypt(
    iv: Uint8Array<ArrayBuffer>,
    sealed: Uint8Array<ArrayBuffer>,
    aad: Uint8Array<ArrayBuffer>,
  ): Promise<Uint8Array>;
}

interface NodeCipher {
  setAAD(aad: Uint8Array): void;
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
}

interface NodeCrypto {
  KeyObject: { from(key: CryptoKey): unknown };
  createCipheriv(algorithm: string, key: unknown, iv: Uint8Array): NodeCipher & { getAuthTag(): Uint8Array };
  createDecipheriv(
    algorithm: string,
    key: unknown,
    iv: Uint8Array,
  ): NodeCipher & { setAuthTag(tag: Uint8Array): void };
}

const TAG_BYTES = 16;

/**
 * WebCrypto, or node:crypto over the same key where the runtime has it (Node, and Bun or Deno): there a
 * value is sealed in the calling thread, where each WebCrypto call is a job queued to another thread
 * and back, about three times the time for the short values sync seals (three per memory). The bytes
 * are the same either way; a key node:crypto cannot take, or one whose usages do not allow the
 * operation, stays on WebCrypto, which then decides.
 */
function aesGcm(key: CryptoKey): AesGcm {
  const web: AesGcm = {
    encrypt: async (iv, plain, additionalData) =>
      new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData }, key, plain)),
    decrypt: async (iv, sealed, additionalData) =>
      new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData }, key, sealed)),
  };
  const node = nodeCrypto();
  const algorithm = key.algorithm as { name?: string; length?: number };
  if (!node || algorithm.name !== 'AES-GCM' || algorithm.length !== 256) return web;
  let keyObject: unknown;
  try {
    keyObject = node.KeyObject.from(key);
  } catch {
    return web;
  }
  return {
    encrypt: key.usages.includes('encrypt')
      ? async (iv, plain, aad) => {
          const cipher = node.createCipheriv('aes-256-gcm', keyObject, iv);
          cipher.setAAD(aad);
          return concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
        }
      : web.encrypt,
    decrypt: key.usages.includes('decrypt')
      ? async (iv, sealed, aad) => {
          if (sealed.length < TAG_BYTES) throw new Error('AES-GCM: shorter than its tag');
          const decipher = node.createDecipheriv('aes-256-gcm', keyObject, iv);
          decipher.setAAD(aad);
          decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
          return concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
        }
      : web.decrypt,
  };
}

function nodeCrypto(): NodeCrypto | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    const module = process?.getBuiltinModule?.('node:crypto') as Partial<NodeCrypto> | undefined;
    return module?.KeyObject && module.createCipheriv && module.createDecipheriv
      ? (module as NodeCrypto)
      : undefined;
  } catch {
    return undefined;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
