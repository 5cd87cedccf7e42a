import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { loadOrCreateTlsIdentity, type TlsIdentity } from '../../../src/server/tls-identity.js';
import { createResponse, parseDatagram, type SipRequest, type SipResponse } from '../../../src/sip/index.js';
import type { Endpoint } from '../../../src/transport/types.js';
import { recordingManager, request, waitFor } from './helpers.js';

interface Frame { data: Buffer; binary: boolean }

/** Opens a WebSocket client; resolves when open, rejects on handshake failure. */
function wsClient(url: string, protocols: string[] | undefined, opts: { ca?: string } = {}): Promise<{ ws: WebSocket; frames: Frame[]; closeCode: () => number | undefined }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, opts);
    const frames: Frame[] = [];
    let code: number | undefined;
    ws.on('message', (data, binary) => frames.push({ data: data as Buffer, binary }));
    ws.on('close', (c) => (code = c));
    ws.once('open', () => resolve({ ws, frames, closeCode: () => code }));
    ws.once('error', reject);
  });
}

describe('WebSocket transport (RFC 7118)', () => {
  let dir: string;
  let id: TlsIdentity;
  let srv: ReturnType<typeof recordingManager>;
  let ws4: Endpoint;
  let ws6: Endpoint;
  let wss4: Endpoint;
  const clients: WebSocket[] = [];
  const byCallId = (c: string) => srv.inbox.find((i) => i.message.get('call-id') === c);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sipher-ws-'));
    id = await loadOrCreateTlsIdentity(dir, ['localhost']);
    srv = recordingManager({ tls: { cert: id.cert, key: id.key }, limits: { maxMessageSize: 4096, maxHeaders: 64, maxHeadSize: 2048 } });
    [ws4, ws6, wss4] = (await srv.tm.listen([
      { protocol: 'ws', address: '127.0.0.1', port: 0 },
      { protocol: 'ws', address: '::1', port: 0 },
      { protocol: 'wss', address: '127.0.0.1', port: 0 },
    ])) as [Endpoint, Endpoint, Endpoint];
  });
  after(async () => {
    for (const c of clients) c.terminate();
    await srv.tm.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts the sip subprotocol; one message per frame, text or binary; answers as text', async () => {
    const c = await wsClient(`ws://127.0.0.1:${ws4.port}/`, ['sip']);
    clients.push(c.ws);
    assert.equal(c.ws.protocol, 'sip');
    c.ws.send(request({ transport: 'WS', via: 'df7jal23ls0d.invalid', callId: 'ws-text' }));
    c.ws.send(Buffer.from(request({ transport: 'WS', via: 'df7jal23ls0d.invalid', callId: 'ws-bin' }), 'latin1'), { binary: true });
    await waitFor(() => byCallId('ws-text') !== undefined && byCallId('ws-bin') !== undefined);
    const inb = byCallId('ws-text')!;
    assert.equal(inb.source.protocol, 'ws');
    assert.equal(inb.source.address, '127.0.0.1');
    assert.equal(inb.message.topVia().params.get('received'), '127.0.0.1');
    assert.equal(byCallId('ws-bin')!.connectionId, inb.connectionId);
    await srv.tm.send(createResponse(inb.message as SipRequest, 200, 'OK'), { ...inb.source, connectionId: inb.connectionId });
    await waitFor(() => c.frames.length === 1);
    assert.equal(c.frames[0]!.binary, false);
    assert.equal((parseDatagram(c.frames[0]!.data) as SipResponse).status, 200);
  });

  it('works over IPv6 and answers a malformed request with 400 on the same connection', async () => {
    const c = await wsClient(`ws://[::1]:${ws6.port}/`, ['sip']);
    clients.push(c.ws);
    c.ws.send(request({ transport: 'WS', callId: 'ws-bad' }).replace('CSeq: 1 OPTIONS', 'CSeq: 99999999999 OPTIONS'));
    await waitFor(() => c.frames.length === 1);
    const resp = parseDatagram(c.frames[0]!.data) as SipResponse;
    assert.equal(resp.status, 400);
    c.ws.send('complete garbage');
    c.ws.send(request({ transport: 'WS', callId: 'ws-after-garbage' }));
    await waitFor(() => byCallId('ws-after-garbage') !== undefined);
    assert.equal(byCallId('ws-after-garbage')!.source.address, '::1');
  });

  it('refuses the handshake without the sip subprotocol', async () => {
    const before = srv.tm.stats().connectionsRejected;
    await assert.rejects(wsClient(`ws://127.0.0.1:${ws4.port}/`, undefined), /Unexpected server response: 400/);
    await assert.rejects(wsClient(`ws://127.0.0.1:${ws4.port}/`, ['chat', 'xmpp']), /Unexpected server response: 400/);
    assert.equal(srv.tm.stats().connectionsRejected, before + 2);
  });

  it('answers plain HTTP with 426 Upgrade Required', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port: ws4.port, path: '/' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    assert.equal(status, 426);
  });

  it('closes a connection that sends a message over the size limit (1009)', async () => {
    const c = await wsClient(`ws://127.0.0.1:${ws4.port}/`, ['sip']);
    const before = srv.tm.stats().tooLarge;
    c.ws.send('x'.repeat(5000));
    await waitFor(() => c.closeCode() !== undefined);
    assert.equal(c.closeCode(), 1009);
    assert.equal(srv.tm.stats().tooLarge, before + 1);
  });

  it('serves WSS with the TLS identity', async () => {
    const c = await wsClient(`wss://127.0.0.1:${wss4.port}/`, ['sip'], { ca: id.cert });
    clients.push(c.ws);
    c.ws.send(request({ transport: 'WSS', callId: 'wss-1' }));
    await waitFor(() => byCallId('wss-1') !== undefined);
    const inb = byCallId('wss-1')!;
    assert.equal(inb.source.protocol, 'wss');
    assert.ok(inb.tls?.version?.startsWith('TLSv1.'));
  });

  it('opens outbound WS and WSS connections from another manager and reuses them', async () => {
    const cli = recordingManager({ tls: { ca: id.cert } });
    try {
      for (const [ep, tag] of [[ws6, 'ows'], [wss4, 'owss']] as const) {
        await cli.tm.send(parseDatagram(Buffer.from(request({ transport: 'WS', callId: `${tag}-1` }), 'latin1')), ep);
        await cli.tm.send(parseDatagram(Buffer.from(request({ transport: 'WS', callId: `${tag}-2` }), 'latin1')), ep);
        await waitFor(() => byCallId(`${tag}-2`) !== undefined);
        assert.equal(byCallId(`${tag}-1`)!.connectionId, byCallId(`${tag}-2`)!.connectionId);
        const inb = byCallId(`${tag}-1`)!;
        await srv.tm.send(createResponse(inb.message as SipRequest, 200, 'OK'), inb.source);
      }
      await waitFor(() => cli.inbox.length === 2);
      assert.deepEqual(cli.inbox.map((i) => i.source.protocol), ['ws', 'wss']);
      assert.equal(cli.tm.stats().connectionsOpen, 2);
    } finally {
      await cli.tm.close();
    }
  });
});
