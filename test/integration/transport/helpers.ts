/**
 * Helpers of the transport integration tests: plain-string message builders, a manager that
 * records what it receives, and raw socket clients.
 */
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { TransportManager, type TransportManagerOptions } from '../../../src/transport/transport-manager.js';
import type { Inbound } from '../../../src/transport/types.js';

let seq = 0;

/** A request as a wire string. `via` is the sent-by (`host:port`). */
export function request(o: { method?: string; via?: string; transport?: string; viaParams?: string; branch?: string; body?: string; extra?: string[]; callId?: string } = {}): string {
  const method = o.method ?? 'OPTIONS';
  const body = o.body ?? '';
  const branch = o.branch ?? `z9hG4bK-t${++seq}`;
  return [
    `${method} sip:bob@example.com SIP/2.0`,
    `Via: SIP/2.0/${o.transport ?? 'UDP'} ${o.via ?? 'client.example.com:5060'};branch=${branch}${o.viaParams ?? ''}`,
    'Max-Forwards: 70',
    'From: <sip:alice@example.com>;tag=a1',
    'To: <sip:bob@example.com>',
    `Call-ID: ${o.callId ?? `call-${seq}@example.com`}`,
    `CSeq: 1 ${method}`,
    ...(o.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** A 200 OK response as a wire string. */
export function okResponse(callId = 'resp@example.com'): string {
  return [
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-resp',
    'From: <sip:alice@example.com>;tag=a1',
    'To: <sip:bob@example.com>;tag=b1',
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** A manager whose received messages collect in `inbox`. */
export function recordingManager(opts: Partial<TransportManagerOptions> = {}): { tm: TransportManager; inbox: Inbound[] } {
  const inbox: Inbound[] = [];
  const tm = new TransportManager({ ...opts, onMessage: (i) => inbox.push(i) });
  return { tm, inbox };
}

/** Resolves once `cond()` is true; rejects after `ms`. */
export async function waitFor(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A raw UDP client recording every datagram it receives. */
export async function udpClient(family: 4 | 6): Promise<{ socket: DgramSocket; received: Buffer[]; port: number; send(s: string | Buffer, port: number, address: string): Promise<void>; close(): Promise<void> }> {
  const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  await new Promise<void>((r) => socket.bind(0, family === 6 ? '::1' : '127.0.0.1', () => r()));
  return {
    socket,
    received,
    port: socket.address().port,
    send: (s, port, address) => new Promise((res, rej) => socket.send(typeof s === 'string' ? Buffer.from(s, 'latin1') : s, port, address, (e) => (e ? rej(e) : res()))),
    close: () => new Promise((r) => socket.close(() => r())),
  };
}

/** A raw TCP client that accumulates what it receives and notes when the server closes. */
export async function tcpClient(port: number, host = '127.0.0.1'): Promise<{ socket: Socket; data: () => string; ended: () => boolean }> {
  const socket = connect({ port, host });
  let buf = '';
  let ended = false;
  socket.on('data', (d: Buffer) => (buf += d.toString('latin1')));
  socket.on('close', () => (ended = true));
  socket.on('error', () => undefined);
  await new Promise<void>((r, j) => {
    socket.once('connect', () => r());
    socket.once('error', j);
  });
  return { socket, data: () => buf, ended: () => ended };
}

/** The status line of each response found in `s`. */
export function statusLines(s: string): string[] {
  return s.split('\r\n').filter((l) => l.startsWith('SIP/2.0 '));
}
