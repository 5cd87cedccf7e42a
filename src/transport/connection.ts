/**
 * A connection of a connection-oriented transport (TCP, TLS, WS, WSS) as the pool and the
 * manager see it.
 * @module
 */
import type { ReceiveContext } from './inbound-pipeline.js';
import type { Clock } from '../util/clock.js';
import type { Endpoint, TlsPeerInfo, TransportProtocol } from './types.js';

/** Why a connection is being closed. */
export type CloseReason = 'garbage' | 'idle' | 'shutdown' | 'error' | 'requested';

/** One open connection. */
export interface Connection {
  /** Unique within the process lifetime and across restarts (random prefix). */
  readonly id: string;
  readonly protocol: TransportProtocol;
  /** The peer's address and port as seen on the socket. */
  readonly remote: Endpoint;
  /** Our end: the listening endpoint for accepted connections, the socket's own for opened ones. */
  readonly local: Endpoint;
  /** True for connections we opened (RFC 3261 §18.1.1), false for accepted ones. */
  readonly outbound: boolean;
  /** Clock time of the last byte received or sent. */
  readonly lastActivity: number;
  readonly closed: boolean;
  readonly tls: TlsPeerInfo | undefined;
  /** Writes one serialized message. Rejects with `TransportError`. */
  write(bytes: Buffer): Promise<void>;
  /** Closes the connection; graceful reasons flush pending writes first. Idempotent. */
  close(reason: CloseReason): void;
}

/** What an adapter knows about a connection when it creates one. */
export interface ConnectionInit {
  protocol: TransportProtocol;
  remote: Endpoint;
  local: Endpoint;
  outbound: boolean;
  tls?: TlsPeerInfo | undefined;
}

/**
 * The part every connection class shares: identity, addresses, activity time and the
 * receive context handed to the inbound pipeline (responses to bad input go back over it).
 */
export abstract class BaseConnection implements Connection {
  readonly id: string;
  readonly protocol: TransportProtocol;
  readonly remote: Endpoint;
  readonly local: Endpoint;
  readonly outbound: boolean;
  readonly tls: TlsPeerInfo | undefined;
  lastActivity: number;
  closed = false;
  protected readonly rx: ReceiveContext;

  /** @param ctx - the connection-id source and clock of the transport (a `TransportContext`). */
  protected constructor(ctx: { nextConnectionId(p: TransportProtocol): string; readonly clock: Clock }, a: ConnectionInit) {
    this.id = ctx.nextConnectionId(a.protocol);
    this.protocol = a.protocol;
    this.remote = a.remote;
    this.local = a.local;
    this.outbound = a.outbound;
    this.tls = a.tls;
    this.lastActivity = ctx.clock.now();
    this.rx = { source: a.remote, local: a.local, connectionId: this.id, tls: a.tls, reply: (bytes) => this.write(bytes).catch(() => undefined) };
  }

  abstract write(bytes: Buffer): Promise<void>;
  abstract close(reason: CloseReason): void;
}
