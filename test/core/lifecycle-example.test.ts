import { describe, expect, it } from 'vitest';
import { createMemory, EngramError } from '../../src/index.js';

/** The worked example of docs/lifecycle.md, line for line. */
describe('docs/lifecycle.md: a user who moves twice', () => {
  it('answers "where" now, as of past dates, and with history', async () => {
    const mem = await createMemory({ namespace: 'user-42' });
    const berlin = await mem.add({
      content: 'The user lives in Berlin',
      kind: 'fact',
      validFrom: '2019-03-01T00:00:00Z',
    });
    const paris = await mem.supersede(berlin.id, {
      content: 'The user lives in Paris',
      kind: 'fact',
      validFrom: '2022-09-01T00:00:00Z',
    });
    const lisbon = await mem.supersede(paris.id, {
      content: 'The user lives in Lisbon',
      kind: 'fact',
      validFrom: '2025-01-15T00:00:00Z',
    });

    expect((await mem.search('where does the user live')).map((h) => h.memory.content)).toEqual([
      'The user lives in Lisbon',
    ]);
    expect(
      (await mem.search('user lives', { asOf: '2020-06-01T00:00:00Z' })).map((h) => h.memory.content),
    ).toEqual(['The user lives in Berlin']);
    expect((await mem.list({ asOf: '2023-01-01T00:00:00Z' })).items.map((m) => m.content)).toEqual([
      'The user lives in Paris',
    ]);
    expect((await mem.list({ asOf: '2018-01-01T00:00:00Z' })).items).toEqual([]);
    expect((await mem.list({ history: true })).items.map((m) => [m.content, m.validFrom, m.validTo])).toEqual(
      [
        ['The user lives in Lisbon', '2025-01-15T00:00:00.000Z', undefined],
        ['The user lives in Paris', '2022-09-01T00:00:00.000Z', '2025-01-15T00:00:00.000Z'],
        ['The user lives in Berlin', '2019-03-01T00:00:00.000Z', '2022-09-01T00:00:00.000Z'],
      ],
    );
    expect((await mem.path(lisbon.id, berlin.id, { type: 'supersedes' }))?.map((m) => m.id)).toEqual([
      lisbon.id,
      paris.id,
      berlin.id,
    ]);
    const error = await mem
      .supersede(paris.id, { content: 'The user lives in Rome' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngramError);
    expect(error).toMatchObject({ code: 'CONFLICT', field: 'supersede.oldId' });
  });
});
