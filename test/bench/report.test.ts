import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../bench/report.mjs';

const context = {
  date: '2026-12-07',
  commit: 'abc1234',
  machine: 'a CPU (2 cores, 24 GiB), Linux',
  cores: 2,
  node: 'v20.20.2',
  postgres: '15.20',
  modules: ['memory', 'sqljs'],
  seconds: 250.4,
  load: [1.2, 1.8],
  settings: [],
};

describe('the bench report', () => {
  it('says what each part of the run took, in the order they ran', () => {
    const took: Array<[string, number]> = [
      ['the fills run first (prepare)', 12.4],
      ['memory', 61.2],
      ['sqljs', 176.8],
    ];
    const text: string = renderMarkdown([], { ...context, took });
    expect(text).toContain(
      'The benchmarks took 250 s after the build (modules: memory, sqljs), of which the fills run first (prepare) 12 s, memory 61 s, sqljs 177 s; the',
    );
  });

  it('leaves the parts out when the run did not time them', () => {
    const text: string = renderMarkdown([], context);
    expect(text).toContain('The benchmarks took 250 s after the build (modules: memory, sqljs); the');
  });
});
