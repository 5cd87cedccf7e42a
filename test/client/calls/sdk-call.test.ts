/**
 * SDK device calls SDK device through an in-process Sipher server on real UDP sockets
 * (SPEC PEER-1, PEER-2): INVITE/180/200/ACK through the proxy, SDES-keyed SRTP media
 * directly between the devices for each profile, BYE from either side, CANCEL, rejection —
 * with plain devices and with devices whose signalling is sealed by an SA.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SipherClient } from '../../../src/client/sipher-client.js';
import { CallError, type CallEndedEvent, type IncomingCall, type OutgoingCall, type RtpHeader } from '../../../src/client/index.js';
import type { SrtpSuiteName } from '../../../src/sdp/index.js';
import type { TransportStats } from '../../../src/transport/transport-stats.js';
import { registeredDevice, startSaServer, stopSaServer, waitFor, type SaTestServer } from '../../support/sa-server.js';

const D = 'calls.example';
const pw = (u: string): string => `pw-${u}-calls`;
const PROFILES: SrtpSuiteName[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AEAD_AES_128_GCM'];
const PACKETS = 50;

/** Payload number `i` of a stream: recognisable bytes (160 = 20 ms of PCMU). */
function payload(tag: number, i: number): Buffer {
  const b = Buffer.alloc(160, (tag * 31 + i) & 0xff);
  b.writeUInt16BE(i, 0);
  b[2] = tag;
  return b;
}

interface Received {
  payloads: Buffer[];
  headers: RtpHeader[];
}

function collect(call: { media: { on(e: 'rtp', l: (p: Buffer, h: RtpHeader) => void): unknown } }): Received {
  const r: Received = { payloads: [], headers: [] };
  call.media.on('rtp', (p, h) => {
    r.payloads.push(Buffer.from(p));
    r.headers.push(h);
  });
  return r;
}

