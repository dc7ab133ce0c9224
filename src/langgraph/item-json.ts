import type { Json } from '../core/model.js';
import { isStorableJson, wellFormed } from '../core/validate.js';

/*
 * LangGraph accepts any JSON value, key and label; Engram's metadata and content refuse what not every
 * store can keep as is: NUL characters, lone surrogates (half an emoji), nesting past 32 levels. So an
 * item whose namespace, key or value holds one is kept as JSON text (`metadata.encoded`), which
 * JSON.stringify writes with those escaped: exact, and read back by JSON.parse. The content, only the
 * text Engram's own search sees, is made well-formed and cut at a code point boundary.
 */

/** The metadata fields for `fields`: as they are, or under `name` as JSON text when they can't be. */
export function metadataFields(fields: { [k: string]: Json }, name: string): { [k: string]: Json } {
  return isStorableJson(fields) ? fields : { [name]: JSON.stringify(fields) };
}

/** Content's cap here, in UTF-16 units (Engram's is 64 KiB of UTF-8: at most 3 bytes a unit). */
const CONTENT_UNITS = 16_000;

/** `text` as valid content: lone surrogates become U+FFFD, NUL a space, cut without splitting a pair. */
export function searchText(text: string): string {
  const clean = wellFormed(text).replaceAll('\u0000', ' ');
  if (clean.length <= CONTENT_UNITS) return clean;
  const last = clean.charCodeAt(CONTENT_UNITS - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? CONTENT_UNITS - 1 : CONTENT_UNITS;
  return clean.slice(0, end);
}
