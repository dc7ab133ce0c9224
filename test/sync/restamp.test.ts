import { describe, expect, it } from 'vitest';
import { ceilingStamp, formatHlc, HybridLogicalClock } from '../../src/core/hlc.js';
import type { MemoryWrite } from '../../src/core/store-contract.js';
import {
  restampAhead,
  restampBehind,
  restampFuture,
  restampStale,
  STALE_AHEAD_MS,
} from '../../src/core/sync/restamp.js';

// Edits made before a session heard the edge, on a device clock that ran ahead, carry stamps past the
// edge's bound. Before the push each moves back by the offset learned since, to about the true time of
// the edit (docs/sync.md, rule 3), so an edit made later elsewhere still wins over it; only what the
// offset cannot bring within the bound takes the time of now.
const NOW = Date.UTC(2031, 4, 1);
const AHEAD = 2 * 3_600_000;
const CEILING = ceilingStamp(NOW + 61_000);

function write(stampMs: number, createdMs: number): MemoryWrite {
  const stamp = formatHlc({ wallMs: stampMs, counter: 3, node: 'device.0a1b2c3d' });
  return {
    id: 'm',
    create: { namespace: 'ns', createdAt: new Date(createdMs).toISOString() },
    values: { content: 'written offline' },
    clocks: { content: stamp },
  };
}

function restamp(written: MemoryWrite) {
  const clock = new HybridLogicalClock('device.0a1b2c3d', () => NOW);
  const fixed = restampFuture({ memories: [written], links: [], tombstones: [] }, CEILING, -AHEAD, clock);
  return fixed?.memories[0];
}

describe('stamps from a clock that ran ahead, moved before the push', () => {
  it('move back by the offset, keeping counter and node, and the createdAt with them', () => {
    // Made ten minutes ago by the true clock, on a device two hours ahead.
    const made = NOW - 600_000 + AHEAD;
    const fixed = restamp(write(made, made));
    expect(fixed?.clocks.content).toBe(
      formatHlc({ wallMs: NOW - 600_000, counter: 3, node: 'device.0a1b2c3d' }),
    );
    expect(fixed?.create?.createdAt).toBe(new Date(NOW - 600_000).toISOString());
  });

  it('a createdAt ahead moves back though every stamp of its write is within the bound', () => {
    // Created while the clock ran ahead; every field edited again since, once it ran right.
    const created = NOW - 600_000 + AHEAD;
    const fixed = restamp(write(NOW - 60_000, created));
    expect(fixed?.create?.createdAt).toBe(new Date(NOW - 600_000).toISOString());
    expect(fixed?.clocks.content).toBe(
      formatHlc({ wallMs: NOW - 60_000, counter: 3, node: 'device.0a1b2c3d' }),
    );
  });

  it('a createdAt a millisecond past the bound moves back; one at the bound stays', () => {
    const bound = NOW + 61_000;
    expect(restamp(write(NOW - 60_000, bound + 1))?.create?.createdAt).toBe(
      new Date(bound + 1 - AHEAD).toISOString(),
    );
    expect(restamp(write(NOW - 60_000, bound))).toBeUndefined();
  });

  it('a createdAt the offset cannot bring within the bound takes the time of now', () => {
    // Created while the device clock ran five hours ahead; by the first answer it runs two hours ahead.
    const created = NOW + 5 * 3_600_000;
    const fixed = restamp(write(NOW - 600_000 + AHEAD, created));
    expect(fixed?.create?.createdAt).toBe(new Date(NOW).toISOString());
  });
});

describe('stamps from a clock found ahead within the bound, moved back', () => {
  it('never to or below the clock at the last round, whatever the counters', () => {
    // The last round ended with the clock at a pulled stamp of counter 5; an edit of this session, 10 s
    // later on a clock found 60 s ahead, would move to 50 s before that round: it lands just after it,
    // and still wins over what it wrote over.
    const after = formatHlc({ wallMs: NOW, counter: 5, node: 'other' });
    const own = formatHlc({ wallMs: NOW + 10_000, counter: 0, node: 'device.0a1b2c3d' });
    const clock = new HybridLogicalClock('device.0a1b2c3d', () => NOW);
    const window = {
      after,
      upTo: formatHlc({ wallMs: NOW + 20_000, counter: 0, node: 'device.0a1b2c3d' }),
      deltaMs: -60_000,
      moved: new Set<string>(),
    };
    const edit: MemoryWrite = { id: 'm', values: { content: 'edited' }, clocks: { content: own } };
    const moved = restampAhead({ memories: [edit], links: [], tombstones: [] }, window, clock);
    const stamp = moved?.memories[0]?.clocks.content;
    expect(stamp).toBe(formatHlc({ wallMs: NOW + 1, counter: 0, node: 'device.0a1b2c3d' }));
    expect(stamp! > after).toBe(true);
  });
  it('a creation stamped at the very clock the edge was first heard at moves back with its createdAt', () => {
    const upTo = formatHlc({ wallMs: NOW + 20_000, counter: 2, node: 'device.0a1b2c3d' });
    const clock = new HybridLogicalClock('device.0a1b2c3d', () => NOW);
    const window = { after: undefined, upTo, deltaMs: -60_000, moved: new Set<string>() };
    const created: MemoryWrite = {
      id: 'm',
      create: { namespace: 'ns', createdAt: new Date(NOW + 20_000).toISOString() },
      values: { content: 'made as the answer came' },
      clocks: { content: upTo },
    };
    const moved = restampAhead({ memories: [created], links: [], tombstones: [] }, window, clock)
      ?.memories[0];
    expect(moved?.clocks.content).toBe(
      formatHlc({ wallMs: NOW - 40_000, counter: 2, node: 'device.0a1b2c3d' }),
    );
    expect(moved?.create?.createdAt).toBe(new Date(NOW - 40_000).toISOString());
  });
});

