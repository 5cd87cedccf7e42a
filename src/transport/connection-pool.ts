/**
 * The set of open connections, keyed by id and by remote `protocol:address:port`, so that a
 * message to a peer reuses an open connection to it (RFC 3261 §18: "SHOULD use the existing
 * connection"), whether we opened it or accepted it. Also enforces the connection limit and
 * closes idle connections.
 * @module
 */
import { TransportError } from '../errors.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { normalizeAddress } from './address.js';
import type { Connection } from './connection.js';
import type { TransportStats } from './transport-stats.js';
import { endpointKey, type Endpoint } from './types.js';

/** Options of {@link ConnectionPool}. */
export interface ConnectionPoolOptions {
  /** Largest number of open connections; beyond it new ones are refused. */
  maxConnections: number;
  /** A connection without traffic for this long (ms) is closed. */
  idleTimeoutMs: number;
  clock: Clock;
  stats: TransportStats;
}

/** The key a peer is found under: protocol, canonical address, port. */
export function peerKey(e: Endpoint): string {
  return endpointKey({ protocol: e.protocol, address: normalizeAddress(e.address), port: e.port });
}

/** Open connections by id and by peer. */
export class ConnectionPool {
  private readonly opts: ConnectionPoolOptions;
  private readonly byId = new Map<string, Connection>();
  /** Open connections per peer key, oldest first (usually one). */
  private readonly byPeer = new Map<string, Connection[]>();
  private readonly keys = new WeakMap<Connection, string>();
  private readonly connecting = new Map<string, Promise<Connection>>();
  private sweeper: TimerHandle | undefined;
  private stopped = false;

  constructor(opts: ConnectionPoolOptions) {
    this.opts = opts;
  }

  /** Number of open connections. */
  get size(): number {
    return this.byId.size;
  }

  /** True while another connection may be added. */
  hasRoom(): boolean {
    return !this.stopped && this.byId.size + this.connecting.size < this.opts.maxConnections;
  }

  /**
   * Registers an open connection; the newest one is the one found for its peer. A connection
   * that completes after {@link closeAll} is closed at once.
   */
  add(c: Connection): void {
    if (this.stopped) {
      c.close('shutdown');
      return;
    }
    const key = peerKey(c.remote);
    this.keys.set(c, key);
    this.byId.set(c.id, c);
    const list = this.byPeer.get(key);
    if (list) list.push(c);
    else this.byPeer.set(key, [c]);
    this.opts.stats.connectionsOpen = this.byId.size;
    this.armSweeper();
  }

  /** Forgets a connection (called once it closes); another open one to the peer takes its place. */
  remove(c: Connection): void {
    if (this.byId.get(c.id) !== c) return;
    this.byId.delete(c.id);
    const key = this.keys.get(c)!;
    const list = this.byPeer.get(key);
    if (list) {
      const i = list.indexOf(c);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byPeer.delete(key);
    }
    this.opts.stats.connectionsOpen = this.byId.size;
  }

  /** The open connection with this id. */
  get(id: string): Connection | undefined {
    const c = this.byId.get(id);
    return c && !c.closed ? c : undefined;
  }

  /** An open connection to `peer` (same protocol, address and port). */
  find(peer: Endpoint): Connection | undefined {
    const list = this.byPeer.get(peerKey(peer));
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) if (!list[i]!.closed) return list[i];
    return undefined;
  }

  /**
   * An open connection to `peer`, or the one being opened to it, or a new one from `open`:
   * concurrent sends to the same peer share one connect (RFC 3261 §18.1.1).
   */
  acquire(peer: Endpoint, open: () => Promise<Connection>): Promise<Connection> {
    const existing = this.find(peer);
    if (existing) return Promise.resolve(existing);
    const key = peerKey(peer);
    const pending = this.connecting.get(key);
    if (pending) return pending;
    if (!this.hasRoom()) return Promise.reject(new TransportError(`connection limit reached, cannot connect to ${key}`));
    const p = open().finally(() => this.connecting.delete(key));
    this.connecting.set(key, p);
    return p;
  }

  /** Every open connection. */
  all(): Connection[] {
    return [...this.byId.values()];
  }

  /** Closes every connection and stops the idle sweeper. */
  closeAll(): void {
    this.stopped = true;
    this.sweeper?.cancel();
    this.sweeper = undefined;
    for (const c of this.all()) c.close('shutdown');
    this.byId.clear();
    this.byPeer.clear();
    this.opts.stats.connectionsOpen = 0;
  }

  /** Closes connections idle for longer than the timeout. */
  sweep(): void {
    const limit = this.opts.clock.now() - this.opts.idleTimeoutMs;
    for (const c of this.all()) {
      if (c.lastActivity <= limit) {
        this.opts.stats.connectionsClosedIdle++;
        c.close('idle');
      }
    }
  }

  private armSweeper(): void {
    if (this.sweeper || this.stopped) return;
    const every = Math.max(10, Math.min(this.opts.idleTimeoutMs / 2, 30_000));
    const tick = (): void => {
      this.sweeper = undefined;
      this.sweep();
      if (this.byId.size > 0) this.armSweeper();
    };
    this.sweeper = this.opts.clock.setTimer(every, tick);
  }
}
