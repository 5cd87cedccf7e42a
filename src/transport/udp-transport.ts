/**
 * The UDP adapter (RFC 3261 §18.1.1, §18.2.1): one socket per listen address (`udp6` for
 * IPv6, IPv6-only). Each datagram is parsed in place, without copying (hot path); answers
 * to bad requests go to the datagram's source address and port (RFC 3581 §4).
 * @module
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { TransportError } from '../errors.js';
import type { ReceiveContext } from './inbound-pipeline.js';
import type { Listener, ListenSpec } from './listener.js';
import type { TransportContext } from './transport-context.js';
import { endpointKey, type Endpoint } from './types.js';

/** Default socket buffer size asked of the kernel (capped by `net.core.[rw]mem_max`). */
export const DEFAULT_UDP_BUFFER = 4 * 1024 * 1024;

/** A bound UDP socket. */
export class UdpListener implements Listener {
  readonly endpoint: Endpoint;
  readonly family: 4 | 6;
  private readonly socket: Socket;
  private closed = false;

  private constructor(socket: Socket, endpoint: Endpoint, family: 4 | 6) {
    this.socket = socket;
    this.endpoint = endpoint;
    this.family = family;
  }

  /** Binds a socket for `spec` and starts receiving. */
  static open(spec: ListenSpec, family: 4 | 6, ctx: TransportContext, bufferSize = DEFAULT_UDP_BUFFER): Promise<UdpListener> {
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6 });
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close();
        reject(new TransportError(`cannot listen on ${endpointKey(spec)}`, err));
      };
      socket.once('error', onError);
      socket.bind({ address: spec.address, port: spec.port, exclusive: true }, () => {
        socket.off('error', onError);
        for (const set of [(n: number) => socket.setSendBufferSize(n), (n: number) => socket.setRecvBufferSize(n)]) {
          try {
            set(bufferSize);
          } catch (error) {
            ctx.logger.warn('cannot set UDP socket buffer size', { error });
          }
        }
        const endpoint: Endpoint = { protocol: 'udp', address: spec.address, port: socket.address().port };
        const l = new UdpListener(socket, endpoint, family);
        socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => l.onDatagram(msg, rinfo, ctx));
        socket.on('error', (error) => ctx.logger.warn('UDP socket error', { listener: endpointKey(endpoint), error }));
        resolve(l);
      });
    });
  }

  private onDatagram(msg: Buffer, rinfo: RemoteInfo, ctx: TransportContext): void {
    const rx: ReceiveContext = {
      source: { protocol: 'udp', address: rinfo.address, port: rinfo.port },
      local: this.endpoint,
      reply: (bytes) => {
        this.send(bytes, rinfo.address, rinfo.port).catch((error: unknown) => ctx.logger.debug('UDP reply failed', { error }));
      },
    };
    try {
      ctx.pipeline.datagram(msg, rx);
    } catch (error) {
      // Nothing may escape a socket callback: it would take the process down.
      ctx.logger.error('UDP receive failed', { error });
    }
  }

  /** Sends one datagram. Rejects with `TransportError`. */
  send(bytes: Buffer, address: string, port: number): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError('UDP socket closed'));
    return new Promise((resolve, reject) => {
      this.socket.send(bytes, port, address, (err) => (err ? reject(new TransportError(`UDP send to ${address}:${port} failed`, err)) : resolve()));
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
