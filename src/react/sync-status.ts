import type { Engram } from '../core/engram.js';
import type { SyncStatus } from '../core/sync/engine.js';

/** `mem.status` is a fresh object per read; React needs one object per distinct status. */
export class StatusSnapshot {
  private last: SyncStatus;
  private lastJson: string;

  constructor(private readonly mem: Engram) {
    this.last = mem.status;
    this.lastJson = JSON.stringify(this.last);
  }

  readonly subscribe = (onChange: () => void): (() => void) => this.mem.on('status', onChange);

  readonly getSnapshot = (): SyncStatus => {
    const status = this.mem.status;
    const json = JSON.stringify(status);
    if (json !== this.lastJson) {
      this.last = status;
      this.lastJson = json;
    }
    return this.last;
  };
}
