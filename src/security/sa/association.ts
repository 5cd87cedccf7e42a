/**
 * A signalling security association between a device and its server (SPEC SA-1 … SA-8):
 * identity, the encryption information in force (presence, range; the rule lives in the
 * generation) and its key generations — the one in force, a staged one offered in a setting
 * and not yet confirmed, and the previous one during its grace period (seed 000, 13th
 * embodiment). Pure: time comes from the injected clock; no I/O.
 * @module
 */
import type { RecordFault } from '../../errors.js';
import type { Clock } from '../../util/clock.js';
import type { Generation, SaRole } from './generation.js';
import type { Range } from './range.js';
import { SA_ID_LENGTH } from './record.js';

/** Presence of protection for ordinary messages. */
export type SaPresence = 'on' | 'off';

/** The encryption information in force, as seen from outside (never keys). */
export interface SaState {
  saId: string;
  presence: SaPresence;
  rule: string;
  range: Range;
  generation: number;
  established: boolean;
  identity: string | undefined;
}

/** A staged change: the generation offered and the presence/range that come with it. */
interface Staged {
  generation: Generation;
  presence: SaPresence;
  range: Range;
}

/** One SA. Mutated only by its owner (the SA endpoint and the setting procedures). */
export class SecurityAssociation {
  readonly id: Buffer;
  readonly idHex: string;
  readonly role: SaRole;
  /** The AOR the SA is bound to once the device is authenticated. */
  identity: string | undefined;
  /** The device id (registrar's) once registered. */
  deviceId: string | undefined;
  /** True once outbound messages may be sealed (server: device authenticated; device: server's first record opened). */
  established = false;
  presence: SaPresence;
  range: Range;
  private cur: Generation;
  /** Previous generations still inside their grace period, newest first (at most 4). */
  private prev: Generation[] = [];
  private staged: Staged | undefined;
  /** Clear messages from the peer are accepted until then (ms) after a switch from off to on. */
  private clearUntil = 0;
  private readonly clock: Clock;

  constructor(opts: { id: Buffer; role: SaRole; generation: Generation; clock: Clock; presence?: SaPresence; range: Range }) {
    if (opts.id.length !== SA_ID_LENGTH) throw new RangeError(`SA id must be ${SA_ID_LENGTH} bytes`);
    this.id = opts.id;
    this.idHex = opts.id.toString('hex');
    this.role = opts.role;
    this.cur = opts.generation;
    this.cur.range ??= opts.range;
    this.clock = opts.clock;
    this.presence = opts.presence ?? 'on';
    this.range = opts.range;
  }

  /** The generation messages are sealed under. */
  get current(): Generation {
    return this.cur;
  }

  /** The staged (offered, unconfirmed) generation, if any. */
  get pending(): Generation | undefined {
    return this.staged?.generation;
  }

  /** Public state for the console and events. */
  state(): SaState {
    return {
      saId: this.idHex, presence: this.presence, rule: this.cur.rule.name, range: this.range,
      generation: this.cur.number, established: this.established, identity: this.identity,
    };
  }

  /**
   * The generation a received record names, or why it is not accepted. The staged one is
   * accepted too: the peer switched on our setting before its answer reached us.
   */
  receiving(number: number): Generation | RecordFault {
    if (number === this.cur.number) return this.cur;
    if (this.staged && number === this.staged.generation.number) return this.staged.generation;
    for (let i = 0; i < this.prev.length; i++) {
      const p = this.prev[i]!;
      if (number !== p.number) continue;
      // Seed 000, 13th embodiment (m7–m9): an old generation only until its timer runs out.
      if (p.acceptUntil !== undefined && this.clock.now() <= p.acceptUntil) return p;
      this.prev.splice(i);
      return 'expired-generation';
    }
    return number < this.cur.number ? 'expired-generation' : 'unknown-generation';
  }

  /** True if a clear message from the peer is acceptable now. */
  acceptsClear(): boolean {
    if (!this.established) return true;
    if (this.presence === 'off' || this.staged?.presence === 'off') return true;
    return this.clock.now() <= this.clearUntil;
  }

  /** Offers a new generation (with the presence and range it brings); replaces an older offer. */
  stage(generation: Generation, presence: SaPresence, range: Range): void {
    generation.range = range;
    this.staged = { generation, presence, range };
  }

  /** Forgets the offer (the setting failed). */
  unstage(): void {
    this.staged = undefined;
  }

  /** True if `number` is the staged generation. */
  isStaged(number: number): boolean {
    return this.staged?.generation.number === number;
  }

  /**
   * Switches to the staged generation (SPEC SA-5: both switch on the acknowledgement). The
   * one in force stays acceptable for `graceMs` (SPEC SA-7). No-op without a staged one.
   */
  commit(graceMs: number): boolean {
    const s = this.staged;
    if (!s) return false;
    const now = this.clock.now();
    const old = this.cur;
    old.acceptUntil = now + graceMs;
    if (this.presence === 'off' && s.presence === 'on') this.clearUntil = now + graceMs;
    // Two switches in quick succession (the two-step enablement) keep both older generations
    // acceptable for their own grace periods: no message in flight is lost (SPEC SA-7).
    this.prev = [old, ...this.prev.filter((g) => g.acceptUntil !== undefined && g.acceptUntil >= now)].slice(0, 4);
    this.cur = s.generation;
    this.presence = s.presence;
    this.range = s.range;
    this.staged = undefined;
    return true;
  }
}
