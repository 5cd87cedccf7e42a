/**
 * The `transport` layer: UDP, TCP, TLS and WebSocket adapters, connection reuse, and the
 * receive path (RFC 3261 §18, RFC 7118). Only this layer touches SIP sockets.
 * @module
 */
export * from './types.js';
export { TransportManager, type TransportManagerOptions } from './transport-manager.js';
export type { TransportStats } from './transport-stats.js';
export type { TlsSettings } from './transport-context.js';
export type { ListenSpec } from './listener.js';
export { SIP_SUBPROTOCOL } from './ws-transport.js';
