/**
 * What every adapter's `listen` returns.
 * @module
 */
import type { Endpoint } from './types.js';

/** A bound listening socket of one adapter. */
export interface Listener {
  /** The bound endpoint (with the real port when 0 was asked for). */
  readonly endpoint: Endpoint;
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** Stops listening. Connections are closed by the pool, not here. */
  close(): Promise<void>;
}

/** A listen request: protocol, IP literal, port (0 = any free port). */
export interface ListenSpec {
  protocol: Endpoint['protocol'];
  address: string;
  port: number;
}
