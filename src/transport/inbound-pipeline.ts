/**
 * The receive path shared by every adapter (ARCHITECTURE.md §3, first steps): bytes →
 * message (`parseDatagram` for UDP and WebSocket messages, a {@link StreamReader} per stream
 * connection) → `validateMessage` → RFC 3261 §18.2.1 / RFC 3581 Via stamping → `onMessage`.
 *
 * Bad input never throws out of here. A request whose head is readable enough to build a
 * response (Via, From, To, Call-ID, CSeq) is answered `400` with the fault as reason phrase,
 * or `513` (RFC 3261 §21.5.14); anything else is dropped. Every case is counted and logged
 * at debug level, without the bytes (they may carry credentials).
 * @module
 */
import { MessageTooLargeError, SipherError } from '../errors.js';
import {
  buildMessage, createResponse, findHeadEnd, isRecordStart, parseDatagram, parseHead, serialize, SipRequest, validateMessage,
  type MessageLimits, type SipMessage,
} from '../sip/index.js';
import type { Logger } from '../util/logger.js';
import type { StreamReader } from './stream-reader.js';
import type { TransportStats } from './transport-stats.js';
import { endpointKey, type Endpoint, type Inbound, type MessageProtector, type Protection, type TlsPeerInfo } from './types.js';
import { stampTopVia } from './via-stamping.js';

/** Where a piece of input came from, and how to answer on the same path. */
export interface ReceiveContext {
  source: Endpoint;
  local: Endpoint;
  connectionId?: string | undefined;
  tls?: TlsPeerInfo | undefined;
  /** Writes bytes back to the source (UDP: to its address:port; streams: on the connection). */
  reply(bytes: Buffer): void;
}

/** Collaborators of the {@link InboundPipeline}. */
export interface InboundPipelineOptions {
  limits: MessageLimits;
  logger: Logger;
  stats: TransportStats;
  onMessage: (inbound: Inbound) => void;
}

/** Holder of the (optional, late-bound) SA record layer. */
export interface ProtectorSlot {
  protector: MessageProtector | undefined;
}

