import { canonicalJson } from '../core/canonical-json.js';
import type { Engram } from '../core/engram.js';
import { errorMessage, isEngramError } from '../core/errors.js';
import type { Memory, MemoryInput } from '../core/model.js';
import { newStep, problem, type StepResult } from './doctor-report.js';
import { Interrupted, SetupError } from './io.js';

/**
 * Writes `count` records one request at a time, reads them back, lists them, finds each by a word only
 * it contains, deletes them and checks they are gone, timing every request. Whatever was written is
 * deleted at the end even when a step fails. A refused token is a SetupError (exit 2), not a finding.
 */
export async function probeRecords(mem: Engram, count: number, stop: AbortSignal): Promise<StepResult[]> {
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const tag = `engram-doctor-${run}`;
  const word = (i: number) => `probe${run}x${i}`;
  const inputs: Array<MemoryInput & { id: string }> = Array.from({ length: count }, (_, i) => ({
    id: `engram-doctor-${run}-${i}`,
    content: `Engram doctor record ${word(i)}, deleted when the check ends`,
    kind: 'doctor',
    tags: [tag],
    metadata: { run, index: i },
  }));
  const [write, read, list, search, remove, gone] = ['write', 'read', 'list', 'search', 'delete', 'gone'].map(
    newStep,
  ) as [StepResult, StepResult, StepResult, StepResult, StepResult, StepResult];
  const written = new Set<string>();
  const check = (step: StepResult, ok: boolean, text: string) => (ok ? step.ok++ : problem(step, text));
  const each = async <T>(step: StepResult, items: readonly T[], op: (item: T) => Promise<void>) => {
    for (const item of items) {
      if (stop.aborted) throw new Interrupted(`interrupted by ${String(stop.reason)}; test records removed`);
      await timed(step, () => op(item));
    }
  };

  try {
    await each(write, inputs, async (input) => {
      await mem.add(input);
      written.add(input.id);
      write.ok++;
    });
    // Only what was written is read, listed, searched and deleted.
    const present = inputs.filter((input) => written.has(input.id));
    await each(read, present, async (input) => {
      const got = await mem.get(input.id);
      check(read, got !== null && sameRecord(got, input), `${input.id} ${got ? 'differs' : 'is missing'}`);
    });
    await each(list, [tag], async () => {
      const { items } = await mem.list({ tags: [tag], limit: Math.max(present.length, 1) });
      const ids = new Set(items.map((m) => m.id));
      check(
        list,
        ids.size === present.length && present.every((input) => ids.has(input.id)),
        `listed ${ids.size} of ${present.length}`,
      );
    });
    await each(search, present, async (input) => {
      const hits = await mem.search(word(inputs.indexOf(input)), { limit: 3 });
      check(search, hits[0]?.memory.id === input.id, `${input.id} not found by its word`);
    });
    await each(remove, present, async (input) => {
      const removed = await mem.remove(input.id);
      written.delete(input.id);
      check(remove, removed, `${input.id} was not there to delete`);
    });
    const deleted = present.filter((input) => !written.has(input.id));
    await each(gone, deleted, async (input) => {
      check(gone, (await mem.get(input.id)) === null, `${input.id} still readable after delete`);
    });
  } finally {
    for (const id of written) await mem.remove(id).catch(() => {});
  }
  return [write, read, list, search, remove, gone];
}

function sameRecord(got: Memory, input: MemoryInput): boolean {
  const shape = (m: MemoryInput) => canonicalJson([m.content, m.kind, m.tags, m.metadata]);
  return shape(got) === shape(input);
}

/** Times one request; a failure is recorded against the step, except a refused token, which ends the run. */
export async function timed(step: StepResult, op: () => Promise<void>): Promise<void> {
  step.total++;
  const started = performance.now();
  try {
    await op();
  } catch (error) {
    if (isEngramError(error, 'UNAUTHORIZED') || isEngramError(error, 'FORBIDDEN')) {
      throw new SetupError(`misconfigured: the server refused the token: ${error.message}`);
    }
    problem(step, errorMessage(error));
  } finally {
    step.samples.push(performance.now() - started);
  }
}
