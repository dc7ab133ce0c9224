import { describe, expect, it } from 'vitest';
import { probeRecords } from '../../src/cli/doctor-probe.js';
import { createMemory, type Engram, type Memory } from '../../src/index.js';

// The probe's own judgement, on a memory that misbehaves in one way each: the table must say which step
// went wrong, and the records must be gone afterwards all the same.
const rows = (steps: Awaited<ReturnType<typeof probeRecords>>) =>
  Object.fromEntries(steps.map((s) => [s.name, `${s.ok}/${s.total}`]));
/** The whole table when every step after the write passes: `write` as given, one list, `each` for the rest. */
const table = (write: string, each: string) => ({
  write,
  read: each,
  list: '1/1',
  search: each,
  delete: each,
  gone: each,
});

async function probed(misbehave: (mem: Engram) => void, count = 2) {
  const mem = await createMemory({ namespace: 'ops' });
  await mem.add({ id: 'other', content: 'a record the probe did not write' });
  misbehave(mem);
  const steps = await probeRecords(mem, count, new AbortController().signal);
  const left = (await mem.list({ history: true })).items.map((m) => m.id);
  return { steps, rows: rows(steps), left };
}

describe("engram doctor's probe", () => {
  it('passes every step on a memory that behaves', async () => {
    const { rows: got, left } = await probed(() => {});
    expect(got).toEqual(table('2/2', '2/2'));
    expect(left).toEqual(['other']);
  });

  it('fails read when the metadata comes back different', async () => {
    const { steps, rows: got } = await probed((mem) => {
      const get = mem.get.bind(mem);
      mem.get = async (id) => {
        const m = await get(id);
        return m && { ...m, metadata: { ...m.metadata, extra: true } };
      };
    });
    expect(got.read).toBe('0/2');
    expect(steps.find((s) => s.name === 'read')!.problems[0]).toMatch(/differs$/);
  });

  it.each([
    ['content', (m: Memory): Memory => ({ ...m, content: `${m.content}!` })],
    ['tags', (m: Memory): Memory => ({ ...m, tags: [] })],
  ])('fails read when a record comes back with other %s', async (_, alter) => {
    const { rows: got } = await probed((mem) => {
      const get = mem.get.bind(mem);
      mem.get = async (id) => {
        const m = await get(id);
        return m && alter(m);
      };
    });
    expect(got.read).toBe('0/2');
  });

  it('checks only what was written: a refused write leaves its record out of every later step', async () => {
    const { rows: got, left } = await probed((mem) => {
      const add = mem.add.bind(mem);
      mem.add = async (input) => {
        if (input.id?.endsWith('-1')) throw new Error('write refused');
        return add(input);
      };
    });
    expect(got).toEqual(table('1/2', '1/1'));
    expect(left).toEqual(['other']);
  });

  it('fails delete when a record was not there to delete', async () => {
    const { steps, rows: got } = await probed((mem) => {
      const remove = mem.remove.bind(mem);
      mem.remove = async (id) => {
        await remove(id);
        return false;
      };
    });
    expect(got.delete).toBe('0/2');
    expect(steps.find((s) => s.name === 'delete')!.problems[0]).toMatch(/was not there to delete$/);
  });

  it('fails list when it gives more records than were written', async () => {
    const { steps, rows: got } = await probed((mem) => {
      const list = mem.list.bind(mem);
      mem.list = async (options) => {
        const page = await list(options);
        return { ...page, items: [...page.items, ...(await list({})).items] };
      };
    });
    expect(got.list).toBe('0/1');
    expect(steps.find((s) => s.name === 'list')!.problems).toEqual(['listed 3 of 2']);
  });

  it('fails search when the record is found but not first', async () => {
    const { rows: got } = await probed((mem) => {
      const search = mem.search.bind(mem);
      mem.search = async (query, options) => {
        const hits = await search(query, options);
        const other = (await search('record', { limit: 1 }))[0]!;
        return [other, ...hits];
      };
    });
    expect(got.search).toBe('0/2');
  });

  it('fails gone when a deleted record can still be read, and still removes what it wrote', async () => {
    const { steps, rows: got } = await probed((mem) => {
      const get = mem.get.bind(mem);
      const remove = mem.remove.bind(mem);
      const removed = new Map<string, Awaited<ReturnType<Engram['get']>>>();
      mem.remove = async (id) => {
        removed.set(id, await get(id));
        return remove(id);
      };
      mem.get = async (id) => (await get(id)) ?? removed.get(id) ?? null;
    });
    expect(got.delete).toBe('2/2');
    expect(got.gone).toBe('0/2');
    expect(steps.find((s) => s.name === 'gone')!.problems[0]).toMatch(/still readable after delete$/);
  });

  it('stops on an interrupt, removing the records written so far', async () => {
    const mem = await createMemory({ namespace: 'ops' });
    const stop = new AbortController();
    const add = mem.add.bind(mem);
    mem.add = async (input) => {
      const made = await add(input);
      stop.abort('SIGINT');
      return made;
    };
    await expect(probeRecords(mem, 3, stop.signal)).rejects.toThrow(
      'interrupted by SIGINT; test records removed',
    );
    expect((await mem.list({ history: true })).items).toEqual([]);
  });
});
