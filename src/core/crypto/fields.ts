import { EngramError } from '../errors.js';
import type { Json, Link, Memory } from '../model.js';
import { LIMITS } from '../validate.js';
import type { NamespaceCipher } from './cipher.js';
import {
  CIPHERTEXT_PREFIX,
  isCiphertext,
  joinSealedTags,
  KEY_ID_MAX,
  unpackSealedEmbedding,
} from './sealed.js';

/*
 * How each encrypted field travels, in a shape every store and the edge's validation already accept,
 * so the server keeps ciphertext in the same columns it keeps text in:
 * - content: one ciphertext string;
 * - tags: the ciphertext of the JSON array, cut into numbered pieces that each fit a tag;
 * - metadata (memories and links): `{ "engram.encrypted": ciphertext }`;
 * - embedding: the ciphertext bytes of the Float64 vector, three bytes per number (integers below
 *   2^24 survive every store's number encoding exactly, Float32 included).
 * Ids, kind, importance, expiresAt, timestamps, clocks, link endpoints, type and weight stay in clear
 * so the edge can merge and walk links (docs/security.md says what that reveals).
 */

export const ENCRYPTED_KEY = 'engram.encrypted';
const TAG_PIECE = 60;
/**
 * The longest ciphertext string of `plainBytes` bytes: prefix, key id (the longest key info may name, so a
 * namespace whose key came from another client is held to the same plaintext limits) and a dot, then
 * base64url of iv ‖ data ‖ tag.
 */
export const sealedLength = (plainBytes: number) =>
  CIPHERTEXT_PREFIX.length + KEY_ID_MAX + 1 + Math.ceil(((plainBytes + 28) * 4) / 3);
/** Numbers of an encrypted embedding of `LIMITS.embeddingDims` doubles: length, then 3 bytes a number. */
export const ENCRYPTED_EMBEDDING_MAX = 1 + Math.ceil(sealedLength(LIMITS.embeddingDims * 8) / 3);

/**
 * Associated data: the value's place (namespace, entity, id, field), and under a version 2 key its
 * field's clock stamp too, so a value replayed under a newer stamp (an old ciphertext pushed again by
 * someone without the key) does not decrypt; a field's initial value, which travels unstamped, has ''.
 */
function placeOf(
  cipher: NamespaceCipher,
  namespace: string,
  entity: 'memory' | 'link',
  id: string,
  clocks: Stamps,
) {
  return (field: string) => {
    const where = `${namespace}/${entity}/${id}/${field}`;
    return cipher.bindsStamps ? `${where}@${clocks[field] ?? ''}` : where;
  };
}

/** A record's or write's clock stamps by field. */
type Stamps = { readonly [field: string]: string | undefined };

type MemoryValues = Partial<Pick<Memory, 'content' | 'tags' | 'metadata' | 'embedding'>>;
type LinkValues = Partial<Pick<Link, 'metadata'>>;

export async function encryptMemoryValues<T extends MemoryValues>(
  cipher: NamespaceCipher,
  namespace: string,
  id: string,
  values: T,
  clocks: Stamps,
): Promise<T> {
  const where = placeOf(cipher, namespace, 'memory', id, clocks);
  const out: MemoryValues = { ...values };
  if (values.content !== undefined)
    out.content = await cipher.encryptString(values.content, where('content'));
  if (values.tags !== undefined) out.tags = await encryptTags(cipher, values.tags, where('tags'));
  if (values.metadata !== undefined) {
    out.metadata = {
      [ENCRYPTED_KEY]: await cipher.encryptString(JSON.stringify(values.metadata), where('metadata')),
    };
  }
  if (values.embedding !== undefined) {
    const bytes = new Uint8Array(Float64Array.from(values.embedding).buffer);
    const sealed = await cipher.encrypt(bytes, where('embedding'));
    out.embedding = packBytes(new TextEncoder().encode(sealed));
  }
  return out as T;
}

export async function decryptMemoryValues<T extends MemoryValues>(
  cipher: NamespaceCipher,
  namespace: string,
  id: string,
  values: T,
  clocks: Stamps,
): Promise<T> {
  const where = placeOf(cipher, namespace, 'memory', id, clocks);
  const out: MemoryValues = { ...values };
  if (values.content !== undefined)
    out.content = await cipher.decryptString(values.content, where('content'));
  if (values.tags !== undefined) out.tags = await decryptTags(cipher, values.tags, where('tags'));
  if (values.metadata !== undefined)
    out.metadata = await decryptMetadata(cipher, values.metadata, where('metadata'));
  if (values.embedding !== undefined) {
    const sealed = unpackSealedEmbedding(values.embedding);
    if (sealed === undefined) throw notEncrypted(where('embedding'));
    const bytes = await cipher.decrypt(sealed, where('embedding'));
    out.embedding = Array.from(new Float64Array(bytes.slice().buffer));
  }
  return out as T;
}

