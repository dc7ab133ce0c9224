/**
 * The texts of a value at a LangGraph index path, as LangGraph's stores read them: `$` is the whole value
 * as indented JSON; `a.b` walks fields; `[0]`, `[-1]` and `[*]` pick array items; `{a,b}` several
 * fields; `*` every value of an object or array. A leaf string, number or boolean is its text; an
 * object or array is its indented JSON. The peer package keeps its own reader internal, so this is ours.
 */
export function textsAt(value: unknown, path: string): string[] {
  if (!path || path === '$') return [JSON.stringify(value, null, 2)];
  return walk(value, splitPath(path), 0);
}

function leafText(value: unknown): string[] {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return [String(value)];
  if (value !== null && typeof value === 'object') return [JSON.stringify(value, null, 2)];
  return [];
}

function walk(value: unknown, tokens: string[], at: number): string[] {
  if (at >= tokens.length) return leafText(value);
  const token = tokens[at]!;
  const out: string[] = [];
  if (at === 0 && token === '$') out.push(JSON.stringify(value, null, 2));
  if (token.startsWith('[') && token.endsWith(']')) {
    if (!Array.isArray(value)) return [];
    const index = token.slice(1, -1);
    if (index === '*') {
      for (const item of value) out.push(...walk(item, tokens, at + 1));
    } else {
      let i = Number.parseInt(index, 10);
      if (i < 0) i += value.length;
      if (i >= 0 && i < value.length) out.push(...walk(value[i], tokens, at + 1));
    }
  } else if (token.startsWith('{') && token.endsWith('}')) {
    if (value === null || typeof value !== 'object') return [];
    for (const field of token.slice(1, -1).split(',')) {
      const found = follow(value, splitPath(field.trim()));
      // LangGraph's reader gives a null field inside braces as the text "null" (a leaf null: none).
      if (found === null) out.push('null');
      else if (found !== undefined) out.push(...leafText(found));
    }
  } else if (token === '*') {
    if (value !== null && typeof value === 'object')
      for (const item of Object.values(value)) out.push(...walk(item, tokens, at + 1));
  } else if (value !== null && typeof value === 'object' && token in value) {
    out.push(...walk((value as Record<string, unknown>)[token], tokens, at + 1));
  }
  return out;
}

/** Plain field steps inside `{...}`; undefined when a step is missing. */
function follow(value: unknown, steps: string[]): unknown {
  if (steps.length === 0) return undefined;
  let current = value;
  for (const step of steps) {
    if (current === null || typeof current !== 'object' || !(step in current)) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/** `a.b[0].{c,d}` -> `a`, `b`, `[0]`, `{c,d}`: brackets and braces kept whole, nesting included. */
export function splitPath(path: string): string[] {
  const tokens: string[] = [];
  let word = '';
  const flush = () => {
    if (word) tokens.push(word);
    word = '';
  };
  for (let i = 0; i < path.length; ) {
    const ch = path[i]!;
    if (ch === '[' || ch === '{') {
      flush();
      const close = ch === '[' ? ']' : '}';
      let depth = 1;
      let group = ch;
      i++;
      while (i < path.length && depth > 0) {
        if (path[i] === ch) depth++;
        else if (path[i] === close) depth--;
        group += path[i];
        i++;
      }
      tokens.push(group);
      continue;
    }
    if (ch === '.') flush();
    else word += ch;
    i++;
  }
  flush();
  return tokens;
}
