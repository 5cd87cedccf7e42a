/**
 * Counters of the transport layer (OPS: exported by the admin API and the metrics endpoint).
 * @module
 */
import type { TransportProtocol } from './types.js';

/** A snapshot of the transport counters. All counts since the manager was created. */
export interface TransportStats {
  /** Messages handed up (valid SIP), per protocol. */
  received: Record<TransportProtocol, number>;
  /** Messages written to the network (including `400`/`513` answers), per protocol. */
  sent: Record<TransportProtocol, number>;
  /** Inputs that failed framing, parsing or validation (not counting {@link tooLarge}). */
  parseErrors: number;
  /** Inputs over the size limits (answered `513` where possible). */
  tooLarge: number;
  /** Bad requests answered with `400` or `513` (RFC 3261 §8.2, §21.5.14). */
  badRequestsAnswered: number;
  /** Bad inputs dropped without an answer (responses, garbage, ACKs). */
  dropped: number;
  /** SA records (and partial-range messages) the SA layer refused; also counted in `dropped`. Reasons: the SA counters. */
  recordsRejected: number;
  /** Connections currently open (TCP, TLS, WS, WSS; inbound and outbound). */
  connectionsOpen: number;
  /** Stream connections closed because their bytes could not be framed. */
  connectionsClosedForGarbage: number;
  /** Connections closed after {@link TransportManagerOptions.idleTimeoutMs} without traffic. */
  connectionsClosedIdle: number;
  /** Inbound connections or WebSocket handshakes refused (limit reached, no `sip` subprotocol). */
  connectionsRejected: number;
  /** TLS handshakes that failed (inbound and outbound). */
  tlsHandshakeFailures: number;
  /** RFC 5626 §4.4.1 CRLFCRLF pings answered with a CRLF pong. */
  keepAlivePings: number;
}

/** A fresh set of zeroed counters. */
export function createStats(): TransportStats {
  const perProtocol = (): Record<TransportProtocol, number> => ({ udp: 0, tcp: 0, tls: 0, ws: 0, wss: 0 });
  return {
    received: perProtocol(),
    sent: perProtocol(),
    parseErrors: 0,
    tooLarge: 0,
    badRequestsAnswered: 0,
    dropped: 0,
    recordsRejected: 0,
    connectionsOpen: 0,
    connectionsClosedForGarbage: 0,
    connectionsClosedIdle: 0,
    connectionsRejected: 0,
    tlsHandshakeFailures: 0,
    keepAlivePings: 0,
  };
}

/** A deep copy, safe to hand out. */
export function copyStats(s: TransportStats): TransportStats {
  return { ...s, received: { ...s.received }, sent: { ...s.sent } };
}
