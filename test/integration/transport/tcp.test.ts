import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createResponse, parseDatagram, type SipRequest, type SipResponse } from '../../../src/sip/index.js';
import type { Endpoint } from '../../../src/transport/types.js';
import { ManualClock } from '../../../src/util/clock.js';
import { recordingManager, request, statusLines, tcpClient, waitFor } from './helpers.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('TCP transport', () => {
  const { tm, inbox } = recordingManager();
  let v4: Endpoint;
  let v6: Endpoint;
  const sockets: { socket: { destroy(): void } }[] = [];
  const client = async (port: number, host?: string) => {
    const c = await tcpClient(port, host);
    sockets.push(c);
    return c;
  };
  const byCallId = (id: string) => inbox.find((i) => i.message.get('call-id') === id);

  before(async () => {
    [v4, v6] = (await tm.listen([
      { protocol: 'tcp', address: '127.0.0.1', port: 0 },
      { protocol: 'tcp', address: '::1', port: 0 },
    ])) as [Endpoint, Endpoint];
  });
  after(async () => {
    for (const s of sockets) s.socket.destroy();
    await tm.close();
  });

  it('frames a message split over several writes', async () => {
    const c = await client(v4.port);
    const raw = request({ transport: 'TCP', callId: 'split', body: 'hello body' });
    for (const part of [raw.slice(0, 7), raw.slice(7, 60), raw.slice(60, raw.length - 3), raw.slice(raw.length - 3)]) {
      c.socket.write(part, 'latin1');
      await pause(15);
    }
    await waitFor(() => byCallId('split') !== undefined);
    const got = byCallId('split')!;
    assert.equal(got.message.body.toString(), 'hello body');
    assert.equal(got.source.protocol, 'tcp');
    assert.ok(got.connectionId);
    assert.equal(tm.isConnectionOpen(got.connectionId), true);
  });

  it('frames coalesced messages and answers a CRLFCRLF ping with a CRLF pong (RFC 5626 §4.4.1)', async () => {
    const c = await client(v6.port, '::1');
    const pings = tm.stats().keepAlivePings;
    c.socket.write(request({ transport: 'TCP', callId: 'co1' }) + request({ transport: 'TCP', callId: 'co2' }) + '\r\n\r\n', 'latin1');
    await waitFor(() => byCallId('co1') !== undefined && byCallId('co2') !== undefined);
    await waitFor(() => c.data() === '\r\n', 3000, 'pong');
    assert.equal(tm.stats().keepAlivePings, pings + 1);
    assert.equal(byCallId('co1')!.connectionId, byCallId('co2')!.connectionId);
    assert.equal(byCallId('co1')!.source.address, '::1');
  });

  it('sends back over the inbound connection, by connectionId or by source address', async () => {
    const c = await client(v4.port);
    c.socket.write(request({ transport: 'TCP', callId: 'back' }), 'latin1');
    await waitFor(() => byCallId('back') !== undefined);
    const inb = byCallId('back')!;
    const open = tm.stats().connectionsOpen;
    await tm.send(createResponse(inb.message as SipRequest, 100, 'Trying'), { ...inb.source, connectionId: inb.connectionId });
    await tm.send(createResponse(inb.message as SipRequest, 200, 'OK'), inb.source);
    await waitFor(() => statusLines(c.data()).length === 2);
    assert.deepEqual(statusLines(c.data()), ['SIP/2.0 100 Trying', 'SIP/2.0 200 OK']);
    assert.equal(tm.stats().connectionsOpen, open);
  });

  it('answers a message over 65535 bytes with 513 and closes the connection', async () => {
    const c = await client(v4.port);
    const before = tm.stats();
    const big = request({ transport: 'TCP', callId: 'big' }).replace('Content-Length: 0', 'Content-Length: 70000');
    c.socket.write(big + 'x'.repeat(1000), 'latin1');
    await waitFor(() => c.ended(), 3000, 'close');
    assert.deepEqual(statusLines(c.data()), ['SIP/2.0 513 Message Too Large']);
    const s = tm.stats();
    assert.equal(s.tooLarge, before.tooLarge + 1);
    assert.equal(s.connectionsClosedForGarbage, before.connectionsClosedForGarbage + 1);
  });

  it('closes a connection that sends garbage, counted, without an answer', async () => {
    const c = await client(v4.port);
    const before = tm.stats();
    c.socket.write('\x16\x03\x01 this is not SIP at all\r\nreally\r\n\r\n', 'latin1');
    await waitFor(() => c.ended(), 3000, 'close');
    assert.equal(c.data(), '');
    const s = tm.stats();
    assert.equal(s.connectionsClosedForGarbage, before.connectionsClosedForGarbage + 1);
    assert.equal(s.parseErrors, before.parseErrors + 1);
    assert.equal(s.dropped, before.dropped + 1);
  });

  it('closes a connection whose head never ends within the head limit', async () => {
    const c = await client(v4.port);
    c.socket.write('OPTIONS sip:a@b SIP/2.0\r\nX: ' + 'y'.repeat(40_000), 'latin1');
    await waitFor(() => c.ended(), 3000, 'close');
  });

  it('answers 400 to a framed request that fails validation, and keeps the connection', async () => {
    const c = await client(v4.port);
    c.socket.write(request({ transport: 'TCP', callId: 'inval' }).replace('Max-Forwards: 70', 'Max-Forwards: abc'), 'latin1');
    await waitFor(() => statusLines(c.data()).length === 1);
    assert.deepEqual(statusLines(c.data()), ['SIP/2.0 400 Malformed Max-Forwards header']);
    c.socket.write(request({ transport: 'TCP', callId: 'after-inval' }), 'latin1');
    await waitFor(() => byCallId('after-inval') !== undefined);
    assert.equal(c.ended(), false);
  });

  it('answers a good message then the bad one when both arrive in one chunk', async () => {
    const c = await client(v4.port);
    const bad = request({ transport: 'TCP', callId: 'pipelined-bad' }).replace('Content-Length: 0', 'Content-Length: 99999');
    c.socket.write(request({ transport: 'TCP', callId: 'pipelined-good' }) + bad, 'latin1');
    await waitFor(() => c.ended(), 3000, 'close');
    assert.ok(byCallId('pipelined-good'));
    assert.deepEqual(statusLines(c.data()), ['SIP/2.0 513 Message Too Large']);
    const resp = parseDatagram(Buffer.from(c.data(), 'latin1')) as SipResponse;
    assert.equal(resp.callId(), 'pipelined-bad');
  });
});

