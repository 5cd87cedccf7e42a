/**
 * The TLS adapter (RFC 3261 §26.2.1, RFC 5922): TLS 1.2 and 1.3 only; the server presents
 * the configured certificate and may request or require a client certificate; as a client
 * it verifies the server against `ca` (or Node's roots) and the target name or IP.
 * @module
 */
import { isIP } from 'node:net';
import { checkServerIdentity, connect, createServer, type ConnectionOptions, type TLSSocket, type TlsOptions } from 'node:tls';
import { ConfigError, TransportError } from '../errors.js';
import type { Connection } from './connection.js';
import type { Listener, ListenSpec } from './listener.js';
import { adoptSocket, tlsPeerInfo } from './stream-connection.js';
import { bindServer, closeServer } from './tcp-transport.js';
import { TLS_VERSIONS, type TlsSettings, type TransportContext } from './transport-context.js';
import { endpointKey, type Target } from './types.js';

/** Node server options for our TLS settings (shared with WSS). */
export function tlsServerOptions(tls: TlsSettings | undefined, handshakeTimeout: number): TlsOptions {
  if (!tls?.cert || !tls.key) throw new ConfigError('TLS listening needs tls.cert and tls.key');
  return {
    cert: tls.cert,
    key: tls.key,
    ca: tls.ca,
    requestCert: tls.requestClientCert === true || tls.requireClientCert === true,
    rejectUnauthorized: tls.requireClientCert === true,
    handshakeTimeout,
    ...TLS_VERSIONS,
  };
}

/** Node client options for a connection to `target` (shared with WSS). */
export function tlsClientOptions(tls: TlsSettings | undefined, target: Target): ConnectionOptions {
  const name = target.serverName;
  const opts: ConnectionOptions = {
    ca: tls?.ca,
    cert: tls?.cert,
    key: tls?.key,
    rejectUnauthorized: tls?.rejectUnauthorized !== false,
    ...TLS_VERSIONS,
  };
  if (name !== undefined) {
    // RFC 6066 §3: SNI carries host names only, never IP literals.
    if (isIP(name) === 0) opts.servername = name;
    // RFC 5922 §7.2: match the certificate against the name we meant to reach.
    opts.checkServerIdentity = (_host, cert) => checkServerIdentity(name, cert);
  }
  return opts;
}

/** Starts a TLS listener. */
export async function listenTls(spec: ListenSpec, family: 4 | 6, ctx: TransportContext): Promise<Listener> {
  const server = createServer(tlsServerOptions(ctx.tls, ctx.connectTimeoutMs));
  const endpoint = await bindServer(server, spec, family);
  server.on('secureConnection', (socket: TLSSocket) => {
    try {
      adoptSocket(socket, ctx, 'tls', endpoint, false, tlsPeerInfo(socket));
    } catch (error) {
      ctx.logger.error('accepting TLS connection failed', { error });
      socket.destroy();
    }
  });
  server.on('tlsClientError', (error) => {
    ctx.stats.tlsHandshakeFailures++;
    ctx.logger.debug('TLS handshake failed', { listener: endpointKey(endpoint), error });
  });
  server.on('error', (error) => ctx.logger.warn('TLS listener error', { listener: endpointKey(endpoint), error }));
  return { endpoint, family, close: () => closeServer(server) };
}

/** Opens a TLS connection to `target`, verified per the settings, and adds it to the pool. */
export function connectTls(target: Target, ctx: TransportContext): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.address, port: target.port, ...tlsClientOptions(ctx.tls, target) });
    const timer = ctx.clock.setTimer(ctx.connectTimeoutMs, () => {
      socket.destroy();
      reject(new TransportError(`TLS connect to ${endpointKey(target)} timed out`));
    });
    const onError = (err: Error): void => {
      timer.cancel();
      ctx.stats.tlsHandshakeFailures++;
      reject(new TransportError(`TLS connect to ${endpointKey(target)} failed`, err));
    };
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      timer.cancel();
      socket.off('error', onError);
      const conn = adoptSocket(socket, ctx, 'tls', undefined, true, tlsPeerInfo(socket));
      if (conn) resolve(conn);
      else reject(new TransportError(`TLS connect to ${endpointKey(target)} failed`));
    });
  });
}
