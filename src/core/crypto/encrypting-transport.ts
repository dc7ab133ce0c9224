import { EngramError, isEngramError } from '../errors.js';
import type { Json } from '../model.js';
import type { LinkRecord, MemoryRecord, MemoryStore } from '../store-contract.js';
import type { SyncRequest, SyncResponse } from '../sync/protocol.js';
import type { SyncTransport } from '../sync/transport.js';
import {
  type EncryptionOptions,
  isOtherKeyError,
  type KeyInfo,
  NamespaceCipher,
  SEALING_VERSION,
} from './cipher.js';
import {
  assertWholeRecord,
  decryptLinkValues,
  decryptMemoryValues,
  ENCRYPTED_KEY,
  encryptLinkValues,
  encryptMemoryValues,
} from './fields.js';
import { KEY_INFO_META, readKeyInfo } from './namespace-key.js';
import { CIPHERTEXT_PREFIX } from './sealed.js';

/**
 * Seals what a sync exchange pushes and opens what it pulls, so the local store keeps plaintext
 * (local search works as usual) while the edge only ever holds ciphertext. Before the first exchange
 * it settles the namespace's key with the edge: the first device's key info is kept there, and every
 * other device derives the same key from it (or is told its key or passphrase is wrong).
 */
export class EncryptingTransport implements SyncTransport {
  private settled = false;
  /**
   * The key a rotation just replaced, kept until the rekey is done: what the edge took under it before the
   * rotation reached it (another device's push in between) is pulled after the rotation and opened with
   * it, then re-sealed under the new key with everything else. Nothing else could ever re-seal it.
   */
  private previous: NamespaceCipher | undefined;
  /** Records pulled and opened under `previous` since `takeOpenedUnderPrevious` last asked. */
  private openedUnderPrevious: { entity: 'memory' | 'link'; id: string }[] = [];

  private constructor(
    private readonly inner: SyncTransport,
    private readonly store: MemoryStore,
    private readonly namespace: string,
    private readonly options: EncryptionOptions,
    private cipher: NamespaceCipher | undefined,
  ) {}

  /**
   * Opens the key the local store already knows (a wrong key or passphrase throws here, before any
   * write) and returns what seals a transport with it: one per sync engine (a tab that becomes the
   * syncing tab makes its engine then).
   */
  static async prepare(
    store: MemoryStore,
    namespace: string,
    options: EncryptionOptions,
    edge?: SyncTransport,
  ): Promise<(inner: SyncTransport) => EncryptingTransport> {
    const info = await readKeyInfo(store, namespace);
    const cipher = info ? await openKnown(options, info, namespace, edge) : undefined;
    return (inner) => new EncryptingTransport(inner, store, namespace, options, cipher);
  }

  get keyId(): string | undefined {
    return this.cipher?.keyId;
  }

  async exchange(request: SyncRequest): Promise<SyncResponse> {
    try {
      return await this.sealedExchange(request);
    } catch (error) {
      // Another device settled or rotated the key meanwhile: settle again, then retry once.
      if (!isEngramError(error, 'CONFLICT') || error.field !== 'sync.key.id') throw error;
      this.settled = false;
      return this.sealedExchange(request);
    }
  }

  /**
   * Moves the namespace to a new key on the edge (proving it holds the current one: the edge keeps a
   * version 2 key's rotation hash); the caller then re-seals and pushes every record.
   */
  async rotate(next: EncryptionOptions): Promise<NamespaceCipher> {
    await this.settle();
    const from = this.cipher!.keyId;
    const proof = await this.cipher!.rotationProof();
    const cipher = await NamespaceCipher.create(next);
    await this.inner.exchange({ key: { rotate: { from, to: cipher.info, proof }, seals: SEALING_VERSION } });
    await this.remember(cipher.info);
    this.previous = this.cipher;
    this.cipher = cipher;
    return cipher;
  }

  /** The rekey re-sealed everything: the replaced key is no longer needed. */
  forgetPreviousKey(): void {
    this.previous = undefined;
    this.openedUnderPrevious = [];
  }

