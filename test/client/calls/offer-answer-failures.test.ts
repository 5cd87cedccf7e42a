/**
 * Offer/answer failures and the retransmission rules of INVITE dialogs, with one side played
 * by a raw SIP endpoint through the in-process server: offers with only unknown or weak SRTP
 * suites (488 with the reason), malformed SDP (400), plain RTP (488); an unusable answer at
 * the caller (ACK, then BYE, CallError 488); the caller's ACK for every 2xx retransmission;
 * the callee's 2xx retransmitted until the ACK, and BYE when none comes (RFC 3261 §13.3.1.4).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SipherClient } from '../../../src/client/sipher-client.js';
import { CallError, type IncomingCall } from '../../../src/client/index.js';
import type { SipRequest, SipResponse } from '../../../src/sip/index.js';
import { RawUa } from '../../support/raw-ua.js';
import { answerChallenge, register } from '../../support/sip-builders.js';
import { startSaServer, stopSaServer, waitFor, type SaTestServer } from '../../support/sa-server.js';

const D = 'oa.example';
const pw = (u: string): string => `pw-${u}-oa`;
const KEY30 = Buffer.alloc(30, 7).toString('base64');

let seq = 0;

/** An SDP offer/answer with the given crypto lines (and proto). */
function sdp(cryptoLines: string[], proto = 'RTP/SAVP', port = 40000): string {
  return ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} ${proto} 0`, 'a=rtpmap:0 PCMU/8000', ...cryptoLines.map((c) => `a=crypto:${c}`), ''].join('\r\n');
}

/** An INVITE from a foreign-domain caller (not challenged by the proxy) to `to`. */
function invite(ua: RawUa, to: string, body: string, contentType = 'application/sdp'): { text: string; callId: string } {
  seq++;
  const callId = `raw-call-${seq}-${ua.port}`;
  const text = [
    `INVITE sip:${to}@${D} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${ua.port};branch=z9hG4bKraw${seq}x${ua.port};rport`,
    'Max-Forwards: 70',
    `From: <sip:mallory@elsewhere.test>;tag=raw${seq}`,
    `To: <sip:${to}@${D}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:mallory@127.0.0.1:${ua.port}>`,
    `Content-Type: ${contentType}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
  return { text, callId };
}

