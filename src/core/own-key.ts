/**
 * Sets `key` on `target` as an own data property, whatever its name. Plain assignment of `__proto__`
 * sets the object's prototype instead (a JSON key "__proto__" would vanish, or a filter on it be
 * dropped); JSON.parse and structuredClone keep such a key as data, and so does this.
 */
export function setOwnKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else target[key] = value;
}
