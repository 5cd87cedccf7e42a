/**
 * The SRTP media session on real loopback sockets: each profile both ways, packets from an
 * address other than the negotiated one accepted only when they authenticate, forged and
 * replayed packets counted and dropped, packets that arrive before the keys are known held,
 * and the μ-law tone helper.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { MediaSession, mediaProblem, type RtpHeader } from '../../../src/client/calls/index.js';
import { buildRtpPacket, looksLikeRtcp, parseRtpPacket } from '../../../src/client/calls/rtp-packet.js';
import { linearToUlaw, playTone, ToneGenerator, ulawToLinear } from '../../../src/client/calls/tone.js';
import { SrtpContext, type SrtpProfile } from '../../../src/crypto/srtp/index.js';
import { answerAudio, applyAudioAnswer, createAudioOffer, type AudioNegotiation, type SrtpSuiteName } from '../../../src/sdp/index.js';
import { systemClock } from '../../../src/util/clock.js';
import { createSeededRandom } from '../../../src/util/random.js';

const random = createSeededRandom(42);
const bytes = (n: number): Buffer => random.bytes(n);
const sessions: MediaSession[] = [];
const sockets: Socket[] = [];

after(async () => {
  for (const s of sessions) await s.close();
  for (const s of sockets) s.close();
});

async function pair(suite: SrtpSuiteName): Promise<{ a: MediaSession; b: MediaSession; na: AudioNegotiation; nb: AudioNegotiation }> {
  const a = await MediaSession.open({ address: '127.0.0.1', random });
  const b = await MediaSession.open({ address: '127.0.0.1', random });
  sessions.push(a, b);
  const offer = createAudioOffer({ address: '127.0.0.1', port: a.localPort, random: bytes, suites: [suite] });
  const answer = answerAudio(offer.text, { address: '127.0.0.1', port: b.localPort, random: bytes });
  assert.equal(answer.status, 'accepted');
  if (answer.status !== 'accepted') throw new Error('not accepted');
  const applied = applyAudioAnswer(offer, answer.text);
  if (applied.status !== 'accepted') throw new Error('answer not applied');
  return { a, b, na: applied.negotiation, nb: answer.negotiation };
}

function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() > end) reject(new Error('timed out'));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

async function udp(): Promise<Socket> {
  const s = createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return s;
}

describe('MediaSession', () => {
  for (const suite of ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AEAD_AES_128_GCM'] as const) {
    it(`carries SRTP both ways with ${suite}`, async () => {
      const { a, b, na, nb } = await pair(suite);
      assert.equal(mediaProblem(na), undefined);
      a.start(na);
      b.start(nb);
      assert.equal(a.profile, suite);
      const gotA: Buffer[] = [];
      const gotB: { p: Buffer; h: RtpHeader }[] = [];
      a.on('rtp', (p) => gotA.push(Buffer.from(p)));
      b.on('rtp', (p, h) => gotB.push({ p: Buffer.from(p), h }));
      for (let i = 0; i < 20; i++) {
        a.send(Buffer.alloc(160, i), { marker: i === 0 });
        b.send(Buffer.alloc(160, 100 + i));
      }
      await until(() => gotA.length === 20 && gotB.length === 20);
      assert.deepEqual(gotB[5]!.p, Buffer.alloc(160, 5));
      assert.deepEqual(gotA[5], Buffer.alloc(160, 105));
      assert.equal(gotB[0]!.h.marker, true);
      assert.equal(gotB[1]!.h.marker, false);
      assert.equal(gotB[0]!.h.ssrc, a.ssrc);
      assert.equal(gotB[0]!.h.payloadType, 0);
      assert.equal(b.stats().received, 20);
      assert.equal(b.stats().authFailures, 0);
    });
  }

  it('accepts packets from another address only if they authenticate; counts forgeries and replays', async () => {
    const { a, b, na, nb } = await pair('AES_CM_128_HMAC_SHA1_80');
    a.start(na);
    b.start(nb);
    const sources: string[] = [];
    b.on('rtp', (_p, _h, src) => sources.push(`${src.address}:${src.port}`));
    const other = await udp();
    const to = (pkt: Buffer): void => { other.send(pkt, b.localPort, '127.0.0.1'); };
    const rtp = (seq: number): Buffer => buildRtpPacket({ payloadType: 0, marker: false, sequenceNumber: seq, timestamp: seq * 160, ssrc: 0x1234 }, Buffer.alloc(160, 1));
    // Garbage and a packet protected with a key that is not the caller's.
    to(Buffer.from('not an SRTP packet at all'));
    const wrong = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', masterKey: Buffer.alloc(16, 1), masterSalt: Buffer.alloc(14, 2) });
    to(wrong.protectRtp(rtp(1)));
    // A packet protected with the caller's real key, sent from another address (the caller moved).
    const real = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80' as SrtpProfile, masterKey: na.srtp!.local.key, masterSalt: na.srtp!.local.salt });
    const genuine = real.protectRtp(rtp(2));
    to(genuine);
    await until(() => b.stats().received === 1);
    to(genuine); // a replay
    await until(() => b.stats().replays === 1);
    const s = b.stats();
    assert.equal(s.authFailures, 2, 'the garbage and the packet under the wrong key fail authentication');
    assert.equal(s.received, 1);
    assert.deepEqual(sources, [`127.0.0.1:${other.address().port}`]);
    assert.deepEqual(b.lastSource, { address: '127.0.0.1', port: other.address().port });
  });

  it('holds packets that arrive before the keys are known', async () => {
    const { a, b, na, nb } = await pair('AEAD_AES_128_GCM');
    a.start(na);
    const got: Buffer[] = [];
    b.on('rtp', (p) => got.push(Buffer.from(p)));
    for (let i = 0; i < 3; i++) a.send(Buffer.alloc(160, i));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(got.length, 0);
    b.start(nb);
    assert.equal(got.length, 3);
  });

  it('refuses to send before start and after close', async () => {
    const { a, na } = await pair('AES_CM_128_HMAC_SHA1_32');
    assert.throws(() => a.send(Buffer.alloc(160)), /not started/);
    a.start(na);
    assert.throws(() => a.start(na), /already started/);
    await a.close();
    assert.throws(() => a.send(Buffer.alloc(160)), /closed/);
  });

  it('mediaProblem refuses MKIs and plain RTP', async () => {
    const { na } = await pair('AES_CM_128_HMAC_SHA1_80');
    assert.match(mediaProblem({ ...na, srtp: { ...na.srtp!, remote: [{ ...na.srtp!.remote[0]!, mki: { value: 1, length: 4 } }] } })!, /MKI/);
    const { srtp: _s, ...plain } = na;
    assert.equal(mediaProblem(plain), 'media is not SRTP');
  });
});

describe('RTP packets and the tone helper', () => {
  it('builds and parses RTP; tolerates CSRCs, extension and padding', () => {
    const p = buildRtpPacket({ payloadType: 8, marker: true, sequenceNumber: 65535, timestamp: 0xffffffff, ssrc: 0xdeadbeef }, Buffer.from('abc'));
    const r = parseRtpPacket(p)!;
    assert.deepEqual(r.header, { payloadType: 8, marker: true, sequenceNumber: 65535, timestamp: 0xffffffff, ssrc: 0xdeadbeef });
    assert.equal(r.payload.toString(), 'abc');
    const x = Buffer.concat([Buffer.from([0xb1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), Buffer.alloc(4, 9), Buffer.from([0xbe, 0xde, 0, 1]), Buffer.alloc(4), Buffer.from('pay'), Buffer.from([0, 2])]);
    assert.equal(parseRtpPacket(x)!.payload.toString(), 'pay');
    assert.equal(parseRtpPacket(Buffer.from([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), undefined);
    assert.equal(looksLikeRtcp(Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 1])), true);
    assert.equal(looksLikeRtcp(p), false);
  });

  it('μ-law round trip and a 440 Hz tone paced on the clock', async () => {
    for (const v of [0, 100, -100, 1000, -1000, 8000, -8000, 32000]) assert.ok(Math.abs(ulawToLinear(linearToUlaw(v)) - v) <= Math.max(8, Math.abs(v) / 16), `${v}`);
    const frame = new ToneGenerator({ frequency: 440 }).next(8000);
    let crossings = 0;
    for (let i = 1; i < frame.length; i++) if ((ulawToLinear(frame[i - 1]!) < 0) !== (ulawToLinear(frame[i]!) < 0)) crossings++;
    assert.ok(Math.abs(crossings / 2 - 440) < 5, `${crossings / 2} Hz`);
    const frames: Buffer[] = [];
    const player = playTone({ send: (p) => frames.push(Buffer.from(p)) }, systemClock, { frames: 5, intervalMs: 2 });
    await player.done;
    assert.equal(frames.length, 5);
    assert.equal(player.sent, 5);
    assert.equal(frames[0]!.length, 160);
  });
});