/** The ACK (or BYE) the raw caller sends in the dialog the 2xx created (RFC 3261 §12.2.1.1, §13.2.2.4). */
function inDialog(method: 'ACK' | 'BYE', ua: RawUa, ok: SipResponse, cseq: number): string {
  const contact = /<([^>]+)>/.exec(ok.get('contact')!)![1]!;
  const routes = ok.getAll('record-route').reverse();
  seq++;
  return [
    `${method} ${contact} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${ua.port};branch=z9hG4bKrawd${seq}x${ua.port};rport`,
    'Max-Forwards: 70',
    ...routes.map((r) => `Route: ${r}`),
    `From: ${ok.get('from')}`,
    `To: ${ok.get('to')}`,
    `Call-ID: ${ok.callId()}`,
    `CSeq: ${cseq} ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('calls: offer/answer failures and 2xx/ACK rules', () => {
  let env: SaTestServer;
  const clients: SipherClient[] = [];
  const uas: RawUa[] = [];

  before(async () => {
    env = await startSaServer({ domain: D, users: ['alice', 'bob', 'carol', 'dan', 'eve'], password: pw, env: { SIPHER_SA_ENABLED: 'false' } });
  });

  after(async () => {
    for (const c of clients) await c.close();
    for (const u of uas) u.close();
    await stopSaServer(env);
  });

  async function device(user: string, t1?: number): Promise<SipherClient> {
    const c = new SipherClient({
      aor: `sip:${user}@${D}`, password: pw(user), server: { host: '127.0.0.1', port: env.port, transport: 'udp' },
      local: { host: '127.0.0.1', port: 0 }, ...(t1 ? { timers: { t1, t2: 8 * t1 } } : {}),
    });
    clients.push(c);
    await c.start();
    await c.register();
    return c;
  }

  async function rawUa(): Promise<RawUa> {
    const u = await RawUa.open({ address: '127.0.0.1', port: env.port });
    uas.push(u);
    return u;
  }

  /** Registers the raw endpoint as `user` (digest SHA-256). */
  async function registerRaw(ua: RawUa, user: string): Promise<void> {
    const contact = `<sip:${user}@127.0.0.1:${ua.port}>`;
    const first = register({ user, domain: D, contact, expires: 300, callId: `reg-${user}-${ua.port}`, cseq: 1 });
    ua.send(first);
    const ch = await ua.response(401, 'REGISTER');
    const auth = answerChallenge(ch, first, user, pw(user), 'SHA-256');
    ua.send(register({ user, domain: D, contact, expires: 300, callId: `reg-${user}-${ua.port}`, cseq: 2, extra: [`Authorization: ${auth}`] }));
    await ua.response(200, 'REGISTER');
  }

  describe('offers the callee cannot accept', () => {
    let bob: SipherClient;
    let caller: RawUa;
    const outcomes: unknown[] = [];
    const offered: IncomingCall[] = [];
    before(async () => {
      bob = await device('bob');
      caller = await rawUa();
      bob.on('call', (call) => {
        offered.push(call);
        call.accept().then((c) => outcomes.push(c), (e: unknown) => outcomes.push(e));
      });
    });

    it('only unknown and weak suites: 488 with the reason, accept() rejects with CallError 488', async () => {
      const body = sdp([
        `1 F8_128_HMAC_SHA1_80 inline:${KEY30}`,
        '2 NULL_CIPHER_SUITE inline:AAAA',
        `3 AES_CM_128_HMAC_SHA1_80 inline:${KEY30} UNENCRYPTED_SRTP`,
        '4 SUPER_QUANTUM_SUITE inline:QUJD',
      ]);
      const n = outcomes.length;
      caller.send(invite(caller, 'bob', body).text);
      const r = await caller.response(488, 'INVITE');
      assert.match(r.reason, /^no acceptable crypto suite \(/);
      assert.match(r.reason, /tag 1 F8_128_HMAC_SHA1_80: weak suite/);
      assert.match(r.reason, /tag 2 NULL_CIPHER_SUITE: weak \(NULL transform\)/);
      assert.match(r.reason, /tag 3 AES_CM_128_HMAC_SHA1_80: weak \(UNENCRYPTED_SRTP\)/);
      assert.match(r.reason, /tag 4 SUPER_QUANTUM_SUITE: unknown suite/);
      assert.doesNotMatch(r.reason, /inline|AAAA|QUJD/, 'no key material in the reason');
      await waitFor(() => outcomes.length > n);
      const e = outcomes.at(-1);
      assert.ok(e instanceof CallError && e.status === 488 && e.reason === r.reason);
      assert.equal(offered.at(-1)!.endedWith?.reason, 'rejected');
    });

    it('plain RTP/AVP: 488 (SRTP is required)', async () => {
      caller.send(invite(caller, 'bob', sdp([], 'RTP/AVP')).text);
      const r = await caller.response(488, 'INVITE');
      assert.equal(r.reason, 'plain RTP/AVP offered but SRTP is required');
    });

    it('malformed SDP: 400 with a reason, the application is not bothered', async () => {
      const n = offered.length;
      caller.send(invite(caller, 'bob', 'v=0\r\nthis is not SDP at all\r\n').text);
      const r = await caller.response(400, 'INVITE');
      assert.ok(r.reason.length > 0 && r.reason !== 'Bad Request', `reason names the fault: ${r.reason}`);
      assert.equal(offered.length, n);
    });

    it('a non-SDP body: 415 with Accept; no body: 488', async () => {
      caller.send(invite(caller, 'bob', 'hello', 'text/plain').text);
      const r = await caller.response(415, 'INVITE');
      assert.equal(r.get('accept'), 'application/sdp');
      caller.send(invite(caller, 'bob', '').text.replace('Content-Type: application/sdp\r\n', ''));
      assert.equal((await caller.response(488, 'INVITE')).reason, 'No Offer In INVITE');
    });
  });

  describe('without a call listener', () => {
    it('an INVITE is a plain request; a CANCEL of it gets 200 and the INVITE 487', async () => {
      const dan = await device('dan');
      const seen: string[] = [];
      dan.on('request', (r) => { seen.push(r.request.method); });
      const caller = await rawUa();
      const { text } = invite(caller, 'dan', sdp([`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY30}`]));
      caller.send(text);
      await waitFor(() => seen.includes('INVITE'));
      const via = /^Via: .*$/m.exec(text)![0];
      const cancel = text.split('\r\n\r\n')[0]!
        .replace(/^INVITE/, 'CANCEL').replace('CSeq: 1 INVITE', 'CSeq: 1 CANCEL')
        .replace(/\r\nContent-Type: [^\r]*/, '').replace(/\r\nContact: [^\r]*/, '').replace(/Content-Length: \d+/, 'Content-Length: 0');
      assert.ok(cancel.includes(via));
      caller.send(`${cancel}\r\n\r\n`);
      await caller.response(200, 'CANCEL');
      await caller.response(487, 'INVITE');
      assert.deepEqual(seen, ['INVITE'], 'the CANCEL itself is not a request event');
    });
  });

  describe('the caller side against a raw callee', () => {
    let alice: SipherClient;
    let eve: RawUa;
    before(async () => {
      alice = await device('alice');
      eve = await rawUa();
      await registerRaw(eve, 'eve');
    });

    it('an answer without a=crypto: ACK, then BYE, and CallError 488', async () => {
      const pending = alice.call(`sip:eve@${D}`, { suites: ['AES_CM_128_HMAC_SHA1_80'] });
      const refused = assert.rejects(pending, (e: unknown) => e instanceof CallError && e.status === 488 && /answer has no a=crypto/.test(e.message));
      const inv = await eve.request('INVITE');
      assert.match(inv.body.toString(), /a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/);
      eve.reply(inv, 200, { contact: true, body: sdp([], 'RTP/SAVP', 40002) });
      const ack = await eve.request('ACK');
      assert.equal(ack.cseq().seq, inv.cseq().seq);
      assert.equal(ack.toTag(), `uas${eve.port}`);
      const bye = await eve.request('BYE');
      assert.equal(bye.callId(), inv.callId());
      assert.ok(bye.cseq().seq > inv.cseq().seq);
      eve.reply(bye, 200);
      await refused;
      assert.equal(pending.call.endedWith?.reason, 'failed');
    });

    it('every 2xx retransmission is acknowledged (RFC 3261 §13.2.2.4); BYE from the callee ends the call', async () => {
      const pending = alice.call(`sip:eve@${D}`, { suites: ['AES_CM_128_HMAC_SHA1_80'] });
      const inv = await eve.request('INVITE');
      const answer = sdp([`1 AES_CM_128_HMAC_SHA1_80 inline:${Buffer.alloc(30, 9).toString('base64')}`], 'RTP/SAVP', 40004);
      const ok = eve.reply(inv, 200, { contact: true, body: answer });
      const call = await pending;
      assert.equal(call.state, 'established');
      await eve.request('ACK');
      eve.send(ok); // a retransmission of the same 2xx
      const ack2 = await eve.request('ACK');
      assert.equal(ack2.cseq().seq, inv.cseq().seq);
      // The callee hangs up: the BYE goes to alice's Contact through the proxy.
      const ended = new Promise((r) => call.once('ended', r));
      const byeText = [
        `BYE ${/<([^>]+)>/.exec(inv.get('contact')!)![1]} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${eve.port};branch=z9hG4bKevebye${eve.port};rport`,
        'Max-Forwards: 70',
        ...inv.getAll('record-route').map((r) => `Route: ${r}`),
        `From: ${ok.get('to')}`,
        `To: ${ok.get('from')}`,
        `Call-ID: ${inv.callId()}`,
        'CSeq: 7 BYE',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      eve.send(byeText);
      await eve.response(200, 'BYE');
      assert.deepEqual(await ended, { by: 'remote', reason: 'bye' });
      // A second BYE matches no dialog any more: 481.
      eve.send(byeText.replace('CSeq: 7 BYE', 'CSeq: 8 BYE').replace(`evebye${eve.port}`, `evebye2${eve.port}`));
      await eve.response(481, 'BYE');
    });
  });

  describe('the callee side: 2xx retransmitted until the ACK (RFC 3261 §13.3.1.4)', () => {
    let carol: SipherClient;
    let caller: RawUa;
    before(async () => {
      carol = await device('carol', 20);
      caller = await rawUa();
    });

    function offer(): string {
      return sdp([`1 AES_CM_128_HMAC_SHA1_80 inline:${Buffer.alloc(30, 3).toString('base64')}`], 'RTP/SAVP', 40006);
    }

    it('retransmits the 200 until the ACK, then stops; a BYE from the caller ends the call', async () => {
      let incoming: IncomingCall | undefined;
      let accepted: Promise<IncomingCall> | undefined;
      carol.once('call', (c) => { incoming = c; accepted = c.accept(); });
      const { text } = invite(caller, 'carol', offer());
      caller.drain();
      caller.send(text);
      const ok = await caller.response(200, 'INVITE');
      assert.equal(ok.contentType(), 'application/sdp');
      assert.match(ok.body.toString(), /a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/);
      assert.ok(ok.get('contact'));
      assert.ok(ok.getAll('record-route').length > 0, 'Record-Route copied into the 2xx');
      await caller.response(200, 'INVITE', 2000); // retransmitted at T1 …
      await caller.response(200, 'INVITE', 2000); // … and 2·T1
      assert.equal(incoming!.state, 'answered');
      caller.send(inDialog('ACK', caller, ok, 1));
      await accepted;
      assert.equal(incoming!.state, 'established');
      caller.drain();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(caller.drain().filter((m) => !m.isRequest && (m as SipResponse).status === 200).length, 0, 'no retransmission after the ACK');
      const ended = new Promise((r) => incoming!.once('ended', r));
      caller.send(inDialog('BYE', caller, ok, 2));
      await caller.response(200, 'BYE');
      assert.deepEqual(await ended, { by: 'remote', reason: 'bye' });
    });

    it('no ACK within 64·T1: the callee hangs up with BYE', async () => {
      let incoming: IncomingCall | undefined;
      carol.once('call', (c) => { incoming = c; void c.accept(); });
      caller.drain();
      caller.send(invite(caller, 'carol', offer()).text);
      const ok = await caller.response(200, 'INVITE');
      const ended = new Promise((r) => incoming!.once('ended', r));
      const bye = (await caller.waitFor((m) => m.isRequest && (m as SipRequest).method === 'BYE', 5000, 'BYE')) as SipRequest;
      assert.equal(bye.callId(), ok.callId());
      caller.reply(bye, 200);
      const ev = await ended;
      assert.equal((ev as { reason: string }).reason, 'no-ack');
    });
  });
});
