/**
 * A connection of a connection-oriented transport (TCP, TLS, WS, WSS) as the pool and the
 * manager see it.
 * @module
 */
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