describe('TCP connection reuse between two managers', () => {
  const a = recordingManager();
  const b = recordingManager();
  let aEp: Endpoint;

  before(async () => {
    [aEp] = (await a.tm.listen([{ protocol: 'tcp', address: '127.0.0.1', port: 0 }])) as [Endpoint];
    await b.tm.listen([{ protocol: 'tcp', address: '127.0.0.1', port: 0 }]);
  });
  after(async () => {
    await b.tm.close();
    await a.tm.close();
  });

  it('two sends to the same peer use one connection, and the answer comes back on it', async () => {
    const r1 = parseDatagram(Buffer.from(request({ transport: 'TCP', callId: 'reuse1' }), 'latin1'));
    const r2 = parseDatagram(Buffer.from(request({ transport: 'TCP', callId: 'reuse2' }), 'latin1'));
    // Concurrent sends share one connect.
    await Promise.all([b.tm.send(r1, aEp), b.tm.send(r2, aEp)]);
    await waitFor(() => a.inbox.length === 2);
    assert.equal(a.inbox[0]!.connectionId, a.inbox[1]!.connectionId);
    assert.equal(b.tm.stats().connectionsOpen, 1);
    assert.equal(a.tm.stats().connectionsOpen, 1);
    await b.tm.send(parseDatagram(Buffer.from(request({ transport: 'TCP', callId: 'reuse3' }), 'latin1')), aEp);
    await waitFor(() => a.inbox.length === 3);
    assert.equal(a.inbox[2]!.connectionId, a.inbox[0]!.connectionId);
    // The answer goes back over the accepted connection: B receives it on the connection it opened.
    await a.tm.send(createResponse(a.inbox[0]!.message as SipRequest, 200, 'OK'), a.inbox[0]!.source);
    await waitFor(() => b.inbox.length === 1);
    assert.equal((b.inbox[0]!.message as SipResponse).status, 200);
    assert.equal(b.tm.stats().connectionsOpen, 1);
    assert.equal(a.tm.stats().connectionsOpen, 1);
    assert.equal(b.tm.stats().sent.tcp, 3);
  });

  it('reconnects when the connection named by connectionId is gone (RFC 3261 §18.2.2)', async () => {
    const id = a.inbox[0]!.connectionId!;
    a.tm.closeConnection(id);
    await waitFor(() => b.tm.stats().connectionsOpen === 0);
    const r = parseDatagram(Buffer.from(request({ transport: 'TCP', callId: 'reconnect' }), 'latin1'));
    await b.tm.send(r, { ...aEp, connectionId: 'tcp-nonexistent-1' });
    await waitFor(() => a.inbox.some((i) => i.message.get('call-id') === 'reconnect'));
    assert.notEqual(a.inbox.find((i) => i.message.get('call-id') === 'reconnect')!.connectionId, id);
  });

  it('rejects with TransportError when nobody listens', async () => {
    const r = parseDatagram(Buffer.from(request({ transport: 'TCP' }), 'latin1'));
    const probe = recordingManager();
    const [ep] = await probe.tm.listen([{ protocol: 'tcp', address: '127.0.0.1', port: 0 }]);
    await probe.tm.close();
    await assert.rejects(b.tm.send(r, ep!), { name: 'TransportError' });
  });
});

