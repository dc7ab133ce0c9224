/**
 * The seed of a randomized test: fixed in CI so that a run is repeatable; `<variable>=random` or
 * `<variable>=<whole number>` explores others. Spread into fast-check's parameters (`{}` lets it draw
 * one and print it on failure).
 */
export function propertySeed(variable: string, fixed: number): { seed?: number } {
  const value = process.env[variable];
  if (value === 'random') return {};
  const seed = Number(value ?? fixed);
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`${variable}: expected "random" or a whole number, got ${JSON.stringify(value)}`);
  }
  return { seed };
}
