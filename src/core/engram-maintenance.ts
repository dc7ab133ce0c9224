import { noOptions } from './call-arguments.js';
import type { MemoryEvents } from './engram-options.js';
import { errorMessage } from './errors.js';
import type { HybridLogicalClock } from './hlc.js';
import {
  Maintenance,
  type MaintenanceOptions,
  type MaintenanceResult,
  maintenanceOptions,
} from './maintenance.js';
import type { MemoryStore } from './store-contract.js';

/** What an Engram's maintenance needs of it: its store, clock and time, and where to warn. */
export interface MaintenanceHost {
  readonly store: MemoryStore;
  readonly namespace: string;
  readonly clock: HybridLogicalClock;
  readonly now: () => number;
  warn(code: MemoryEvents['warning']['code'], message: string): void;
}

/**
 * An Engram's maintenance: started by createMemory, else made with the default options at the first
 * `maintain()` (the edge's request façades), whose caller then hears its failures.
 */
export class EngramMaintenance {
  private maintenance: Maintenance | undefined;

  constructor(private readonly host: MaintenanceHost) {}

  /** See Engram.startMaintenance. */
  start(options: Required<MaintenanceOptions>): void {
    this.maintenance = new Maintenance(
      this.host.store,
      this.host.namespace,
      this.host.now,
      options,
      (error) => this.host.warn('MAINTENANCE_FAILED', errorMessage(error)),
      this.host.clock.node,
    );
    this.maintenance.maybeRun();
  }

  /** See Engram.maintain; the caller has checked the memory is open. */
  run(rest: unknown[]): Promise<MaintenanceResult> {
    // A horizon passed here by mistake (`maintain({ tombstoneHorizonMs })`) must not look applied.
    noOptions(
      rest,
      'maintain',
      "no arguments (the horizon and interval are createMemory's maintenance options)",
    );
    this.maintenance ??= new Maintenance(
      this.host.store,
      this.host.namespace,
      this.host.now,
      maintenanceOptions(undefined),
      () => {},
      this.host.clock.node,
    );
    return this.maintenance.run();
  }

  /** After a write: a background run when one is due (none before start or run). */
  maybeRun(): void {
    this.maintenance?.maybeRun();
  }
}