describe('TCP limits', () => {
  it('closes idle connections after idleTimeoutMs (manual clock)', async () => {
    const clock = new ManualClock();
    const { tm } = recordingManager({ clock, idleTimeoutMs: 1000 });
    try {
      const [ep] = await tm.listen([{ protocol: 'tcp', address: '127.0.0.1', port: 0 }]);
      const c = await tcpClient(ep!.port);
      await waitFor(() => tm.stats().connectionsOpen === 1);
      clock.advance(600);
      assert.equal(c.ended(), false);
      clock.advance(600);
      await waitFor(() => c.ended(), 3000, 'idle close');
      assert.equal(tm.stats().connectionsClosedIdle, 1);
      assert.equal(tm.stats().connectionsOpen, 0);
    } finally {
      await tm.close();
    }
  });

  it('refuses connections beyond maxConnections', async () => {
    const { tm } = recordingManager({ maxConnections: 1 });
    try {
      const [ep] = await tm.listen([{ protocol: 'tcp', address: '127.0.0.1', port: 0 }]);
      const c1 = await tcpClient(ep!.port);
      await waitFor(() => tm.stats().connectionsOpen === 1);
      const c2 = await tcpClient(ep!.port);
      await waitFor(() => c2.ended(), 3000, 'refused');
      assert.equal(tm.stats().connectionsRejected, 1);
      assert.equal(c1.ended(), false);
      c1.socket.destroy();
    } finally {
      await tm.close();
    }
  });

  it('close() closes listeners and connections', async () => {
    const { tm } = recordingManager();
    try {
      const [ep] = await tm.listen([{ protocol: 'tcp', address: '::1', port: 0 }]);
      const c = await tcpClient(ep!.port, '::1');
      await waitFor(() => tm.stats().connectionsOpen === 1);
      await tm.close();
      await waitFor(() => c.ended(), 3000, 'closed by shutdown');
      await assert.rejects(tcpClient(ep!.port, '::1'));
      await assert.rejects(tm.send(parseDatagram(Buffer.from(request(), 'latin1')), ep!), { name: 'TransportError' });
    } finally {
      await tm.close();
    }
  });
});