  /** The records pulled under the replaced key since the last call, which the rekey must re-seal. */
  takeOpenedUnderPrevious(): { entity: 'memory' | 'link'; id: string }[] {
    const taken = this.openedUnderPrevious;
    this.openedUnderPrevious = [];
    return taken;
  }

  /** The key a pulled record was sealed under: the replaced one during a rekey, else the current one. */
  private cipherFor(current: NamespaceCipher, sealed: unknown): NamespaceCipher {
    const previous = this.previous;
    if (!previous || typeof sealed !== 'string') return current;
    return sealed.startsWith(`${CIPHERTEXT_PREFIX}${previous.keyId}.`) ? previous : current;
  }

  private async sealedExchange(request: SyncRequest): Promise<SyncResponse> {
    await this.settle();
    const cipher = this.cipher!;
    const response = await this.inner.exchange(await this.seal(cipher, request));
    return this.open(cipher, response, request.pull === undefined);
  }

  private async settle(): Promise<void> {
    if (this.settled) return;
    const proposal = this.cipher ?? (await NamespaceCipher.create(this.options));
    const answer = await this.inner.exchange({ key: { info: proposal.info, seals: SEALING_VERSION } });
    const kept = answer.key?.info;
    if (!kept) throw new EngramError('STORAGE', 'sync: the edge did not keep the encryption key info');
    // The edge keeping this device's key id means it kept this device's info: the device's own copy is
    // what is remembered, never the edge's answer (an edge that altered the check or the iterations
    // would otherwise lock the device out of its own key at the next start).
    this.cipher =
      kept.keyId === proposal.keyId
        ? proposal
        : await NamespaceCipher.open(this.options, kept, this.namespace);
    const info = this.cipher.info;
    if (info.keyId !== (await readKeyInfo(this.store, this.namespace))?.keyId) await this.remember(info);
    this.settled = true;
  }

  private async remember(info: KeyInfo): Promise<void> {
    await this.store.apply(this.namespace, { meta: { [KEY_INFO_META]: info as unknown as Json } });
  }

  private async seal(cipher: NamespaceCipher, request: SyncRequest): Promise<SyncRequest> {
    const { push } = request;
    // Every request names the key and the sealing this device uses, pulls too: the edge answers a rotated
    // namespace with CONFLICT before a pull hands over records this device would have to pass over.
    const key = { ...request.key, id: cipher.keyId, seals: SEALING_VERSION };
    if (!push) return { ...request, key };
    const ns = this.namespace;
    const [memories, links] = await Promise.all([
      push.memories &&
        Promise.all(
          push.memories.map(async (w, i) => ({
            ...w,
            values: await asPushed(
              `memories.${i}`,
              encryptMemoryValues(cipher, ns, w.id, w.values, w.clocks),
            ),
          })),
        ),
      push.links &&
        Promise.all(
          push.links.map(async (w, i) => ({
            ...w,
            values: await asPushed(`links.${i}`, encryptLinkValues(cipher, ns, w.id, w.values, w.clocks)),
          })),
        ),
    ]);
    return {
      ...request,
      push: { ...push, ...(memories ? { memories } : {}), ...(links ? { links } : {}) },
      key,
    };
  }

