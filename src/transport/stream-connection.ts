/**
 * A TCP or TLS connection: a socket, its framing state and its place in the pool
 * (RFC 3261 §18.3 framing, RFC 5626 §4.4.1 keep-alives).
 * @module
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { TransportError } from '../errors.js';
import { BaseConnection, type CloseReason, type ConnectionInit } from './connection.js';
import { StreamReader } from './stream-reader.js';
import type { TransportContext } from './transport-context.js';
import { endpointKey, type Endpoint, type TlsPeerInfo, type TransportProtocol } from './types.js';

/** How long a graceful close may take to flush before the socket is destroyed (ms). */
const LINGER_MS = 2_000;

/** One TCP or TLS connection. */
export class StreamConnection extends BaseConnection {
  private readonly ctx: TransportContext;
  private readonly socket: Socket;
  private readonly reader: StreamReader;

  constructor(socket: Socket, ctx: TransportContext, a: ConnectionInit) {
    super(ctx, a);
    this.ctx = ctx;
    this.socket = socket;
    this.reader = new StreamReader(ctx.limits);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => ctx.logger.debug('connection error', { connectionId: this.id, error }));
    socket.on('close', () => this.onClosed());
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastActivity = this.ctx.clock.now();
    try {
      if (!this.ctx.pipeline.stream(this.reader, chunk, this.rx)) this.close('garbage');
    } catch (error) {
      this.ctx.logger.error('stream receive failed', { connectionId: this.id, error });
      this.close('error');
    }
  }

  write(bytes: Buffer): Promise<void> {
    if (this.closed || this.socket.destroyed || !this.socket.writable) {
      return Promise.reject(new TransportError(`connection ${this.id} to ${endpointKey(this.remote)} is closed`));
    }
    if (this.socket.writableLength > this.ctx.maxWriteBuffer) {
      // Memory bound: a peer that does not read gets disconnected, not buffered without end.
      this.close('error');
      return Promise.reject(new TransportError(`connection ${this.id}: peer not reading, closed`));
    }
    this.lastActivity = this.ctx.clock.now();
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (err) => (err ? reject(new TransportError(`write on ${this.id} failed`, err)) : resolve()));
    });
  }

  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.pool.remove(this);
    this.ctx.logger.debug('closing connection', { connectionId: this.id, reason });
    if (reason === 'garbage' || reason === 'idle' || reason === 'requested') {
      const t = this.ctx.clock.setTimer(LINGER_MS, () => this.socket.destroy());
      this.socket.end(() => {
        t.cancel();
        this.socket.destroy();
      });
    } else this.socket.destroy();
  }

  private onClosed(): void {
    this.closed = true;
    this.ctx.pool.remove(this);
  }
}

/** The TLS facts of an established TLS socket. */
export function tlsPeerInfo(s: TLSSocket): TlsPeerInfo {
  const cert = s.getPeerX509Certificate();
  const err = s.authorizationError as unknown;
  return {
    authorized: s.authorized,
    authorizationError: err === null || err === undefined ? undefined : String(err),
    peerCertificate: cert?.raw,
    version: s.getProtocol() ?? undefined,
  };
}

/**
 * Wraps an accepted or opened socket in a {@link StreamConnection} and registers it, or
 * destroys it when the pool is full. Returns undefined when refused.
 */
export function adoptSocket(
  socket: Socket, ctx: TransportContext, protocol: TransportProtocol, local: Endpoint | undefined, outbound: boolean, tls?: TlsPeerInfo,
): StreamConnection | undefined {
  const remoteAddress = socket.remoteAddress;
  const remotePort = socket.remotePort;
  if (remoteAddress === undefined || remotePort === undefined || (!outbound && !ctx.pool.hasRoom())) {
    if (!outbound) ctx.stats.connectionsRejected++;
    socket.destroy();
    return undefined;
  }
  const me = local ?? { protocol, address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
  const conn = new StreamConnection(socket, ctx, { protocol, remote: { protocol, address: remoteAddress, port: remotePort }, local: me, outbound, tls });
  ctx.pool.add(conn);
  return conn;
}
