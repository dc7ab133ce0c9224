import type { EncryptionOptions } from './crypto/cipher.js';
import type { EncryptingTransport } from './crypto/encrypting-transport.js';
import type { SyncOptions } from './engram-options.js';
import { EngramError } from './errors.js';
import type { HybridLogicalClock } from './hlc.js';
import type { MemoryStore } from './store-contract.js';
import { ClockOffset } from './sync/clock-offset.js';
import type { RejectedChange } from './sync/quarantine.js';
import type { Replication } from './sync/replica.js';
import type { SyncTransport } from './sync/transport.js';
import type { Language } from './text/index.js';
import { encryptionSchema, parse } from './validate.js';

/** What an Engram's sync needs of it: its store and clock, and where to report what sync did. */
export interface SyncHost {
  readonly store: MemoryStore;
  readonly namespace: string;
  readonly language: Language | undefined;
  readonly clock: HybridLogicalClock;
  readonly now: () => number;
  onStatus(): void;
  onPulled(ids: string[]): void;
  onRejected(change: RejectedChange): void;
}

/**
 * An Engram's replication and its end-to-end encryption, apart from the façade: the engine is loaded on
 * demand, so apps that never sync do not ship it.
 */
export class EngramSync {
  replication: Replication | undefined;
  private sealing: EncryptingTransport | undefined;
  /** Whether sync seals (`encryption`): `sealing` exists only once this tab's engine is made (it leads). */
  private sealed = false;

  constructor(private readonly host: SyncHost) {}

  /** See Engram.startSync. */
  async start(options: SyncOptions, offset?: ClockOffset, encryption?: EncryptionOptions): Promise<void> {
    let seal: ((inner: SyncTransport) => SyncTransport) | undefined;
    if (encryption) {
      // Loaded only by apps that encrypt; a wrong key or passphrase throws here, before any record is sent.
      const [{ EncryptingTransport }, { createHttpTransport }] = await Promise.all([
        import('./crypto/encrypting-transport.js'),
        import('./sync/transport.js'),
      ]);
      // The edge is asked for the namespace's key info only if the local one does not open (rekeyed elsewhere?).
      const edge = createHttpTransport({ ...options, namespace: this.host.namespace });
      const sealed = await EncryptingTransport.prepare(
        this.host.store,
        this.host.namespace,
        encryption,
        edge,
      );
      this.sealed = true;
      seal = (inner) => {
        this.sealing = sealed(inner);
        return this.sealing;
      };
    }
    const { startReplication } = await import('./sync/replica.js');
    this.replication = await startReplication({
      store: this.host.store,
      namespace: this.host.namespace,
      language: this.host.language,
      clock: this.host.clock,
      offset: offset ?? new ClockOffset(this.host.now),
      sync: options,
      seal,
      onStatus: () => this.host.onStatus(),
      onPulled: (ids) => this.host.onPulled(ids),
      onRejected: (change) => this.host.onRejected(change),
    });
  }

  /** See Engram.rekey; the caller has checked the memory is open. */
  async rekey(next: EncryptionOptions): Promise<{ records: number }> {
    const encryption = parse(encryptionSchema, next, 'rekey');
    if (this.sealed && !this.sealing) {
      throw new EngramError(
        'CONFLICT',
        'rekey: another tab syncs this namespace and this one follows it: call rekey in that tab, or here once the others are closed',
        { field: 'rekey' },
      );
    }
    if (!this.sealing || !this.replication) {
      throw new EngramError(
        'VALIDATION',
        'rekey: this memory is not end-to-end encrypted (pass encryption and sync)',
        {
          field: 'rekey',
        },
      );
    }
    await this.replication.sync();
    await this.sealing.rotate(encryption);
    // What another device pushed under the old key between that sync and the rotation: pulled now (and
    // opened with the old key), so that it is re-sealed below with the rest instead of stranded.
    await this.replication.sync();
    const { restampSealedFields } = await import('./crypto/rekey.js');
    const records = await restampSealedFields(this.host.store, this.host.namespace, this.host.clock);
    this.sealing.takeOpenedUnderPrevious(); // re-stamped just now with the rest
    await this.replication.sync();
    // A push the edge checked before the rotation but stored after it may come in that last pull: re-seal it
    // too (a few rounds at most: after the rotation the edge takes nothing new under the old key).
    for (let round = 0; round < 3; round++) {
      const stray = this.sealing.takeOpenedUnderPrevious();
      if (stray.length === 0) break;
      await restampSealedFields(this.host.store, this.host.namespace, this.host.clock, stray);
      await this.replication.sync();
    }
    this.sealing.forgetPreviousKey();
    return { records };
  }
}
