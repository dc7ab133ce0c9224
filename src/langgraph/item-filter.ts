const OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin']);

function isOperatorObject(condition: unknown): condition is Record<string, unknown> {
  return (
    typeof condition === 'object' &&
    condition !== null &&
    Object.keys(condition).every((k) => OPERATORS.has(k))
  );
}

/**
 * LangGraph's search `filter`: each top-level key of the value must equal the condition, or pass every
 * operator in it (`$eq $ne $gt $gte $lt $lte $in $nin`). Comparisons are strict equality and numeric
 * order, as in LangGraph's own stores, so the same filter selects the same items here and there.
 */
export function matchesItemFilter(value: Record<string, unknown>, filter: Record<string, unknown>): boolean {
  return Object.entries(filter).every(([key, condition]) => matches(value[key], condition));
}

function matches(actual: unknown, condition: unknown): boolean {
  if (!isOperatorObject(condition)) return actual === condition;
  return Object.entries(condition).every(([op, expected]) => {
    switch (op) {
      case '$eq':
        return actual === expected;
      case '$ne':
        return actual !== expected;
      case '$gt':
        return Number(actual) > Number(expected);
      case '$gte':
        return Number(actual) >= Number(expected);
      case '$lt':
        return Number(actual) < Number(expected);
      case '$lte':
        return Number(actual) <= Number(expected);
      case '$in':
        return Array.isArray(expected) && expected.includes(actual);
      default:
        return Array.isArray(expected) ? !expected.includes(actual) : true;
    }
  });
}
