import type { Json } from '../core/model.js';

/*
 * LangGraph accepts any JSON value, key and label; Engram's metadata and content refuse what not every
 * store can keep as is: NUL characters, lone surrogates (half an emoji), nesting past 32 levels. So an
 * item whose namespace, key or value holds one is kept as JSON text (`metadata.encoded`), which
 * JSON.stringify writes with those escaped: exact, and read back by JSON.parse. The content, only the
 * text Engram's own search sees, is made well-formed and cut at a code point boundary.
 */

/** Metadata nests values one level below its own; Engram allows 32 in all. */
const MAX_DEPTH = 30;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const unsafeText = (s: string) => s.includes('\u0000') || new RegExp(LONE_SURROGATE.source).test(s);

/** Whether Engram's metadata can hold `value` (plain JSON, as JSON.parse returns it) as is. */
export function storableAsMetadata(value: unknown, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false;
  if (typeof value === 'string') return !unsafeText(value);
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every((item) => storableAsMetadata(item, depth + 1));
  return Object.entries(value).every(
    ([key, item]) => !unsafeText(key) && storableAsMetadata(item, depth + 1),
  );
}

/** The metadata fields for `fields`: as they are, or under `name` as JSON text when they can't be. */
export function metadataFields(fields: { [k: string]: Json }, name: string): { [k: string]: Json } {
  return storableAsMetadata(fields) ? fields : { [name]: JSON.stringify(fields) };
}

/** Content's cap here, in UTF-16 units (Engram's is 64 KiB of UTF-8: at most 3 bytes a unit). */
const CONTENT_UNITS = 16_000;

/** `text` as valid content: lone surrogates become U+FFFD, NUL a space, cut without splitting a pair. */
export function searchText(text: string): string {
  const clean = text.replace(LONE_SURROGATE, '\ufffd').replaceAll('\u0000', ' ');
  if (clean.length <= CONTENT_UNITS) return clean;
  const last = clean.charCodeAt(CONTENT_UNITS - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? CONTENT_UNITS - 1 : CONTENT_UNITS;
  return clean.slice(0, end);
}
