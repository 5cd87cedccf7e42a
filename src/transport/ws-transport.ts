/**
 * The WebSocket adapter (RFC 7118): HTTP(S) servers that upgrade to WebSocket only when the
 * client offers the `sip` subprotocol (RFC 7118 §4.1; otherwise the handshake is refused),
 * each WebSocket message carrying exactly one SIP message, text or binary (§5.1).
 * WSS uses the TLS settings of the manager. Outbound WS/WSS connections are supported too.
 * @module
 */
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { isUtf8 } from 'node:buffer';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { TransportError } from '../errors.js';
import { BaseConnection, type CloseReason, type Connection, type ConnectionInit } from './connection.js';
import type { Listener, ListenSpec } from './listener.js';
import { tlsPeerInfo } from './stream-connection.js';
import { bindServer, closeServer } from './tcp-transport.js';
import { tlsClientOptions, tlsServerOptions } from './tls-transport.js';
import type { TransportContext } from './transport-context.js';
import { endpointKey, hostOf, type Target } from './types.js';

/** The WebSocket subprotocol of SIP (RFC 7118 §4.1, IANA WebSocket Subprotocol Name Registry). */
export const SIP_SUBPROTOCOL = 'sip';

/** One WebSocket connection carrying SIP. */
export class WsConnection extends BaseConnection {
  private readonly ctx: TransportContext;
  private readonly ws: WebSocket;

  constructor(ws: WebSocket, ctx: TransportContext, a: ConnectionInit) {
    super(ctx, a);
    this.ctx = ctx;
    this.ws = ws;
    ws.on('message', (data: RawData) => this.onMessage(data));
    ws.on('ping', () => (this.lastActivity = ctx.clock.now()));
    ws.on('error', (error: Error & { code?: string }) => {
      // The ws library enforces maxPayload (the message size limit) and closes with 1009.
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') ctx.stats.tooLarge++;
      ctx.logger.debug('WebSocket error', { connectionId: this.id, error });
    });
    ws.on('close', () => {
      this.closed = true;
      ctx.pool.remove(this);
    });
  }

  private onMessage(data: RawData): void {
    if (this.closed) return;
    this.lastActivity = this.ctx.clock.now();
    try {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      this.ctx.pipeline.datagram(buf, this.rx);
    } catch (error) {
      this.ctx.logger.error('WebSocket receive failed', { connectionId: this.id, error });
    }
  }

  /** Sends one message: a text frame when it is valid UTF-8, else a binary frame (RFC 7118 §5.1). */
  write(bytes: Buffer): Promise<void> {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new TransportError(`connection ${this.id} to ${endpointKey(this.remote)} is closed`));
    }
    if (this.ws.bufferedAmount > this.ctx.maxWriteBuffer) {
      this.close('error');
      return Promise.reject(new TransportError(`connection ${this.id}: peer not reading, closed`));
    }
    this.lastActivity = this.ctx.clock.now();
    return new Promise((resolve, reject) => {
      this.ws.send(bytes, { binary: !isUtf8(bytes) }, (err) => (err ? reject(new TransportError(`send on ${this.id} failed`, err)) : resolve()));
    });
  }

  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.pool.remove(this);
    if (reason === 'shutdown' || reason === 'error') {
      this.ws.terminate();
      return;
    }
    // RFC 6455 §7.4.1: 1000 normal closure (idle), 1008 policy violation (garbage).
    this.ws.close(reason === 'garbage' ? 1008 : 1000);
    const t = this.ctx.clock.setTimer(2_000, () => this.ws.terminate());
    this.ws.once('close', () => t.cancel());
  }
}

/** True when the Sec-WebSocket-Protocol offer includes `sip`. */
function offersSip(req: IncomingMessage): boolean {
  const h = req.headers['sec-websocket-protocol'];
  if (typeof h !== 'string') return false;
  return h.split(',').some((p) => p.trim() === SIP_SUBPROTOCOL);
}