export async function encryptLinkValues<T extends LinkValues>(
  cipher: NamespaceCipher,
  namespace: string,
  id: string,
  values: T,
  clocks: Stamps,
): Promise<T> {
  if (values.metadata === undefined) return values;
  const where = placeOf(cipher, namespace, 'link', id, clocks);
  const sealed = await cipher.encryptString(JSON.stringify(values.metadata), where('metadata'));
  return { ...values, metadata: { [ENCRYPTED_KEY]: sealed } };
}

export async function decryptLinkValues<T extends LinkValues>(
  cipher: NamespaceCipher,
  namespace: string,
  id: string,
  values: T,
  clocks: Stamps,
): Promise<T> {
  if (values.metadata === undefined) return values;
  const where = placeOf(cipher, namespace, 'link', id, clocks);
  return { ...values, metadata: await decryptMetadata(cipher, values.metadata, where('metadata')) };
}

/**
 * A whole record pulled from the edge must carry every sealed field a record always has (a memory's
 * content, tags and metadata; a link's metadata): one without is a value the edge dropped, which would
 * otherwise be taken for an empty one. It must also be of this namespace, which its sealed values are
 * bound to: one naming another would be kept under that name, and refused by the edge at its next push.
 */
export function assertWholeRecord(
  namespace: string,
  entity: 'memory' | 'link',
  record: { id: string; namespace: string; content?: unknown; tags?: unknown; metadata?: unknown },
): void {
  if (record.namespace !== namespace) {
    const where = `${namespace}/${entity}/${record.id}/namespace`;
    throw new EngramError(
      'VALIDATION',
      `${where}: expected ${JSON.stringify(namespace)}, got ${JSON.stringify(record.namespace)} (a record from the edge naming another namespace was altered)`,
      { field: where },
    );
  }
  const fields = entity === 'memory' ? (['content', 'tags', 'metadata'] as const) : (['metadata'] as const);
  for (const field of fields) {
    if (record[field] === undefined) {
      const where = `${namespace}/${entity}/${record.id}/${field}`;
      throw new EngramError(
        'VALIDATION',
        `${where}: expected an encrypted value, got none (a record from the edge without it was altered)`,
        { field: where },
      );
    }
  }
}

async function decryptMetadata(
  cipher: NamespaceCipher,
  metadata: { [k: string]: Json },
  where: string,
): Promise<{ [k: string]: Json }> {
  const sealed = metadata[ENCRYPTED_KEY];
  if (!isCiphertext(sealed) || Object.keys(metadata).length !== 1) throw notEncrypted(where);
  return JSON.parse(await cipher.decryptString(sealed, where));
}

async function encryptTags(cipher: NamespaceCipher, tags: string[], where: string): Promise<string[]> {
  const sealed = await cipher.encryptString(JSON.stringify(tags), where);
  const pieces: string[] = [];
  for (let i = 0; i < sealed.length; i += TAG_PIECE) {
    pieces.push(`${pieces.length.toString(36).padStart(2, '0')}~${sealed.slice(i, i + TAG_PIECE)}`);
  }
  if (pieces.length > LIMITS.tags) {
    throw new EngramError(
      'VALIDATION',
      `${where}: these tags are too long to encrypt (at most about 2.8 KB of tags in an encrypted namespace)`,
      { field: where },
    );
  }
  return pieces;
}

async function decryptTags(cipher: NamespaceCipher, pieces: string[], where: string): Promise<string[]> {
  const sealed = joinSealedTags(pieces);
  if (sealed === undefined) throw notEncrypted(where);
  return JSON.parse(await cipher.decryptString(sealed, where));
}

/** Three bytes a number, the byte count first, so trailing zero bytes survive. */
function packBytes(bytes: Uint8Array): number[] {
  const out = [bytes.length];
  for (let i = 0; i < bytes.length; i += 3) {
    out.push((bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0));
  }
  return out;
}

function notEncrypted(where: string): EngramError {
  return new EngramError(
    'VALIDATION',
    `${where}: expected an encrypted value in an encrypted namespace, got plaintext or a damaged value (was it written by a device without encryption?)`,
    { field: where },
  );
}