describe('stamps from a clock found behind, moved forward', () => {
  const HOUR = 3_600_000;
  const node = 'device.0a1b2c3d';
  // The session's first answer found the device an hour behind; its clock then stood at NOW - 1 h.
  const behindWindow = () => ({
    after: undefined,
    upTo: formatHlc({ wallMs: NOW - HOUR, counter: 0, node }),
    deltaMs: HOUR,
    moved: new Set<string>(),
  });
  const edit = (wallMs: number): MemoryWrite => ({
    id: 'm',
    values: { content: 'edited' },
    clocks: { content: formatHlc({ wallMs, counter: 0, node }) },
  });
  const outgoing = (write: MemoryWrite) => ({ memories: [write], links: [], tombstones: [] });

  it('each record once: rewritten with its moved stamps, it comes back through the outbox and stays', () => {
    const clock = new HybridLogicalClock(node, () => NOW);
    const window = behindWindow();
    // Made two hours ago by the true clock, stamped three hours ago.
    const moved = restampBehind(outgoing(edit(NOW - 3 * HOUR)), window, clock)?.memories[0];
    expect(moved?.clocks.content).toBe(formatHlc({ wallMs: NOW - 2 * HOUR, counter: 0, node }));
    expect(restampBehind(outgoing(moved!), window, clock)).toBeUndefined();
  });

  it('one that lands exactly at now keeps its node and counter: only one past now takes a fresh stamp', () => {
    const clock = new HybridLogicalClock(node, () => NOW);
    const window = { ...behindWindow(), upTo: formatHlc({ wallMs: NOW - HOUR, counter: 9, node }) };
    const earlier = 'device.11223344';
    const stamped: MemoryWrite = {
      id: 'm',
      values: { content: 'edited' },
      clocks: { content: formatHlc({ wallMs: NOW - HOUR, counter: 4, node: earlier }) },
    };
    const moved = restampBehind(outgoing(stamped), window, clock)?.memories[0];
    expect(moved?.clocks.content).toBe(formatHlc({ wallMs: NOW, counter: 4, node: earlier }));
  });

  it('a stamp issued after the first answer, in the edge’s time, stays', () => {
    const clock = new HybridLogicalClock(node, () => NOW);
    expect(restampBehind(outgoing(edit(NOW - 600_000)), behindWindow(), clock)).toBeUndefined();
  });
});

describe('stamps later than now, moved back at the first answer', () => {
  it('only this replica’s: a pulled edit of a replica whose clock runs ahead within the bound stays', () => {
    const node = 'device.0a1b2c3d';
    const clock = new HybridLogicalClock(node, () => NOW);
    const ahead = (who: string) => formatHlc({ wallMs: NOW + 30_000, counter: 0, node: who });
    const write = (id: string, who: string): MemoryWrite => ({
      id,
      values: { content: 'edited' },
      clocks: { content: ahead(who) },
    });
    const window = { after: undefined, moved: new Set<string>() };
    const outgoing = {
      memories: [write('theirs', 'other.99887766'), write('mine', 'device.11223344')],
      links: [],
      tombstones: [],
    };
    const moved = restampStale(outgoing, window, clock);
    // Its own earlier session's stamp moves back to now; the other replica's is not its to move.
    expect(moved?.memories.map((w) => [w.id, w.clocks.content])).toEqual([
      ['mine', formatHlc({ wallMs: NOW, counter: 0, node: 'device.11223344' })],
    ]);
  });

  it('a createdAt moves with them only when it is later than now by more than the slack, as a stamp', () => {
    const node = 'device.0a1b2c3d';
    const clock = new HybridLogicalClock(node, () => NOW);
    const at = (ms: number) => formatHlc({ wallMs: ms, counter: 0, node });
    const created = (createdMs: number): MemoryWrite => ({
      id: 'm',
      create: { namespace: 'ns', createdAt: new Date(createdMs).toISOString() },
      values: { content: 'made', tags: ['edited'] },
      clocks: { content: at(createdMs), tags: at(NOW + 5_000) },
    });
    const movedBack = (createdMs: number) =>
      restampStale(
        { memories: [created(createdMs)], links: [], tombstones: [] },
        { after: undefined, moved: new Set<string>() },
        clock,
      )?.memories[0];
    // At the slack: neither the creation's stamp nor its createdAt moves, only the later edit (to now).
    const atSlack = movedBack(NOW + STALE_AHEAD_MS);
    expect(atSlack?.clocks).toEqual({ tags: at(NOW) });
    expect(atSlack?.create).toBeUndefined();
    // A millisecond past it, both move back by as much as the latest stamp does.
    const past = movedBack(NOW + STALE_AHEAD_MS + 1);
    expect(past?.clocks).toEqual({ content: at(NOW + STALE_AHEAD_MS + 1 - 5_000), tags: at(NOW) });
    expect(past?.create?.createdAt).toBe(new Date(NOW + STALE_AHEAD_MS + 1 - 5_000).toISOString());
  });

  it('not those it held at the last round: a stamp at or below that round’s clock was pushed then', () => {
    // The last round ended with the clock 40 s ahead of now (the device clock was set back since).
    const node = 'device.0a1b2c3d';
    const clock = new HybridLogicalClock(node, () => NOW);
    const window = { after: formatHlc({ wallMs: NOW + 40_000, counter: 0, node }), moved: new Set<string>() };
    const pushed: MemoryWrite = {
      id: 'm',
      values: { content: 'pushed at the last round' },
      clocks: { content: formatHlc({ wallMs: NOW + 30_000, counter: 0, node }) },
    };
    expect(restampStale({ memories: [pushed], links: [], tombstones: [] }, window, clock)).toBeUndefined();
  });
});
