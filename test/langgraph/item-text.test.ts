import { describe, expect, it } from 'vitest';
import { textsAt } from '../../src/langgraph/item-text.js';

// The reader InMemoryStore indexes with (store/utils.js); the package's exported getTextAtPath is an
// older, simpler one that InMemoryStore does not use.
const { getTextAtPath } = (await import(
  // @ts-expect-error: a file of the peer package, outside its exports map
  '../../node_modules/@langchain/langgraph-checkpoint/dist/store/utils.js'
)) as { getTextAtPath: (value: unknown, path: string) => string[] };

const values: unknown[] = [
  { a: null, b: 'two', c: 3, d: true, e: { f: 'deep', g: null }, h: [1, null, 'x', { i: 'j' }] },
  { a: [], b: {}, c: '', d: 0, e: false },
  { list: [{ t: 'one' }, { t: null }, { u: 'no t' }] },
  null,
  'plain',
  [null, { a: null }],
  // A field named '$': the path '$' is still the whole value.
  { $: 'dollar', b: 'bee' },
];
const paths = [
  '$',
  '$.b',
  '$.e.f',
  'a',
  'e.g',
  '{a,b}',
  '{a, e.g, c}',
  '{e.f,e.g}',
  'h[*]',
  'h[-1].i',
  'h[1]',
  '*',
  'list[*].t',
  'list[*].{t,u}',
  '{missing}',
  '[*].a',
  '[0]',
  '[*].{a}',
  '{b,}',
  '{}',
];

describe('LangGraph index paths read as LangGraph reads them', () => {
  it('gives the texts getTextAtPath gives, nulls inside braces included', () => {
    for (const value of values) {
      for (const path of paths) {
        expect(textsAt(value, path), `${JSON.stringify(value)} at ${path}`).toEqual(
          getTextAtPath(value, path),
        );
      }
    }
  });
});
