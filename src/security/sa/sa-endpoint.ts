/**
 * The SA record layer at one end (server or device): the table of SAs by id and by peer
 * address, and the three calls the transport makes (ARCHITECTURE.md §3: "if it belongs to an
 * SA, unsealed by the SA record layer … sealed for its next hop"). It satisfies the
 * transport's `MessageProtector` contract structurally (security does not import transport).
 *
 * Rejected input is dropped and counted by fault (SPEC SA-8), never answered: an answer would
 * be an oracle. The checks run cheapest first — header shape, SA id, generation, replay
 * window — so a flood of garbage costs a map lookup per record, not an AEAD.
 * @module
 */
import type { RecordFault } from '../../errors.js';
import type { MessageLimits } from '../../sip/limits.js';
import { DEFAULT_LIMITS } from '../../sip/limits.js';
import type { SipMessage } from '../../sip/message.js';
import { serialize } from '../../sip/serializer.js';
import { nullLogger, type Logger } from '../../util/logger.js';
import type { SecurityAssociation } from './association.js';
import { openPartial, openRecord, parseSaHeader, readRecordHeader, SA_HEADER, sealMessage } from './message-protection.js';
import { formatRange, type Range } from './range.js';

/** Content type of the server's setting requests (docs/protocol.md §3.6). */
export const SETTING_CONTENT_TYPE = 'application/sipher-sa-setting';
/** Content type of a device's request for new encryption information (docs/protocol.md §3.7). */
export const SA_REQUEST_CONTENT_TYPE = 'application/sipher-sa-request';
/** Content type of handshake bodies (docs/protocol.md §3.1). */
export const HANDSHAKE_CONTENT_TYPE = 'application/sipher-handshake';

/** A transport address (structurally the transport's `Endpoint`). */
export interface SaPeer {
  protocol: string;
  address: string;
  port: number;
  /** Stream transports: the connection. Responses go back on it under the peer's SA. */
  connectionId?: string | undefined;
}

/** What protected a received message (structurally the transport's `Protection`). */
export interface SaProtection {
  saId: string;
  generation: number;
  identity: string | undefined;
  range: string;
}

/** Counters of one endpoint; faults by kind. */
export interface SaCounters {
  sealed: number;
  opened: number;
  clearSent: number;
  faults: Record<RecordFault, number>;
}

/** Options of {@link SaEndpoint}. */
export interface SaEndpointOptions {
  limits?: MessageLimits;
  logger?: Logger;
  /** Called when a record under a staged generation authenticated: the peer already switched (implicit acknowledgement). */
  onStagedUse?: (sa: SecurityAssociation) => void;
}

const WHOLE: Range = { kind: 'whole' };

/** The SA table and record layer of one server or device. */
export class SaEndpoint {
  private readonly byId = new Map<string, SecurityAssociation>();
  private readonly byPeer = new Map<string, SecurityAssociation>();
  private readonly clear = new WeakSet<SipMessage>();
  private readonly limits: MessageLimits;
  private readonly logger: Logger;
  private readonly onStagedUse: ((sa: SecurityAssociation) => void) | undefined;
  readonly counters: SaCounters = {
    sealed: 0, opened: 0, clearSent: 0,
    faults: { malformed: 0, 'unknown-sa': 0, 'unknown-generation': 0, 'expired-generation': 0, replay: 0, decrypt: 0, 'clear-from-protected': 0 },
  };

  constructor(opts: SaEndpointOptions = {}) {
    this.limits = opts.limits ?? DEFAULT_LIMITS;
    this.logger = opts.logger ?? nullLogger;
    this.onStagedUse = opts.onStagedUse;
  }

  /** Number of SAs in the table. */
  get size(): number {
    return this.byId.size;
  }

  /** Adds an SA reachable at `peer` (replacing any SA of that peer). */
  add(sa: SecurityAssociation, peer: SaPeer): void {
    const old = this.lookup(peer);
    if (old && old !== sa) this.remove(old);
    this.byId.set(sa.idHex, sa);
    this.bind(peer, sa);
  }

  /** Removes an SA and every peer address bound to it. */
  remove(sa: SecurityAssociation): void {
    this.byId.delete(sa.idHex);
    for (const [k, v] of this.byPeer) if (v === sa) this.byPeer.delete(k);
  }

  /** The SA with this id (hex). */
  get(saId: string): SecurityAssociation | undefined {
    return this.byId.get(saId);
  }

  /** The SA bound to this peer address. */
  forPeer(peer: SaPeer): SecurityAssociation | undefined {
    return this.lookup(peer);
  }

  private lookup(peer: SaPeer): SecurityAssociation | undefined {
    if (peer.connectionId !== undefined) {
      const sa = this.byPeer.get(`conn|${peer.connectionId}`);
      if (sa) return sa;
    }
    return this.byPeer.get(peerKey(peer));
  }

