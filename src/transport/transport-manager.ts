/**
 * The transport layer of Sipher (RFC 3261 §18, RFC 7118): UDP, TCP, TLS, WS and WSS
 * listeners, the connection pool and the one receive path they share. The layers above see
 * it through {@link TransportLayer}; the composition root creates, listens and closes it.
 * @module
 */
import { ConfigError, TransportError } from '../errors.js';
import { DEFAULT_LIMITS, serialize, type MessageLimits, type SipMessage } from '../sip/index.js';
import { systemClock, type Clock } from '../util/clock.js';
import { nullLogger, type Logger } from '../util/logger.js';
import { createCryptoRandom, randomToken, type Random } from '../util/random.js';
import { ipFamily, sameAddress } from './address.js';
import type { Connection } from './connection.js';
import { ConnectionPool } from './connection-pool.js';
import { InboundPipeline } from './inbound-pipeline.js';
import type { Listener, ListenSpec } from './listener.js';
import { connectTcp, listenTcp } from './tcp-transport.js';
import { connectTls, listenTls } from './tls-transport.js';
import type { TlsSettings, TransportContext } from './transport-context.js';
import { copyStats, createStats, type TransportStats } from './transport-stats.js';
import { DEFAULT_UDP_BUFFER, UdpListener } from './udp-transport.js';
import { connectWs, listenWs } from './ws-transport.js';
import {
  endpointKey, type Endpoint, type Inbound, type MessageProtector, type Target, type TransportLayer, type TransportProtocol,
} from './types.js';

/** Options of {@link TransportManager}. Validated once, in the constructor. */
export interface TransportManagerOptions {
  /** Receives every valid message (Via already stamped). Exceptions are caught and logged. */
  onMessage: (inbound: Inbound) => void;
  /** Default: {@link nullLogger}. */
  logger?: Logger;
  /** Message size limits. Default: `DEFAULT_LIMITS` (65 535 bytes). */
  limits?: MessageLimits;
  /** Certificate, key and verification policy for TLS and WSS (SIP-2). Needed to listen on them. */
  tls?: TlsSettings;
  /** Connections without traffic for this long are closed, ms. Default 300 000 (5 min). */
  idleTimeoutMs?: number;
  /** Largest number of open connections (all stream protocols). Default 10 000. */
  maxConnections?: number;
  /** Bound on connect plus TLS/WebSocket handshake, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Unsent bytes per connection beyond which it is closed. Default 1 MiB. */
  maxWriteBuffer?: number;
  /** UDP socket send/receive buffer size asked of the kernel, bytes. Default 4 MiB. */
  udpBufferSize?: number;
  /** Time source of idle timeouts and connect timers. Default: the system clock. */
  clock?: Clock;
  /** Randomness for connection id prefixes. Default: the CSPRNG. */
  random?: Random;
}

const STREAM_LISTEN = { tcp: listenTcp, tls: listenTls, ws: listenWs, wss: listenWs } as const;
const STREAM_CONNECT = { tcp: connectTcp, tls: connectTls, ws: connectWs, wss: connectWs } as const;

/**
 * All transports of one server or client. Constructing does no I/O; {@link listen} binds,
 * {@link close} releases everything.
 */
export class TransportManager implements TransportLayer {
  private readonly ctx: TransportContext;
  private readonly counters: TransportStats;
  private readonly pool: ConnectionPool;
  private readonly udpBufferSize: number;
  private readonly listeners: Listener[] = [];
  private readonly udp: UdpListener[] = [];
  private readonly pipeline: InboundPipeline;
  private closed = false;

  constructor(options: TransportManagerOptions) {
    if (typeof options.onMessage !== 'function') throw new TypeError('onMessage must be a function');
    const limits = Object.freeze({ ...(options.limits ?? DEFAULT_LIMITS) });
    const logger = options.logger ?? nullLogger;
    const clock = options.clock ?? systemClock;
    const idleTimeoutMs = positive(options.idleTimeoutMs ?? 300_000, 'idleTimeoutMs');
    const maxConnections = positive(options.maxConnections ?? 10_000, 'maxConnections');
    const connectTimeoutMs = positive(options.connectTimeoutMs ?? 10_000, 'connectTimeoutMs');
    const maxWriteBuffer = positive(options.maxWriteBuffer ?? 1024 * 1024, 'maxWriteBuffer');
    this.udpBufferSize = positive(options.udpBufferSize ?? DEFAULT_UDP_BUFFER, 'udpBufferSize');
    this.counters = createStats();
    this.pool = new ConnectionPool({ maxConnections, idleTimeoutMs, clock, stats: this.counters });
    const pipeline = new InboundPipeline({ limits, logger, stats: this.counters, onMessage: options.onMessage });
    this.pipeline = pipeline;
    // A random prefix keeps ids unique across restarts (RFC 5626 flows may be stored).
    const prefix = randomToken(options.random ?? createCryptoRandom(), 10);
    let seq = 0;
    this.ctx = {
      limits, logger, clock, pipeline,
      stats: this.counters,
      pool: this.pool,
      tls: options.tls ? Object.freeze({ ...options.tls }) : undefined,
      connectTimeoutMs,
      maxWriteBuffer,
      nextConnectionId: (protocol) => `${protocol}-${prefix}-${++seq}`,
    };
  }

