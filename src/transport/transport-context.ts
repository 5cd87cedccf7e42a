/**
 * What the manager shares with its adapters: settings, the receive path, the pool and the
 * counters. Internal to `transport/`.
 * @module
 */
import type { MessageLimits } from '../sip/index.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { ConnectionPool } from './connection-pool.js';
import type { InboundPipeline } from './inbound-pipeline.js';
import type { TransportStats } from './transport-stats.js';
import type { TransportProtocol } from './types.js';

/** TLS settings (TLS and WSS, both directions). */
export interface TlsSettings {
  /** PEM certificate (chain) presented as server, and as client when one is requested. */
  cert?: string | undefined;
  /** PEM private key of {@link cert}. */
  key?: string | undefined;
  /** PEM CA bundle that peers are verified against. Default: Node's bundled roots. */
  ca?: string | undefined;
  /** Server side: ask the client for a certificate (RFC 5922 §7.3, POL-3). Default false. */
  requestClientCert?: boolean | undefined;
  /** Server side: refuse clients without a certificate that verifies. Default false. */
  requireClientCert?: boolean | undefined;
  /** Client side: refuse servers whose certificate does not verify (chain and name). Default true. */
  rejectUnauthorized?: boolean | undefined;
}

/** Shared state of one transport manager. */
export interface TransportContext {
  readonly limits: MessageLimits;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly stats: TransportStats;
  readonly pipeline: InboundPipeline;
  readonly pool: ConnectionPool;
  readonly tls: TlsSettings | undefined;
  /** Bound on TCP connect + TLS/WebSocket handshake, ms. */
  readonly connectTimeoutMs: number;
  /** Largest backlog of unsent bytes per connection before it is closed. */
  readonly maxWriteBuffer: number;
  /** A fresh connection id. */
  nextConnectionId(protocol: TransportProtocol): string;
}

/** Minimum and maximum TLS versions (SIP-2: TLS 1.2 and 1.3). */
export const TLS_VERSIONS = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' } as const;