  /**
   * Binds one more address to an SA: e.g. the device's registered Contact, where the proxy
   * sends requests for it when it is not behind a NAT flow (the SA must protect those too).
   */
  bindPeer(sa: SecurityAssociation, peer: SaPeer): void {
    if (this.byId.get(sa.idHex) === sa) this.bind(peer, sa);
  }

  private bind(peer: SaPeer, sa: SecurityAssociation): void {
    this.byPeer.set(peerKey(peer), sa);
    if (peer.connectionId !== undefined) this.byPeer.set(`conn|${peer.connectionId}`, sa);
  }

  /** Every SA (for timers and the console). */
  all(): IterableIterator<SecurityAssociation> {
    return this.byId.values();
  }

  /**
   * Marks a message to be sent in clear whatever the peer's SA says: the answers to a
   * handshake REGISTER (the device may have lost its old SA) and their failures.
   */
  sendInClear(message: SipMessage): void {
    this.clear.add(message);
  }

  /** Transport hook: one whole record from `source`. */
  openRecord(bytes: Buffer, source: SaPeer): { plaintext: Buffer; protection: SaProtection } | undefined {
    const h = readRecordHeader(bytes);
    if (!h) return this.fault('malformed', source);
    const sa = this.byId.get(h.saId);
    if (!sa) return this.fault('unknown-sa', source);
    const r = openRecord(sa, h);
    if (typeof r === 'string') return this.fault(r, source);
    this.received(sa, r.generation.number, source);
    return { plaintext: r.plaintext, protection: this.protection(sa, r.generation.number, WHOLE) };
  }

  /**
   * Transport hook: a message that arrived as SIP text. A partial-range message is opened;
   * a clear one passes unless its peer's SA requires protection.
   */
  inspectClear(message: SipMessage, source: SaPeer): { message: SipMessage; protection?: SaProtection } | undefined {
    const saHeader = message.get(SA_HEADER);
    if (saHeader === undefined) {
      if (this.byId.size === 0) return { message }; // plain traffic and no SA at all: nothing to look up
      const sa = this.lookup(source);
      if (sa && !sa.acceptsClear() && !isHandshake(message)) return this.fault('clear-from-protected', source);
      return { message };
    }
    const p = parseSaHeader(saHeader);
    if (!p) return this.fault('malformed', source);
    const sa = this.byId.get(p.saId);
    if (!sa) return this.fault('unknown-sa', source);
    const r = openPartial(sa, message, p, this.limits);
    if (typeof r === 'string') return this.fault(r, source);
    this.received(sa, r.generation.number, source);
    return { message: r.message, protection: this.protection(sa, r.generation.number, sa.range) };
  }

  /**
   * Transport hook: the bytes to send for `message` to `target`. Sealed when the peer has an
   * established SA and presence is on; setting requests are sealed even when it is off
   * (seed 000, 14th/15th embodiments: encryption information always travels encrypted).
   */
  protect(message: SipMessage, target: SaPeer): Buffer {
    const sa = this.byId.size === 0 ? undefined : this.lookup(target);
    if (sa && sa.established && !this.clear.has(message)) {
      if (sa.presence === 'on') {
        this.counters.sealed++;
        return sealMessage(sa, message, sa.range);
      }
      if (message.isRequest && (message.get('content-type') ?? '').toLowerCase() === SETTING_CONTENT_TYPE) {
        this.counters.sealed++;
        return sealMessage(sa, message, WHOLE);
      }
    }
    this.counters.clearSent++;
    return serialize(message);
  }

  private received(sa: SecurityAssociation, generation: number, source: SaPeer): void {
    this.counters.opened++;
    // An authenticated record from a new address (NAT rebinding, TCP after UDP for a large
    // message, RFC 3261 §18.1.1) binds that address to the SA too.
    if (this.lookup(source) !== sa) this.bind(source, sa);
    if (!sa.established && sa.role === 'initiator') sa.established = true;
    if (sa.isStaged(generation)) this.onStagedUse?.(sa);
  }

  private protection(sa: SecurityAssociation, generation: number, range: Range): SaProtection {
    return { saId: sa.idHex, generation, identity: sa.identity, range: formatRange(range) };
  }

  private fault(kind: RecordFault, source: SaPeer): undefined {
    this.counters.faults[kind]++;
    this.logger.debug('SA record dropped', { fault: kind, source: `${source.protocol}:${source.address}:${source.port}` });
    return undefined;
  }
}

function peerKey(p: SaPeer): string {
  return `${p.protocol}|${p.address}|${p.port}`;
}

function isHandshake(m: SipMessage): boolean {
  return (m.get('content-type') ?? '').toLowerCase() === HANDSHAKE_CONTENT_TYPE;
}