  /**
   * Binds every spec (IP literal, port 0 = any free port) and resolves with the bound
   * endpoints in the same order. If one fails, those bound by this call are closed again
   * and the call rejects with `TransportError` (or `ConfigError` for a bad spec).
   */
  async listen(specs: readonly ListenSpec[]): Promise<Endpoint[]> {
    if (this.closed) throw new TransportError('transport manager is closed');
    const opened: Listener[] = [];
    try {
      for (const spec of specs) {
        const family = ipFamily(spec.address);
        if (family === 0) throw new ConfigError(`listen address must be an IP literal: ${spec.address}`);
        if (!Number.isInteger(spec.port) || spec.port < 0 || spec.port > 65535) throw new ConfigError(`bad listen port ${spec.port}`);
        const address = spec.address.replace(/^\[(.*)\]$/, '$1');
        const s = { protocol: spec.protocol, address, port: spec.port };
        if (spec.protocol === 'udp') {
          const l = await UdpListener.open(s, family, this.ctx, this.udpBufferSize);
          opened.push(l);
          this.udp.push(l);
        } else if (spec.protocol in STREAM_LISTEN) {
          opened.push(await STREAM_LISTEN[spec.protocol](s, family, this.ctx));
        } else throw new ConfigError(`unknown transport protocol ${String(spec.protocol)}`);
      }
    } catch (error) {
      await Promise.all(opened.map((l) => l.close()));
      for (const l of opened) this.forget(l);
      throw error;
    }
    this.listeners.push(...opened);
    this.ctx.logger.info('transports listening', { endpoints: opened.map((l) => endpointKey(l.endpoint)) });
    return opened.map((l) => ({ ...l.endpoint }));
  }

  /**
   * Serializes `message` once and sends it (RFC 3261 §18.1.1, §18.2.2). UDP: from the
   * listener of the target's family (or `target.local`). Streams: on `target.connectionId`
   * if open, else on an open connection to the same peer, else on a new connection
   * (TCP/TLS/WS/WSS). Rejects with `TransportError`.
   */
  async send(message: SipMessage, target: Target): Promise<void> {
    if (this.closed) throw new TransportError('transport manager is closed');
    const protector = this.pipeline.slot.protector;
    let bytes: Buffer;
    try {
      bytes = protector ? protector.protect(message, target) : serialize(message);
    } catch (error) {
      throw new TransportError(`cannot protect a message for ${endpointKey(target)}`, error);
    }
    try {
      if (target.protocol === 'udp') await this.udpFor(target).send(bytes, target.address, target.port);
      else await (await this.connectionFor(target)).write(bytes);
    } catch (error) {
      throw error instanceof TransportError ? error : new TransportError(`send to ${endpointKey(target)} failed`, error);
    }
    this.counters.sent[target.protocol]++;
  }

  /**
   * Wires the SA record layer (SPEC SA-*): received records and partial-range messages are
   * opened by it, and every message sent passes through it. Set once, by the composition root.
   */
  setProtector(protector: MessageProtector | undefined): void {
    this.pipeline.slot.protector = protector;
  }

  /** The first listening endpoint of `protocol` (of `family` if given). */
  localEndpoint(protocol: TransportProtocol, family?: 4 | 6): Endpoint | undefined {
    const l = this.listeners.find((x) => x.endpoint.protocol === protocol && (family === undefined || x.family === family));
    return l ? { ...l.endpoint } : undefined;
  }

  /** True while the connection with this id is open (RFC 5626 flow liveness). */
  isConnectionOpen(connectionId: string): boolean {
    return this.pool.get(connectionId) !== undefined;
  }

  /** Closes one connection after flushing it (e.g. a flow the registrar dropped). */
  closeConnection(connectionId: string): void {
    this.pool.get(connectionId)?.close('requested');
  }

  /** A snapshot of the counters. */
  stats(): TransportStats {
    return copyStats(this.counters);
  }

  /** Stops listening and closes every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pool.closeAll();
    const ls = this.listeners.splice(0);
    this.udp.splice(0);
    await Promise.all(ls.map((l) => l.close().catch(() => undefined)));
  }

  private udpFor(target: Target): UdpListener {
    const family = ipFamily(target.address);
    const candidates = this.udp.filter((l) => l.family === family);
    const chosen =
      (target.local && candidates.find((l) => l.endpoint.port === target.local!.port && sameAddress(l.endpoint.address, target.local!.address))) ??
      candidates[0];
    if (!chosen) throw new TransportError(`no UDP listener for IPv${family === 0 ? '?' : family} to send to ${endpointKey(target)}`);
    return chosen;
  }

  private async connectionFor(target: Target): Promise<Connection> {
    if (target.connectionId !== undefined) {
      const c = this.pool.get(target.connectionId);
      if (c) return c;
    }
    if (ipFamily(target.address) === 0) throw new TransportError(`target address must be an IP literal: ${target.address}`);
    const connect = STREAM_CONNECT[target.protocol as keyof typeof STREAM_CONNECT];
    // RFC 3261 §18.2.2: if the connection is gone, open a new one to the same address and port.
    return this.pool.acquire(target, () => connect(target, this.ctx));
  }

  private forget(l: Listener): void {
    const i = this.udp.indexOf(l as UdpListener);
    if (i >= 0) this.udp.splice(i, 1);
  }
}

function positive(n: number, what: string): number {
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${what} must be a positive number`);
  return n;
}