  /**
   * Opens what the edge sent. A record that does not open under this device's key (altered, moved,
   * replayed, a sealed field dropped) is left out and reported in `unreadable`, and the rest is applied:
   * one bad record on the edge must not stop every device's sync for good. The record stays as this
   * device last had it. A value sealed under another key fails the whole answer (see below).
   */
  private async open(
    cipher: NamespaceCipher,
    response: SyncResponse,
    openGot: boolean,
  ): Promise<SyncResponse> {
    const out: SyncResponse = { ...response };
    const unreadable: NonNullable<SyncResponse['unreadable']> = [];
    const opened = async <T>(entity: 'memory' | 'link', id: string, open: () => Promise<T>) => {
      try {
        return await open();
      } catch (error) {
        // Sealed under another key: the namespace was rotated (a device on the old key must get the new
        // one; one on the new key meets a record not yet re-sealed). The round fails and the cursor stays,
        // so nothing is passed over; only a record that does not open under the right key is set aside.
        if (!isEngramError(error, 'VALIDATION') || isOtherKeyError(error)) throw error;
        unreadable.push({ entity, id, reason: `${error.code}: ${error.message}` });
        return undefined;
      }
    };
    if (response.pull) {
      const changes = await Promise.all(
        response.pull.changes.map(async (change) => {
          if (change.memory) {
            const memory = await opened('memory', change.id, () => this.openMemory(cipher, change.memory!));
            return memory && { ...change, memory };
          }
          if (change.link) {
            const link = await opened('link', change.id, () => this.openLink(cipher, change.link!));
            return link && { ...change, link };
          }
          return change;
        }),
      );
      out.pull = { ...response.pull, changes: changes.filter((c) => c !== undefined) };
    }
    // A `get` beside a pull is the sync engine's witness check (sync/witness.ts), which reads ids and
    // stamps only: left sealed, a record that does not open (altered, or sealed under a key not rotated to
    // yet) neither goes on the rejected list nor fails the round.
    if (response.get && openGot) {
      const memories = await Promise.all(
        response.get.memories.map((r) => opened('memory', r.memory.id, () => this.openMemory(cipher, r))),
      );
      const links = await Promise.all(
        response.get.links.map((r) => opened('link', r.link.id, () => this.openLink(cipher, r))),
      );
      out.get = {
        ...response.get,
        memories: memories.filter((r) => r !== undefined),
        links: links.filter((r) => r !== undefined),
      };
    }
    if (unreadable.length > 0) out.unreadable = unreadable;
    // The merged records a push answers with are not read by the engine; they stay sealed.
    delete out.push;
    if (response.push) out.push = { ...response.push, memories: [], links: [] };
    return out;
  }

  private async openMemory(current: NamespaceCipher, record: MemoryRecord): Promise<MemoryRecord> {
    assertWholeRecord(this.namespace, 'memory', record.memory);
    const cipher = this.cipherFor(current, record.memory.content);
    if (cipher !== current) this.openedUnderPrevious.push({ entity: 'memory', id: record.memory.id });
    const memory = await decryptMemoryValues(
      cipher,
      this.namespace,
      record.memory.id,
      record.memory,
      record.clocks,
    );
    return { ...record, memory };
  }

  private async openLink(current: NamespaceCipher, record: LinkRecord): Promise<LinkRecord> {
    assertWholeRecord(this.namespace, 'link', record.link);
    // A link's sealed value is its metadata's one entry, not the metadata object itself.
    const cipher = this.cipherFor(current, record.link.metadata[ENCRYPTED_KEY]);
    if (cipher !== current) this.openedUnderPrevious.push({ entity: 'link', id: record.link.id });
    const link = await decryptLinkValues(cipher, this.namespace, record.link.id, record.link, record.clocks);
    return { ...record, link };
  }
}

/**
 * The key this device knows, opened. Options that do not open it may be the new key or passphrase of a
 * namespace rekeyed since this device last synced: then the edge's key info, when it is another, is opened
 * with them (and a wrong key or passphrase still fails here, as does one the edge cannot be asked about).
 */
async function openKnown(
  options: EncryptionOptions,
  info: KeyInfo,
  namespace: string,
  edge: SyncTransport | undefined,
): Promise<NamespaceCipher> {
  try {
    return await NamespaceCipher.open(options, info, namespace);
  } catch (error) {
    if (!edge || !isEngramError(error, 'VALIDATION') || error.field !== 'encryption') throw error;
    const current = await edge.exchange({ key: { seals: SEALING_VERSION } }).then(
      (answer) => answer.key?.info,
      () => undefined,
    );
    if (!current || current.keyId === info.keyId) throw error;
    return NamespaceCipher.open(options, current, namespace);
  }
}

/**
 * A value this device cannot seal (tags too long for their sealed pieces) is refused as the edge refuses a
 * record, naming its place in the push (`sync.push.memories.0.values`): the engine sets that record aside
 * and sends the rest, instead of the whole outbox failing every round.
 */
async function asPushed<T>(item: string, sealing: Promise<T>): Promise<T> {
  try {
    return await sealing;
  } catch (error) {
    if (!isEngramError(error, 'VALIDATION')) throw error;
    const field = `sync.push.${item}.values`;
    throw new EngramError('VALIDATION', `${field}: ${error.message}`, { field, cause: error });
  }
}
