/**
 * Shared fixtures of the transaction tests: a layer over a {@link RecordingTransport} and a
 * {@link ManualClock}, message builders, and a recording transaction user.
 * @module
 */
import { createResponse, parseDatagram, SipRequest, SipResponse, type SipMessage } from '../../../src/sip/index.js';
import { TransactionLayer, type TransactionLayerOptions } from '../../../src/transaction/transaction-layer.js';
import type { ClientTransactionUser, ServerTransaction } from '../../../src/transaction/types.js';
import type { Endpoint, Inbound, Target, TransportProtocol } from '../../../src/transport/types.js';
import { ManualClock } from '../../../src/util/clock.js';
import { createSeededRandom } from '../../../src/util/random.js';
import { RecordingTransport } from '../../support/recording-transport.js';

/** Where the layer's peer sits. */
export const PEER = '192.0.2.10';

/** A client target over `protocol`. */
export function target(protocol: TransportProtocol = 'udp'): Target {
  return { protocol, address: '198.51.100.7', port: 5060 };
}

/** What onRequest saw. */
export interface Delivered {
  request: SipRequest;
  tx: ServerTransaction | undefined;
  inbound: Inbound;
}

/** A layer under test with its fakes. */
export interface Harness {
  layer: TransactionLayer;
  clock: ManualClock;
  transport: RecordingTransport;
  /** Clock time at creation. */
  t0: number;
  delivered: Delivered[];
  stray: SipResponse[];
  /** Milliseconds since t0. */
  elapsed(): number;
}

/** Builds a layer; `respond` (if given) runs inside onRequest. */
export function harness(
  opts: Partial<Omit<TransactionLayerOptions, 'transport' | 'clock' | 'random' | 'onRequest'>> & {
    onRequest?: (d: Delivered) => void;
  } = {},
): Harness {
  const clock = new ManualClock();
  const transport = new RecordingTransport(clock);
  const delivered: Delivered[] = [];
  const stray: SipResponse[] = [];
  const { onRequest, ...rest } = opts;
  const layer = new TransactionLayer({
    ...rest,
    transport,
    clock,
    random: createSeededRandom(7),
    onRequest(request, tx, inbound) {
      const d = { request, tx, inbound };
      delivered.push(d);
      onRequest?.(d);
    },
    onStrayResponse: (r) => stray.push(r),
  });
  const t0 = clock.now();
  return { layer, clock, transport, t0, delivered, stray, elapsed: () => clock.now() - t0 };
}

/** Options of {@link request}. */
export interface RequestOptions {
  branch?: string;
  /** Via transport token. */
  via?: string;
  /** sent-by host[:port]. */
  sentBy?: string;
  /** Extra Via parameters, e.g. `;rport`. */
  viaParams?: string;
  uri?: string;
  toTag?: string;
  fromTag?: string;
  callId?: string;
  cseq?: number;
  /** CSeq method (defaults to the request method). */
  cseqMethod?: string;
  extra?: string[];
}

/** Parses a request as the transport would hand it over. */
export function request(method: string, o: RequestOptions = {}): SipRequest {
  const lines = [
    `${method} ${o.uri ?? 'sip:bob@example.com'} SIP/2.0`,
    `Via: SIP/2.0/${o.via ?? 'UDP'} ${o.sentBy ?? PEER + ':5060'};branch=${o.branch ?? 'z9hG4bKclient1'}${o.viaParams ?? ''}`,
    'Max-Forwards: 70',
    `To: Bob <sip:bob@example.com>${o.toTag ? ';tag=' + o.toTag : ''}`,
    `From: Alice <sip:alice@example.com>;tag=${o.fromTag ?? 'fromtag1'}`,
    `Call-ID: ${o.callId ?? 'call-1@example.com'}`,
    `CSeq: ${o.cseq ?? 1} ${o.cseqMethod ?? method}`,
    ...(o.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ];
  return parseDatagram(Buffer.from(lines.join('\r\n'), 'latin1')) as SipRequest;
}

/** A response to `req` as the peer builds it (RFC 3261 §8.2.6), with `toTag` on non-100 responses. */
export function responseTo(req: SipRequest, status: number, toTag = 'uastag'): SipResponse {
  return createResponse(req, status, undefined, status === 100 ? undefined : toTag);
}

/** Wraps a message as the transport delivers it. */
export function inbound(message: SipMessage, source: Partial<Endpoint> = {}, connectionId?: string): Inbound {
  const protocol = source.protocol ?? 'udp';
  return {
    message,
    source: { protocol, address: source.address ?? PEER, port: source.port ?? 5060 },
    local: { protocol, address: '203.0.113.1', port: 5060 },
    connectionId,
  };
}

/** One event seen by a {@link RecordingUser}. */
export interface UserEvent {
  kind: 'response' | 'timeout' | 'transportError' | 'terminated';
  at: number;
  status?: number;
  error?: Error;
}

/** A client transaction user that records what it is told. */
export interface RecordingUser extends ClientTransactionUser {
  events: UserEvent[];
  statuses(): number[];
  of(kind: UserEvent['kind']): UserEvent[];
}

/** A recording client transaction user; times are relative to `t0`. */
export function recordingUser(clock: ManualClock, t0: number): RecordingUser {
  const events: UserEvent[] = [];
  const at = (): number => clock.now() - t0;
  return {
    events,
    onResponse: (r) => events.push({ kind: 'response', at: at(), status: r.status }),
    onTimeout: () => events.push({ kind: 'timeout', at: at() }),
    onTransportError: (error) => events.push({ kind: 'transportError', at: at(), error }),
    onTerminated: () => events.push({ kind: 'terminated', at: at() }),
    statuses: () => events.filter((e) => e.kind === 'response').map((e) => e.status!),
    of: (kind) => events.filter((e) => e.kind === kind),
  };
}
