/**
 * The TCP adapter (RFC 3261 §18.3): a listening server whose accepted sockets join the
 * connection pool, and outbound connects with a bounded timeout.
 * @module
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { TransportError } from '../errors.js';
import type { Connection } from './connection.js';
import type { Listener, ListenSpec } from './listener.js';
import { adoptSocket } from './stream-connection.js';
import type { TransportContext } from './transport-context.js';
import { endpointKey, type Endpoint, type Target } from './types.js';

/** Starts listening; resolves once bound. */
export async function listenTcp(spec: ListenSpec, family: 4 | 6, ctx: TransportContext): Promise<Listener> {
  const server = createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 });
  const endpoint = await bindServer(server, spec, family);
  server.on('connection', (socket: Socket) => {
    try {
      adoptSocket(socket, ctx, 'tcp', endpoint, false);
    } catch (error) {
      ctx.logger.error('accepting TCP connection failed', { error });
      socket.destroy();
    }
  });
  server.on('error', (error) => ctx.logger.warn('TCP listener error', { listener: endpointKey(endpoint), error }));
  return { endpoint, family, close: () => closeServer(server) };
}

/** Opens a TCP connection to `target` (RFC 3261 §18.1.1) and adds it to the pool. */
export function connectTcp(target: Target, ctx: TransportContext): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.address, port: target.port, noDelay: true, keepAlive: true });
    const timer = ctx.clock.setTimer(ctx.connectTimeoutMs, () => {
      socket.destroy();
      reject(new TransportError(`connect to ${endpointKey(target)} timed out`));
    });
    const onError = (err: Error): void => {
      timer.cancel();
      reject(new TransportError(`connect to ${endpointKey(target)} failed`, err));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      timer.cancel();
      socket.off('error', onError);
      const conn = adoptSocket(socket, ctx, 'tcp', undefined, true);
      if (conn) resolve(conn);
      else reject(new TransportError(`connect to ${endpointKey(target)} failed`));
    });
  });
}

/** Binds a net/tls/http server to the spec; the IPv6 socket is IPv6-only. */
export function bindServer(server: Server, spec: ListenSpec, family: 4 | 6): Promise<Endpoint> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(new TransportError(`cannot listen on ${endpointKey(spec)}`, err));
    server.once('error', onError);
    server.listen({ host: spec.address, port: spec.port, ipv6Only: family === 6, exclusive: true }, () => {
      server.off('error', onError);
      const addr = server.address();
      const port = addr && typeof addr === 'object' ? addr.port : spec.port;
      resolve({ protocol: spec.protocol, address: spec.address, port });
    });
  });
}

/** Stops a server from accepting; resolves when it has closed. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}