const CRLF = Buffer.from('\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);
const REQUIRED = ['from', 'to', 'call-id', 'cseq'] as const;

/** Framing, validation and Via stamping of received bytes. */
export class InboundPipeline {
  private readonly opts: InboundPipelineOptions;
  /** The SA record layer, if one is wired (set by the transport manager). */
  readonly slot: ProtectorSlot = { protector: undefined };

  constructor(opts: InboundPipelineOptions) {
    this.opts = opts;
  }

  /** One UDP datagram or one WebSocket message (RFC 7118 §5.1: one SIP message each). */
  datagram(buf: Buffer, ctx: ReceiveContext): void {
    // RFC 5626 §4.4: a datagram of only CRLFs (or an empty one) is a keep-alive.
    if (isLineEndsOnly(buf)) return;
    if (isRecordStart(buf)) {
      this.record(buf, ctx);
      return;
    }
    let message: SipMessage;
    try {
      message = parseDatagram(buf, this.opts.limits);
    } catch (error) {
      this.reject(error, headOf(buf, this.opts.limits), ctx);
      return;
    }
    this.accept(message, ctx);
  }

  /**
   * One chunk of a stream connection. Returns false when framing failed: the connection must
   * then be closed (after the answer, if any, was written).
   */
  stream(reader: StreamReader, chunk: Buffer, ctx: ReceiveContext): boolean {
    const { events, failure } = reader.push(chunk);
    for (const ev of events) {
      if (ev.kind === 'message') this.accept(ev.message, ctx);
      else if (ev.kind === 'record') this.record(ev.bytes, ctx);
      else if (ev.kind === 'ping') {
        // RFC 5626 §4.4.1: answer a CRLFCRLF ping with a single CRLF pong.
        this.opts.stats.keepAlivePings++;
        ctx.reply(CRLF);
      }
    }
    if (!failure) return true;
    this.reject(failure.error, failure.head, ctx);
    this.opts.stats.connectionsClosedForGarbage++;
    return false;
  }

  /**
   * One SA record (docs/protocol.md §3.2). Dropped when no SA layer is wired or it rejects
   * the record; a sealed message that does not parse is dropped too — answering it in clear
   * would disclose what was sealed.
   */
  private record(bytes: Buffer, ctx: ReceiveContext): void {
    const protector = this.slot.protector;
    if (!protector) {
      // No SA layer here: a record is just bytes that are not SIP.
      this.opts.stats.parseErrors++;
      this.opts.stats.dropped++;
      return;
    }
    const opened = protector.openRecord(bytes, peerOf(ctx));
    if (!opened) {
      this.opts.stats.recordsRejected++;
      this.opts.stats.dropped++;
      return;
    }
    let message: SipMessage;
    try {
      message = parseDatagram(opened.plaintext, this.opts.limits);
      validateMessage(message);
      if (message.isRequest) stampTopVia(message, ctx.source);
    } catch {
      this.opts.stats.parseErrors++;
      this.opts.stats.dropped++;
      return;
    }
    this.deliver(message, ctx, opened.protection);
  }

  private accept(message: SipMessage, ctx: ReceiveContext): void {
    let protection: Protection | undefined;
    const protector = this.slot.protector;
    if (protector) {
      const r = protector.inspectClear(message, peerOf(ctx));
      if (!r) {
        this.opts.stats.recordsRejected++;
        this.opts.stats.dropped++;
        return;
      }
      message = r.message;
      protection = r.protection;
    }
    try {
      validateMessage(message);
      if (message.isRequest) stampTopVia(message, ctx.source);
    } catch (error) {
      this.reject(error, message, ctx);
      return;
    }
    this.deliver(message, ctx, protection);
  }

  private deliver(message: SipMessage, ctx: ReceiveContext, protection: Protection | undefined): void {
    this.opts.stats.received[ctx.source.protocol]++;
    try {
      this.opts.onMessage({ message, source: ctx.source, local: ctx.local, connectionId: ctx.connectionId, tls: ctx.tls, protection });
    } catch (error) {
      this.opts.logger.error('onMessage handler threw', { error, source: endpointKey(ctx.source) });
    }
  }

  /** Counts, logs and (where a response can be built) answers one bad input. */
  private reject(error: unknown, what: Buffer | SipMessage | undefined, ctx: ReceiveContext): void {
    const { stats, logger } = this.opts;
    const tooLarge = error instanceof MessageTooLargeError;
    if (tooLarge) stats.tooLarge++;
    else stats.parseErrors++;
    const status = error instanceof SipherError && error.sipStatus !== undefined ? error.sipStatus : 400;
    const reason = reasonFor(error, status);
    const req = what === undefined ? undefined : answerable(what, this.opts.limits);
    if (req) {
      ctx.reply(serialize(createResponse(req, status, reason)));
      stats.badRequestsAnswered++;
      stats.sent[ctx.source.protocol]++;
    } else stats.dropped++;
    logger.debug('bad inbound message', {
      source: endpointKey(ctx.source),
      connectionId: ctx.connectionId,
      fault: error instanceof Error ? error.message : 'unknown',
      answered: req ? status : undefined,
    });
  }
}

/** The head bytes of a datagram (for building an error response), within the head limit. */
function headOf(buf: Buffer, limits: MessageLimits): Buffer | undefined {
  const end = findHeadEnd(buf)?.headEnd ?? buf.length;
  return end > limits.maxHeadSize ? undefined : buf.subarray(0, end);
}

/**
 * The request to answer, if the input is a request other than ACK (RFC 3261 §17.2.3: ACK is
 * never answered) with a parseable top Via and the headers a response copies (§8.2.6.2).
 */
function answerable(what: Buffer | SipMessage, limits: MessageLimits): SipRequest | undefined {
  let m: SipMessage;
  if (Buffer.isBuffer(what)) {
    try {
      const { start, headers } = parseHead(what.toString('latin1'), limits);
      m = buildMessage(start, headers, EMPTY);
    } catch {
      return undefined;
    }
  } else m = what;
  if (!(m instanceof SipRequest) || m.method === 'ACK') return undefined;
  try {
    m.topVia();
  } catch {
    return undefined;
  }
  for (const k of REQUIRED) if (!m.has(k)) return undefined;
  return m;
}

/** The reason phrase: the catalogued one, made safe for a Status-Line (no CR/LF, printable). */
function reasonFor(error: unknown, status: number): string {
  const raw = error instanceof SipherError && error.sipReason ? error.sipReason : status === 513 ? 'Message Too Large' : 'Bad Request';
  const clean = raw.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 200);
  return clean.length > 0 ? clean : 'Bad Request';
}

/** The source with its connection (streams), for the SA layer. */
function peerOf(ctx: ReceiveContext): Endpoint & { connectionId?: string | undefined } {
  return ctx.connectionId === undefined ? ctx.source : { ...ctx.source, connectionId: ctx.connectionId };
}

function isLineEndsOnly(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0x0d && buf[i] !== 0x0a) return false;
  return true;
}
