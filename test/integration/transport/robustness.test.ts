import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDatagram, type SipResponse } from '../../../src/sip/index.js';
import type { Endpoint } from '../../../src/transport/types.js';
import { createSeededRandom } from '../../../src/util/random.js';
import type { LogFields, Logger } from '../../../src/util/logger.js';
import { okResponse, recordingManager, request, udpClient, waitFor } from './helpers.js';

/** A logger that keeps every line, to check that no raw bytes are logged. */
function capturingLogger(lines: { msg: string; fields?: LogFields }[]): Logger {
  const log = (msg: string, fields?: LogFields): void => void lines.push({ msg, fields });
  const l: Logger = { debug: log, info: log, warn: log, error: log, child: () => l };
  return l;
}

describe('bad input on UDP', () => {
  const lines: { msg: string; fields?: LogFields }[] = [];
  const { tm, inbox } = recordingManager({ logger: capturingLogger(lines) });
  let ep: Endpoint;

  before(async () => {
    [ep] = (await tm.listen([{ protocol: 'udp', address: '127.0.0.1', port: 0 }])) as [Endpoint];
  });
  after(() => tm.close());

  it('answers a malformed request with 400 naming the fault, to the source address:port', async () => {
    const client = await udpClient(4);
    try {
      const bad = request({ callId: 'bad-cseq', extra: ['Authorization: Digest username="alice", response="s3cr3t"'] }).replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE');
      const before = tm.stats();
      await client.send(bad, ep.port, ep.address);
      await waitFor(() => client.received.length === 1);
      const resp = parseDatagram(client.received[0]!) as SipResponse;
      assert.equal(resp.status, 400);
      assert.equal(resp.reason, 'CSeq method does not match request method');
      assert.equal(resp.callId(), 'bad-cseq');
      const s = tm.stats();
      assert.equal(s.parseErrors, before.parseErrors + 1);
      assert.equal(s.badRequestsAnswered, before.badRequestsAnswered + 1);
      assert.equal(inbox.some((i) => i.message.get('call-id') === 'bad-cseq'), false);
      assert.equal(JSON.stringify(lines).includes('s3cr3t'), false, 'raw bytes must not be logged');
    } finally {
      await client.close();
    }
  });

  it('answers a request whose Content-Length exceeds the datagram with 400', async () => {
    const client = await udpClient(4);
    try {
      const bad = request({ callId: 'bad-cl', body: 'v=0' }).replace('Content-Length: 3', 'Content-Length: 300');
      await client.send(bad, ep.port, ep.address);
      await waitFor(() => client.received.length === 1);
      const resp = parseDatagram(client.received[0]!) as SipResponse;
      assert.equal(resp.status, 400);
      assert.equal(resp.reason, 'Content-Length larger than message body');
    } finally {
      await client.close();
    }
  });

  it('drops a malformed ACK and a request without Call-ID, counted', async () => {
    const client = await udpClient(4);
    try {
      const before = tm.stats();
      await client.send(request({ method: 'ACK' }).replace('CSeq: 1 ACK', 'CSeq: 1 BYE'), ep.port, ep.address);
      await client.send(request().replace(/Call-ID: [^\r]*\r\n/, ''), ep.port, ep.address);
      await waitFor(() => tm.stats().dropped === before.dropped + 2);
      assert.equal(tm.stats().parseErrors, before.parseErrors + 2);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(client.received.length, 0);
    } finally {
      await client.close();
    }
  });

  it('drops a response with bad syntax silently and counts it', async () => {
    const client = await udpClient(4);
    try {
      const before = tm.stats();
      await client.send(okResponse('bad-resp').replace('CSeq: 1 OPTIONS', 'CSeq: x OPTIONS'), ep.port, ep.address);
      await client.send('SIP/2.0 2000 Way Too OK\r\nContent-Length: 0\r\n\r\n', ep.port, ep.address);
      await waitFor(() => tm.stats().dropped === before.dropped + 2);
      const s = tm.stats();
      assert.equal(s.parseErrors, before.parseErrors + 2);
      assert.equal(s.badRequestsAnswered, before.badRequestsAnswered);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(client.received.length, 0);
      assert.equal(inbox.some((i) => i.message.get('call-id') === 'bad-resp'), false);
    } finally {
      await client.close();
    }
  });

  it('survives 1000 random garbage datagrams and still answers a valid message', async () => {
    const client = await udpClient(4);
    try {
      const rnd = createSeededRandom(0x5eed);
      const before = tm.stats();
      const valid = Buffer.from(request(), 'latin1');
      let sent = 0;
      const processed = (): number => {
        const s = tm.stats();
        return s.parseErrors + s.tooLarge + s.received.udp - (before.parseErrors + before.tooLarge + before.received.udp);
      };
      for (let i = 0; i < 1000; i++) {
        const b = rnd.bytes(1 + (rnd.bytes(2).readUInt16BE(0) % 1400));
        // Every fourth one is a valid message with random bytes spliced in: garbage that gets far.
        if (i % 4 === 0) {
          const at = rnd.bytes(2).readUInt16BE(0) % valid.length;
          b.set(valid.subarray(0, Math.min(at, b.length)), 0);
        }
        if (b.every((x) => x === 0x0d || x === 0x0a)) b[0] = 0x41;
        await client.send(b, ep.port, ep.address);
        sent++;
        // Let the server catch up now and then so the kernel never drops a datagram.
        if (sent % 100 === 0) await waitFor(() => processed() >= sent, 10_000, 'garbage processed');
      }
      await waitFor(() => processed() >= sent, 10_000, 'all garbage processed');
      const s = tm.stats();
      const bad = s.parseErrors + s.tooLarge - before.parseErrors - before.tooLarge;
      // Every bad datagram was either answered or dropped, nothing else.
      assert.equal(s.badRequestsAnswered + s.dropped - before.badRequestsAnswered - before.dropped, bad);
      assert.ok(bad > 900, `most of it is garbage (${bad})`);
      await client.send(request({ via: `127.0.0.1:${client.port}`, callId: 'alive' }), ep.port, ep.address);
      await waitFor(() => inbox.some((i) => i.message.get('call-id') === 'alive'));
    } finally {
      await client.close();
    }
  });
});
