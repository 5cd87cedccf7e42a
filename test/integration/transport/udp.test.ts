import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDatagram, SipRequest, SipResponse, createResponse } from '../../../src/sip/index.js';
import type { Endpoint } from '../../../src/transport/types.js';
import { okResponse, recordingManager, request, udpClient, waitFor } from './helpers.js';

describe('UDP transport', () => {
  const { tm, inbox } = recordingManager();
  let v4: Endpoint;
  let v6: Endpoint;

  before(async () => {
    [v4, v6] = (await tm.listen([
      { protocol: 'udp', address: '127.0.0.1', port: 0 },
      { protocol: 'udp', address: '::1', port: 0 },
    ])) as [Endpoint, Endpoint];
  });
  after(() => tm.close());

  it('listens on port 0 in both families and reports the real ports', () => {
    assert.ok(v4.port > 0 && v6.port > 0);
    assert.deepEqual(tm.localEndpoint('udp', 4), v4);
    assert.deepEqual(tm.localEndpoint('udp', 6), v6);
    assert.equal(tm.localEndpoint('tcp'), undefined);
  });

  for (const family of [4, 6] as const) {
    it(`round-trips a request and its response over IPv${family}`, async () => {
      const ep = family === 4 ? v4 : v6;
      const client = await udpClient(family);
      try {
        const host = family === 4 ? '127.0.0.1' : '[::1]';
        await client.send(request({ via: `${host}:${client.port}`, callId: `rt${family}` }), ep.port, ep.address);
        await waitFor(() => inbox.some((i) => i.message.get('call-id') === `rt${family}`));
        const got = inbox.find((i) => i.message.get('call-id') === `rt${family}`)!;
        assert.ok(got.message instanceof SipRequest);
        assert.deepEqual(got.source, { protocol: 'udp', address: ep.address, port: client.port });
        assert.deepEqual(got.local, ep);
        assert.equal(got.connectionId, undefined);
        // Sent-by equals the source: the Via is left untouched (RFC 3261 §18.2.1).
        assert.equal(got.message.topVia().params.has('received'), false);
        await tm.send(createResponse(got.message as SipRequest, 200, 'OK'), got.source);
        await waitFor(() => client.received.length === 1);
        const resp = parseDatagram(client.received[0]!) as SipResponse;
        assert.equal(resp.status, 200);
        assert.equal(resp.callId(), `rt${family}`);
        assert.equal(tm.stats().sent.udp >= 1, true);
      } finally {
        await client.close();
      }
    });
  }

  it('stamps received when sent-by differs and fills an empty rport (RFC 3261 §18.2.1, RFC 3581)', async () => {
    const client = await udpClient(4);
    try {
      await client.send(request({ via: 'phone.example.com:5060', callId: 'stamp1' }), v4.port, v4.address);
      await client.send(request({ via: `127.0.0.1:${client.port}`, viaParams: ';rport', callId: 'stamp2' }), v4.port, v4.address);
      await client.send(request({ via: '10.0.0.9', viaParams: ';rport;foo=bar', callId: 'stamp3' }), v4.port, v4.address);
      await waitFor(() => ['stamp1', 'stamp2', 'stamp3'].every((c) => inbox.some((i) => i.message.get('call-id') === c)));
      const via = (c: string) => inbox.find((i) => i.message.get('call-id') === c)!.message.topVia();
      assert.equal(via('stamp1').params.get('received'), '127.0.0.1');
      assert.equal(via('stamp1').params.has('rport'), false);
      // RFC 3581 §4: with rport, received is added even when it equals sent-by.
      assert.equal(via('stamp2').params.get('received'), '127.0.0.1');
      assert.equal(via('stamp2').params.get('rport'), String(client.port));
      assert.equal(via('stamp3').params.get('received'), '127.0.0.1');
      assert.equal(via('stamp3').params.get('rport'), String(client.port));
      assert.equal(via('stamp3').params.get('foo'), 'bar');
      assert.equal(via('stamp3').params.get('branch')?.startsWith('z9hG4bK'), true);
    } finally {
      await client.close();
    }
  });

  it('stamps an IPv6 source without brackets and keeps further Via values', async () => {
    const client = await udpClient(6);
    try {
      const raw = request({ via: 'phone.example.com', viaParams: ';rport', callId: 'stamp6', extra: ['Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp'] });
      await client.send(raw, v6.port, v6.address);
      await waitFor(() => inbox.some((i) => i.message.get('call-id') === 'stamp6'));
      const m = inbox.find((i) => i.message.get('call-id') === 'stamp6')!.message;
      const vias = m.vias();
      assert.equal(vias.length, 2);
      assert.equal(vias[0]!.params.get('received'), '::1');
      assert.equal(vias[0]!.params.get('rport'), String(client.port));
      assert.equal(vias[1]!.host, 'proxy.example.com');
    } finally {
      await client.close();
    }
  });

  it('does not stamp responses', async () => {
    const client = await udpClient(4);
    try {
      await client.send(okResponse('resp-nostamp'), v4.port, v4.address);
      await waitFor(() => inbox.some((i) => i.message.get('call-id') === 'resp-nostamp'));
      const m = inbox.find((i) => i.message.get('call-id') === 'resp-nostamp')!.message;
      assert.equal(m.topVia().params.has('received'), false);
    } finally {
      await client.close();
    }
  });

  it('ignores empty and CRLF-only keep-alive datagrams', async () => {
    const client = await udpClient(4);
    try {
      const before = tm.stats();
      await client.send(Buffer.alloc(0), v4.port, v4.address);
      await client.send('\r\n', v4.port, v4.address);
      await client.send('\r\n\r\n', v4.port, v4.address);
      await client.send(request({ via: `127.0.0.1:${client.port}`, callId: 'after-ka' }), v4.port, v4.address);
      await waitFor(() => inbox.some((i) => i.message.get('call-id') === 'after-ka'));
      const s = tm.stats();
      assert.equal(s.parseErrors, before.parseErrors);
      assert.equal(s.dropped, before.dropped);
      assert.equal(client.received.length, 0);
    } finally {
      await client.close();
    }
  });

  it('sends from the listener named by target.local and rejects a family without a listener', async () => {
    const client = await udpClient(6);
    try {
      const m = parseDatagram(Buffer.from(okResponse('local-pick'), 'latin1'));
      await tm.send(m, { protocol: 'udp', address: '::1', port: client.port, local: v6 });
      await waitFor(() => client.received.length === 1);
      const only4 = recordingManager();
      await only4.tm.listen([{ protocol: 'udp', address: '127.0.0.1', port: 0 }]);
      await assert.rejects(only4.tm.send(m, { protocol: 'udp', address: '::1', port: client.port }), { name: 'TransportError' });
      await only4.tm.close();
    } finally {
      await client.close();
    }
  });
});
