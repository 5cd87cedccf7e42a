/**
 * What the layers above need from transports (the consumer owns the contract, style G2).
 * The concrete adapters (UDP, TCP, TLS, WebSocket) live beside this file; only they touch
 * sockets.
 * @module
 */
import type { SipMessage } from '../sip/message.js';

/** Transport protocols Sipher speaks (RFC 3261 §18, RFC 7118). */
export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** A transport address. `address` is an IP literal without brackets (IPv6 as `::1`). */
export interface Endpoint {
  protocol: TransportProtocol;
  address: string;
  port: number;
}

/** A message received from the network, already framed and parsed. */
export interface Inbound {
  message: SipMessage;
  /** The peer's address as seen on the socket (RFC 3261 §18.2.1 `received`/`rport`). */
  source: Endpoint;
  /** The local listening address it arrived on. */
  local: Endpoint;
  /**
   * For connection-oriented transports, the id of the connection it arrived on; responses
   * and RFC 5626 flows are sent back over it.
   */
  connectionId?: string | undefined;
  /** For TLS and WSS: what the handshake established about the peer (POL-3, RFC 5922). */
  tls?: TlsPeerInfo | undefined;
  /** Set when the message arrived protected by a signalling SA (SPEC SA-*). */
  protection?: Protection | undefined;
}

/** What protected a received message: the SA, its key generation and the identity bound to it. */
export interface Protection {
  /** SA id, lower-case hex. */
  saId: string;
  /** Key generation the message was sealed under. */
  generation: number;
  /** The AOR the SA is bound to, once the device is authenticated. */
  identity: string | undefined;
  /** The range it was sealed with (`whole`, `partial`, `partial:…`). */
  range: string;
}

/** Where a message came from: the endpoint and, on streams, the connection. */
export interface PeerAddress extends Endpoint {
  connectionId?: string | undefined;
}

/**
 * The SA record layer seen from the transport (implemented by `security/sa/SaEndpoint`, wired
 * by the composition roots). Every call is synchronous and never throws for bad input:
 * rejected input is counted by the protector and dropped.
 */
export interface MessageProtector {
  /** One SA record (first byte 0xD3): the plaintext SIP bytes, or `undefined` if dropped. */
  openRecord(record: Buffer, source: Endpoint): { plaintext: Buffer; protection: Protection } | undefined;
  /** A message received as SIP text: passed (a partial-range one opened), or `undefined` if dropped. */
  inspectClear(message: SipMessage, source: Endpoint): { message: SipMessage; protection?: Protection | undefined } | undefined;
  /** The bytes to send for `message` to `target` (sealed if the peer has an SA). */
  protect(message: SipMessage, target: Target): Buffer;
}

/** TLS facts about a connection (TLS, WSS), fixed once the handshake completes. */
export interface TlsPeerInfo {
  /** True when the peer presented a certificate that verified against the configured CAs. */
  authorized: boolean;
  /** Why verification failed (OpenSSL code such as `SELF_SIGNED_CERT_IN_CHAIN`), if it did. */
  authorizationError?: string | undefined;
  /** The peer's certificate, DER, if it presented one. */
  peerCertificate?: Buffer | undefined;
  /** The negotiated protocol version (`TLSv1.2`, `TLSv1.3`). */
  version?: string | undefined;
}

/** Where to send a message. With `connectionId`, that connection is used if still open. */
export interface Target extends Endpoint {
  connectionId?: string | undefined;
  /**
   * UDP only: the local listener to send from (e.g. the `Inbound.local` of the request being
   * answered, RFC 3261 §18.2.2). Default: the first listener of the target's address family.
   */
  local?: Endpoint | undefined;
  /**
   * TLS/WSS only, when a new connection is opened: the name the server certificate must
   * match (RFC 5922 §7.2) and the SNI sent. Default: the target address (IP SAN).
   */
  serverName?: string | undefined;
}

/** True for transports that retransmit by themselves (RFC 3261 §17: timers differ). */
export function isReliable(p: TransportProtocol): boolean {
  return p !== 'udp';
}

/** Formats an endpoint as `proto:address:port` (`[::1]` for IPv6). */
export function endpointKey(e: Endpoint): string {
  return `${e.protocol}:${hostOf(e.address)}:${e.port}`;
}

/** An IP literal as it appears in a URI or Via: IPv6 in brackets. */
export function hostOf(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

/** The transport layer seen from above. */
export interface TransportLayer {
  /**
   * Serializes and sends `message` to `target`. Resolves when handed to the socket;
   * rejects with `TransportError` (e.g. connection refused, unknown connection).
   */
  send(message: SipMessage, target: Target): Promise<void>;
  /** The local address to put in Via/Record-Route/Contact for `protocol`, if listening on it. */
  localEndpoint(protocol: TransportProtocol, family?: 4 | 6): Endpoint | undefined;
}