describe('SDK ↔ SDK calls through Sipher', () => {
  let env: SaTestServer;
  const clients: SipherClient[] = [];

  before(async () => {
    env = await startSaServer({ domain: D, users: ['alice', 'bob', 'carol', 'dave'], password: pw });
  });

  after(async () => {
    for (const c of clients) await c.close();
    await stopSaServer(env);
  });

  async function device(user: string, sa: boolean): Promise<SipherClient> {
    const c = await registeredDevice(env, { aor: `sip:${user}@${D}`, password: pw(user), sa, clients });
    if (sa) assert.equal(c.sa!.established, true);
    return c;
  }

  /** Answers the next incoming call on `callee` with accept(); resolves with it once established. */
  function answerNext(callee: SipherClient, suites?: SrtpSuiteName[]): Promise<IncomingCall> {
    return new Promise((resolve, reject) => {
      callee.once('call', (call) => {
        // Answered a moment later, so that 180 Ringing goes out first.
        setTimeout(() => call.accept(suites ? { suites } : {}).then(resolve, reject), 10);
      });
    });
  }

  function transportStats(): TransportStats {
    return env.server.stats().transport as TransportStats;
  }

  /** One call, media both ways, checks, hang-up by `hangupBy`. */
  async function callAndTalk(caller: SipherClient, callee: SipherClient, calleeUser: string, profile: SrtpSuiteName, hangupBy: 'caller' | 'callee'): Promise<{ outgoing: OutgoingCall; incoming: IncomingCall }> {
    const answered = answerNext(callee);
    const progress: number[] = [];
    const pending = caller.call(`sip:${calleeUser}@${D}`, { suites: [profile] });
    pending.call.on('progress', (p) => progress.push(p.status));
    const [outgoing, incoming] = await Promise.all([pending, answered]);
    assert.equal(outgoing.state, 'established');
    assert.equal(incoming.state, 'established');
    assert.ok(progress.includes(180), `180 Ringing seen by the caller (got ${progress.join(',')})`);
    // The profile both ends use is the one offered.
    assert.equal(outgoing.negotiation?.srtp?.suite, profile);
    assert.equal(incoming.negotiation?.srtp?.suite, profile);
    assert.equal(outgoing.media.profile, profile);
    assert.equal(incoming.media.profile, profile);
    // Each end sends to the other device's media socket, not to the server.
    assert.deepEqual(outgoing.media.remote, { address: '127.0.0.1', port: incoming.media.localPort });
    assert.deepEqual(incoming.media.remote, { address: '127.0.0.1', port: outgoing.media.localPort });
    assert.notEqual(outgoing.media.remote!.port, env.port);

    const atCallee = collect(incoming);
    const atCaller = collect(outgoing);
    const before = transportStats();
    for (let i = 0; i < PACKETS; i++) {
      outgoing.media.send(payload(1, i));
      incoming.media.send(payload(2, i));
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor(() => atCallee.payloads.length >= PACKETS && atCaller.payloads.length >= PACKETS, 5000);
    for (let i = 0; i < PACKETS; i++) {
      assert.deepEqual(atCallee.payloads[i], payload(1, i), `caller → callee packet ${i}`);
      assert.deepEqual(atCaller.payloads[i], payload(2, i), `callee → caller packet ${i}`);
    }
    assert.equal(atCallee.headers[0]!.payloadType, 0, 'PCMU');
    assert.equal(atCallee.headers[1]!.sequenceNumber, (atCallee.headers[0]!.sequenceNumber + 1) & 0xffff);
    assert.equal(atCallee.headers[1]!.timestamp, (atCallee.headers[0]!.timestamp + 160) >>> 0);
    for (const [who, m] of [['caller', outgoing.media], ['callee', incoming.media]] as const) {
      const s = m.stats();
      assert.equal(s.sent, PACKETS, `${who} sent`);
      assert.equal(s.received, PACKETS, `${who} received`);
      assert.equal(s.authFailures, 0, `${who} auth failures`);
      assert.equal(s.replays, 0, `${who} replays`);
    }
    assert.deepEqual(incoming.media.lastSource, { address: '127.0.0.1', port: outgoing.media.localPort });
    assert.deepEqual(outgoing.media.lastSource, { address: '127.0.0.1', port: incoming.media.localPort });
    // The server carried none of the media.
    const afterStats = transportStats();
    assert.equal(afterStats.received.udp, before.received.udp, 'no datagram reached the server during the media exchange');
    assert.equal(afterStats.parseErrors, before.parseErrors);

    const endedAtCaller = new Promise((r) => outgoing.once('ended', r));
    const endedAtCallee = new Promise((r) => incoming.once('ended', r));
    if (hangupBy === 'caller') await outgoing.hangup();
    else await incoming.hangup();
    const [ec, ee] = (await Promise.all([endedAtCaller, endedAtCallee])).map((e) => ({ by: (e as CallEndedEvent).by, reason: (e as CallEndedEvent).reason }));
    const local = { by: 'local', reason: 'bye' };
    const remote = { by: 'remote', reason: 'bye' };
    if (hangupBy === 'caller') {
      assert.deepEqual(ec, local);
      assert.deepEqual(ee, remote);
    } else {
      assert.deepEqual(ee, local);
      assert.deepEqual(ec, remote);
    }
    assert.equal(outgoing.state, 'ended');
    assert.equal(incoming.state, 'ended');
    assert.throws(() => outgoing.media.send(payload(1, 0)), /closed/);
    return { outgoing, incoming };
  }

  describe('plain devices', () => {
    let alice: SipherClient;
    let bob: SipherClient;
    before(async () => {
      alice = await device('alice', false);
      bob = await device('bob', false);
    });

    for (const [i, profile] of PROFILES.entries()) {
      const by = i % 2 === 0 ? 'caller' : 'callee';
      it(`INVITE/180/200/ACK, ${PACKETS} SRTP packets each way with ${profile}, BYE from the ${by}`, async () => {
        const challenged = (): number => (env.server.stats().proxy as { challenged: number }).challenged;
        const before = challenged();
        const { incoming } = await callAndTalk(alice, bob, 'bob', profile, by);
        // The proxy challenged alice's first INVITE (407) and the device answered it; later
        // INVITEs carry credentials for the remembered challenge (RFC 7616 §3.4.5 nonce count).
        if (i === 0) assert.equal(challenged(), before + 1);
        else assert.equal(challenged(), before);
        assert.equal(incoming.inbound.protection, undefined);
        assert.equal(incoming.from, `sip:alice@${D}`);
      });
    }

    it('BYE from the callee as well as from the caller (AES_CM_128_HMAC_SHA1_80)', async () => {
      await callAndTalk(alice, bob, 'bob', 'AES_CM_128_HMAC_SHA1_80', 'callee');
      await callAndTalk(bob, alice, 'alice', 'AES_CM_128_HMAC_SHA1_80', 'caller');
    });

    it('the callee rejects with 486: the caller gets CallError 486', async () => {
      bob.once('call', (call) => call.reject(486));
      const pending = alice.call(`sip:bob@${D}`);
      const ended = new Promise((r) => pending.call.once('ended', r));
      await assert.rejects(pending, (e: unknown) => e instanceof CallError && e.status === 486 && e.reason === 'Busy Here');
      assert.deepEqual(await ended, { by: 'remote', reason: 'rejected', status: 486, detail: 'Busy Here' });
      assert.throws(() => pending.call.media.send(Buffer.alloc(160)), /closed|not started/);
    });

    it('CANCEL before the answer: the callee answers the INVITE 487, the caller gets CallError 487', async () => {
      let incoming: IncomingCall | undefined;
      bob.once('call', (call) => { incoming = call; });
      const pending = alice.call(`sip:bob@${D}`);
      await new Promise<void>((resolve) => pending.call.once('progress', (p) => { if (p.status === 180) resolve(); }));
      assert.equal(pending.call.state, 'ringing');
      const calleeEnded = new Promise((r) => incoming!.once('ended', r));
      pending.call.cancel();
      await assert.rejects(pending, (e: unknown) => e instanceof CallError && e.status === 487);
      assert.deepEqual(await calleeEnded, { by: 'remote', reason: 'cancel', status: 487 });
      assert.equal(pending.call.endedWith?.reason, 'cancel');
      await assert.rejects(incoming!.accept(), /cannot accept a call that is ended/);
    });

    it('an AbortSignal cancels a pending call', async () => {
      bob.once('call', () => undefined);
      const ac = new AbortController();
      const pending = alice.call(`sip:bob@${D}`, { signal: ac.signal });
      pending.call.once('progress', () => ac.abort());
      await assert.rejects(pending, (e: unknown) => e instanceof CallError && e.status === 487);
    });

    it('a call to an unknown user fails with CallError 404', async () => {
      await assert.rejects(alice.call(`sip:nobody@${D}`), (e: unknown) => e instanceof CallError && e.status === 404 && e.code === 'SIPHER_ERR_NOT_FOUND');
    });

    it('the callee accepts only a suite the caller does not offer: 488 with the reason', async () => {
      const refused = new Promise<unknown>((resolve) => bob.once('call', (call) => call.accept({ suites: ['AEAD_AES_128_GCM'] }).then(resolve, resolve)));
      await assert.rejects(alice.call(`sip:bob@${D}`, { suites: ['AES_CM_128_HMAC_SHA1_32'] }), (e: unknown) =>
        e instanceof CallError && e.status === 488 && /no acceptable crypto suite/.test(e.reason) && /not allowed by policy/.test(e.reason));
      const err = await refused;
      assert.ok(err instanceof CallError && err.status === 488);
    });

    it('close() hangs up a live call', async () => {
      const carolish = await device('carol', false);
      const answered = answerNext(bob);
      const [outgoing, incoming] = await Promise.all([carolish.call(`sip:bob@${D}`), answered]);
      const ended = new Promise((r) => incoming.once('ended', r));
      await carolish.close();
      assert.deepEqual(await ended, { by: 'remote', reason: 'bye' });
      assert.equal(outgoing.state, 'ended');
    });
  });

  describe('devices with a signalling SA', () => {
    let carol: SipherClient;
    let dave: SipherClient;
    before(async () => {
      carol = await device('carol', true);
      dave = await device('dave', true);
    });

    for (const profile of PROFILES) {
      it(`the INVITE and its SDP keys travel sealed; SRTP media with ${profile}`, async () => {
        const records = (): { opened: number; sealed: number; clearSent: number } => (env.server.stats().sa as { records: { opened: number; sealed: number; clearSent: number } }).records;
        const serverBefore = records();
        const devicesClearBefore = carol.sa!.endpoint.counters.clearSent + dave.sa!.endpoint.counters.clearSent;
        const { incoming } = await callAndTalk(carol, dave, 'dave', profile, 'caller');
        // The INVITE reached the callee inside an SA record; the server opened sealed records.
        assert.ok(incoming.inbound.protection, 'the INVITE arrived SA-protected');
        const serverAfter = records();
        assert.ok(serverAfter.opened >= serverBefore.opened + 4, `the server opened sealed records (INVITE, 180, 200, ACK, BYE …): ${serverBefore.opened} → ${serverAfter.opened}`);
        assert.ok(serverAfter.sealed >= serverBefore.sealed + 4, 'the server sealed what it relayed');
        // Nothing of the call — INVITE and 200 with their a=crypto keys included — went in clear.
        assert.equal(serverAfter.clearSent, serverBefore.clearSent, 'the server sent nothing in clear');
        assert.equal(carol.sa!.endpoint.counters.clearSent + dave.sa!.endpoint.counters.clearSent, devicesClearBefore, 'the devices sent nothing in clear');
      });
    }
  });
});