function refuse(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Starts a WS or WSS listener. */
export async function listenWs(spec: ListenSpec, family: 4 | 6, ctx: TransportContext): Promise<Listener> {
  const secure = spec.protocol === 'wss';
  const server: Server = secure ? createHttpsServer(tlsServerOptions(ctx.tls, ctx.connectTimeoutMs)) : createHttpServer();
  server.headersTimeout = ctx.connectTimeoutMs;
  server.requestTimeout = ctx.connectTimeoutMs;
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: ctx.limits.maxMessageSize,
    handleProtocols: (offered) => (offered.has(SIP_SUBPROTOCOL) ? SIP_SUBPROTOCOL : false),
  });
  const endpoint = await bindServer(server, spec, family);
  server.on('request', (_req, res) => {
    res.writeHead(426, { Connection: 'close', Upgrade: 'websocket' });
    res.end();
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (error) => ctx.logger.debug('WebSocket upgrade socket error', { error }));
    try {
      // RFC 7118 §4.1: the client MUST offer "sip"; refuse the handshake otherwise.
      if (!offersSip(req)) {
        ctx.stats.connectionsRejected++;
        refuse(socket, '400 Bad Request');
        return;
      }
      if (!ctx.pool.hasRoom()) {
        ctx.stats.connectionsRejected++;
        refuse(socket, '503 Service Unavailable');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const s = req.socket;
        if (s.remoteAddress === undefined || s.remotePort === undefined) {
          ws.terminate();
          return;
        }
        const remote = { protocol: spec.protocol, address: s.remoteAddress, port: s.remotePort };
        const tls = secure ? tlsPeerInfo(s as TLSSocket) : undefined;
        ctx.pool.add(new WsConnection(ws, ctx, { protocol: spec.protocol, remote, local: endpoint, outbound: false, tls }));
      });
    } catch (error) {
      ctx.logger.error('WebSocket upgrade failed', { error });
      socket.destroy();
    }
  });
  if (secure) {
    server.on('tlsClientError', (error) => {
      ctx.stats.tlsHandshakeFailures++;
      ctx.logger.debug('TLS handshake failed', { listener: endpointKey(endpoint), error });
    });
  }
  server.on('clientError', (error, socket) => {
    ctx.logger.debug('HTTP client error', { error });
    socket.destroy();
  });
  server.on('error', (error) => ctx.logger.warn('WebSocket listener error', { listener: endpointKey(endpoint), error }));
  const close = async (): Promise<void> => {
    wss.close();
    server.closeAllConnections();
    await closeServer(server);
  };
  return { endpoint, family, close };
}

/** Opens a WS/WSS connection to `target` (path `/`) offering `sip`, and adds it to the pool. */
export function connectWs(target: Target, ctx: TransportContext): Promise<Connection> {
  const secure = target.protocol === 'wss';
  const url = `${secure ? 'wss' : 'ws'}://${hostOf(target.address)}:${target.port}/`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, SIP_SUBPROTOCOL, {
      handshakeTimeout: ctx.connectTimeoutMs,
      maxPayload: ctx.limits.maxMessageSize,
      perMessageDeflate: false,
      ...(secure ? tlsClientOptions(ctx.tls, target) : {}),
    });
    const onError = (err: Error): void => reject(new TransportError(`WebSocket connect to ${endpointKey(target)} failed`, err));
    let s: Socket | undefined;
    ws.once('upgrade', (res: IncomingMessage) => (s = res.socket));
    ws.once('error', onError);
    ws.once('open', () => {
      ws.off('error', onError);
      const local = { protocol: target.protocol, address: s?.localAddress ?? '', port: s?.localPort ?? 0 };
      const remote = { protocol: target.protocol, address: target.address, port: target.port };
      const conn = new WsConnection(ws, ctx, { protocol: target.protocol, remote, local, outbound: true, tls: secure && s ? tlsPeerInfo(s as TLSSocket) : undefined });
      ctx.pool.add(conn);
      resolve(conn);
    });
  });
}
