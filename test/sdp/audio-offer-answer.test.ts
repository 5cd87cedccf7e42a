/**
 * Audio offer/answer (RFC 3264) with SDES keys (RFC 4568): the RFC 3264 §10 examples, our own
 * offer → answer → apply round, direction rules (RFC 3264 §6.1), and offers that must be
 * refused with `not-acceptable` (→ 488) because every crypto suite is weak or unknown.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  answerAudio, applyAudioAnswer, createAudioOffer, parseCryptoAttribute, parseSdp, type AudioAnswerOptions,
} from '../../src/sdp/index.js';
import { InvalidArgumentError, SipParseError } from '../../src/errors.js';
import { createSeededRandom } from '../../src/util/random.js';

const crlf = (lines: string[]): string => lines.map((l) => l + '\r\n').join('');
const rnd = (seed: number): ((n: number) => Buffer) => {
  const r = createSeededRandom(seed);
  return (n) => r.bytes(n);
};

// RFC 3264 §10.1, Alice's offer.
const RFC3264_10_1_OFFER = [
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 host.anywhere.com',
  's=',
  'c=IN IP4 host.anywhere.com',
  't=0 0',
  'm=audio 49170 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  'm=video 51372 RTP/AVP 31',
  'a=rtpmap:31 H261/90000',
  'm=video 53000 RTP/AVP 32',
  'a=rtpmap:32 MPV/90000',
];

// RFC 3264 §10.1, Bob's answer.
const RFC3264_10_1_ANSWER = [
  'v=0',
  'o=bob 2890844730 2890844730 IN IP4 host.example.com',
  's=',
  'c=IN IP4 host.example.com',
  't=0 0',
  'm=audio 49920 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  'm=video 0 RTP/AVP 31',
  'm=video 53000 RTP/AVP 32',
  'a=rtpmap:32 MPV/90000',
];

// RFC 3264 §10.2, Alice's first offer and Bob's answer.
const RFC3264_10_2_OFFER = [
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 host.anywhere.com',
  's=',
  'c=IN IP4 host.anywhere.com',
  't=0 0',
  'm=audio 62986 RTP/AVP 0 4 18',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:4 G723/8000',
  'a=rtpmap:18 G729/8000',
  'a=inactive',
];
const RFC3264_10_2_ANSWER = [
  'v=0',
  'o=bob 2890844730 2890844731 IN IP4 host.example.com',
  's=',
  'c=IN IP4 host.example.com',
  't=0 0',
  'm=audio 54344 RTP/AVP 0 4',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:4 G723/8000',
  'a=inactive',
];

const KEY = 'PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR';

function savpOffer(cryptoLines: string[], extra: string[] = []): string {
  return crlf([
    'v=0', 'o=- 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0',
    'm=audio 40000 RTP/SAVP 0 8 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15',
    ...cryptoLines.map((c) => `a=crypto:${c}`), ...extra,
  ]);
}

const BOB: AudioAnswerOptions = { address: '192.0.2.20', port: 50000, random: rnd(1) };

describe('RFC 3264 §10 examples', () => {
  it('§10.1: audio accepted with PCMU, the first video stream rejected with port 0', () => {
    const r = answerAudio(crlf(RFC3264_10_1_OFFER), {
      address: 'host.example.com', port: 49920, random: rnd(2), requireSrtp: false,
      username: 'bob', sessionId: '2890844730', sessionVersion: '2890844730', sessionName: '',
      codecs: [{ encoding: 'PCMU', clockRate: 8000, payloadType: 0 }],
    });
    assert.equal(r.status, 'accepted');
    if (r.status !== 'accepted') return;
    // Bob's answer up to the rejected first video stream is reproduced line for line; our
    // answerer has no video, so it also rejects the second video stream Bob accepted.
    const ours = r.text.split('\r\n');
    assert.deepEqual(ours.slice(0, 8), RFC3264_10_1_ANSWER.slice(0, 8));
    assert.equal(ours[8], 'm=video 0 RTP/AVP 32');
    assert.deepEqual(r.negotiation.remote, { address: 'host.anywhere.com', addrType: 'IP4', port: 49170 });
    assert.equal(r.negotiation.proto, 'RTP/AVP');
    assert.equal(r.negotiation.srtp, undefined);
    assert.equal(r.negotiation.direction, 'sendrecv');
    // The RFC answer itself parses, with the same accepted audio.
    const bob = parseSdp(crlf(RFC3264_10_1_ANSWER));
    assert.deepEqual(bob.media.map((m) => m.port), [49920, 0, 53000]);
  });

  it('§10.2: one-of-N codecs, inactive — the answer is the RFC\'s, byte for byte', () => {
    const r = answerAudio(crlf(RFC3264_10_2_OFFER), {
      address: 'host.example.com', port: 54344, random: rnd(3), requireSrtp: false,
      username: 'bob', sessionId: '2890844730', sessionVersion: '2890844731', sessionName: '',
      codecs: [{ encoding: 'PCMU', clockRate: 8000, payloadType: 0 }, { encoding: 'G723', clockRate: 8000, payloadType: 4 }],
    });
    assert.equal(r.status, 'accepted');
    if (r.status !== 'accepted') return;
    assert.equal(r.text, crlf(RFC3264_10_2_ANSWER));
    assert.deepEqual(r.negotiation.codecs.map((c) => `${c.payloadType} ${c.encoding}`), ['0 PCMU', '4 G723']);
    assert.equal(r.negotiation.direction, 'inactive');
  });

  it('a plain RTP/AVP offer is not acceptable when SRTP is required (the default)', () => {
    const r = answerAudio(crlf(RFC3264_10_2_OFFER), { ...BOB });
    assert.equal(r.status, 'not-acceptable');
    if (r.status !== 'not-acceptable') return;
    assert.equal(r.sipStatus, 488);
    assert.match(r.reason, /SRTP is required/);
    assert.equal(parseSdp(r.text).media[0]!.port, 0);
  });
});

describe('SRTP audio offer → answer → apply', () => {
  it('builds an offer with PCMU, PCMA, telephone-event and one a=crypto per suite', () => {
    const offer = createAudioOffer({ address: '192.0.2.10', port: 40000, random: rnd(10), sessionId: '42' });
    const lines = offer.text.split('\r\n');
    assert.deepEqual(lines.slice(0, 10), [
      'v=0', 'o=- 42 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0',
      'm=audio 40000 RTP/SAVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16',
    ]);
    const crypto = lines.filter((l) => l.startsWith('a=crypto:')).map((l) => parseCryptoAttribute(l.slice(9)));
    assert.deepEqual(crypto.map((c) => `${c.tag} ${c.suite}`), ['1 AEAD_AES_128_GCM', '2 AES_CM_128_HMAC_SHA1_80', '3 AES_CM_128_HMAC_SHA1_32']);
    assert.ok(lines.includes('a=sendrecv'));
    // Every key in the description is distinct (RFC 4568 §6.1).
    assert.equal(new Set(offer.crypto.map((c) => c.key.key.toString('hex'))).size, 3);
    assert.equal(parseSdp(offer.text).media.length, 1);
  });

  it('answer picks the first suite we support in the offer\'s order; both sides agree on keys', () => {
    const offer = createAudioOffer({ address: '192.0.2.10', port: 40000, random: rnd(11), rtcpMux: true, ptime: 20 });
    const answer = answerAudio(offer.text, { ...BOB, random: rnd(12), suites: ['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM'] });
    assert.equal(answer.status, 'accepted');
    if (answer.status !== 'accepted') return;
    const a = answer.negotiation;
    assert.equal(a.srtp!.suite, 'AEAD_AES_128_GCM');
    assert.equal(a.srtp!.tag, 1);
    assert.equal(a.srtp!.local.key.length, 16);
    assert.equal(a.srtp!.local.salt.length, 12);
    assert.deepEqual(a.codecs.map((c) => c.encoding), ['PCMU', 'PCMA']);
    assert.equal(a.telephoneEvent!.payloadType, 101);
    assert.equal(a.rtcpMux, true);
    assert.equal(a.remotePtime, 20);
    assert.deepEqual(a.remote, { address: '192.0.2.10', addrType: 'IP4', port: 40000 });

    const applied = applyAudioAnswer(offer, answer.text);
    assert.equal(applied.status, 'accepted');
    if (applied.status !== 'accepted') return;
    const o = applied.negotiation;
    assert.equal(o.srtp!.suite, 'AEAD_AES_128_GCM');
    // Offerer's own key = what the answerer received as remote, and vice versa.
    assert.ok(o.srtp!.local.key.equals(a.srtp!.remote[0]!.key) && o.srtp!.local.salt.equals(a.srtp!.remote[0]!.salt));
    assert.ok(o.srtp!.remote[0]!.key.equals(a.srtp!.local.key) && o.srtp!.remote[0]!.salt.equals(a.srtp!.local.salt));
    assert.deepEqual(o.remote, { address: '192.0.2.20', addrType: 'IP4', port: 50000 });
    assert.equal(o.rtcpMux, true);
    assert.deepEqual(o.codecs.map((c) => c.payloadType), [0, 8]);
  });

  it('skips suites disallowed by policy (e.g. _32) and unknown ones, in the offer\'s order', () => {
    const r = answerAudio(savpOffer([`1 FOO_BAR inline:xyz`, `2 AES_CM_128_HMAC_SHA1_32 inline:${KEY}`, `3 AES_CM_128_HMAC_SHA1_80 inline:${KEY}|2^31`]), {
      ...BOB, suites: ['AES_CM_128_HMAC_SHA1_80'],
    });
    assert.equal(r.status, 'accepted');
    if (r.status !== 'accepted') return;
    assert.equal(r.negotiation.srtp!.tag, 3);
    assert.equal(r.negotiation.srtp!.remote[0]!.lifetimePackets, 2 ** 31);
    assert.ok(r.text.includes('a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:'));
  });

  it('answers the direction by RFC 3264 §6.1', () => {
    const cases: [string, string | undefined, string][] = [
      ['sendonly', undefined, 'recvonly'],
      ['recvonly', undefined, 'sendonly'],
      ['inactive', undefined, 'inactive'],
      ['sendrecv', 'sendonly', 'sendonly'],
      ['sendonly', 'sendonly', 'inactive'],
    ];
    for (const [offered, local, expected] of cases) {
      const r = answerAudio(savpOffer([`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`], [`a=${offered}`]), {
        ...BOB, ...(local ? { direction: local as 'sendonly' } : {}),
      });
      assert.equal(r.status, 'accepted');
      if (r.status !== 'accepted') continue;
      assert.equal(r.negotiation.direction, expected, `${offered}/${local}`);
      assert.ok(r.text.includes(`a=${expected}\r\n`));
    }
  });

  it('rejects extra audio streams and non-audio streams with port 0', () => {
    const text = crlf([
      'v=0', 'o=- 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0',
      'm=video 30000 RTP/SAVP 96', 'a=rtpmap:96 VP8/90000', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`,
      'm=audio 40000 RTP/SAVP 0', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`,
      'm=audio 40002 RTP/SAVP 0', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`,
    ]);
    const r = answerAudio(text, BOB);
    assert.equal(r.status, 'accepted');
    if (r.status !== 'accepted') return;
    assert.equal(r.negotiation.mediaIndex, 1);
    assert.deepEqual(parseSdp(r.text).media.map((m) => `${m.media} ${m.port}`), ['video 0', 'audio 50000', 'audio 0']);
  });

  it('offer without a=crypto, without common codec, or with DTLS transport is not acceptable', () => {
    const noCrypto = answerAudio(savpOffer([]), BOB);
    assert.equal(noCrypto.status, 'not-acceptable');
    assert.match((noCrypto as { reason: string }).reason, /without a=crypto/);
    const noCodec = answerAudio(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0',
      'm=audio 40000 RTP/SAVP 18 101', 'a=rtpmap:101 telephone-event/8000', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`]), BOB);
    assert.equal(noCodec.status, 'not-acceptable');
    assert.match((noCodec as { reason: string }).reason, /no common audio codec/);
    const dtls = answerAudio(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0',
      'm=audio 40000 UDP/TLS/RTP/SAVPF 0', 'a=setup:actpass']), BOB);
    assert.equal(dtls.status, 'not-acceptable');
    assert.match((dtls as { reason: string }).reason, /transport UDP\/TLS\/RTP\/SAVPF not supported/);
    const none = answerAudio(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0']), BOB);
    assert.equal(none.status, 'not-acceptable');
    assert.match((none as { reason: string }).reason, /no audio stream/);
  });

  it('a malformed offer is a SipParseError (→ 400), not a not-acceptable result', () => {
    assert.throws(() => answerAudio(savpOffer([`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY.slice(4)}`]), BOB), SipParseError);
  });

  it('bad options are InvalidArgumentError', () => {
    assert.throws(() => createAudioOffer({ address: '192.0.2.1', port: 0, random: rnd(1) }), InvalidArgumentError);
    assert.throws(() => createAudioOffer({ address: 'not an address', port: 1, random: rnd(1) }), InvalidArgumentError);
    assert.throws(() => createAudioOffer({ address: '192.0.2.1', port: 1, random: rnd(1), suites: ['F8_128_HMAC_SHA1_80' as 'AEAD_AES_128_GCM'] }), InvalidArgumentError);
    assert.throws(() => createAudioOffer({ address: '192.0.2.1', port: 1, random: () => Buffer.alloc(1) }), InvalidArgumentError);
    assert.throws(() => answerAudio(savpOffer([]), { ...BOB, codecs: [] }), InvalidArgumentError);
  });

  it('applyAudioAnswer refuses answers that do not fit the offer', () => {
    const offer = createAudioOffer({ address: '192.0.2.10', port: 40000, random: rnd(20) });
    const good = answerAudio(offer.text, { ...BOB, random: rnd(21) });
    assert.equal(good.status, 'accepted');
    if (good.status !== 'accepted') return;
    const cases: [string, string, RegExp][] = [
      ['m=audio 50000 ', 'm=audio 0 ', /rejected/],
      ['a=crypto:1 ', 'a=crypto:9 ', /does not match an offered tag/],
      ['a=crypto:1 AEAD_AES_128_GCM', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80', /does not match|inline key/],
    ];
    for (const [from, to, re] of cases) {
      let outcome;
      try {
        outcome = applyAudioAnswer(offer, good.text.replace(from, to));
      } catch (e) {
        assert.ok(e instanceof SipParseError);
        continue;
      }
      assert.equal(outcome.status, 'not-acceptable', to);
      if (outcome.status === 'not-acceptable') assert.match(outcome.reason, re);
    }
    // An answer echoing our own key is refused (RFC 4568 §7.1.2).
    const ours = offer.text.split('\r\n').find((l) => l.startsWith('a=crypto:1 '))!;
    const echoed = good.text.replace(/a=crypto:1 [^\r]*/, ours.replace(/\|.*$/, ''));
    const out = applyAudioAnswer(offer, echoed);
    assert.equal(out.status, 'not-acceptable');
  });
});

describe('weak or unknown only offers → not-acceptable (488)', () => {
  const cases: [string, string[], RegExp, AudioAnswerOptions?][] = [
    ['F8 only', [`1 F8_128_HMAC_SHA1_80 inline:${KEY}`], /tag 1 F8_128_HMAC_SHA1_80: weak suite/],
    ['NULL cipher', ['1 NULL_HMAC_SHA1_80 inline:whatever'], /weak \(NULL transform\)/],
    ['unknown suites', ['1 SEED_128_GCM_96 inline:x', '2 MY_CIPHER inline:y'], /tag 1 SEED_128_GCM_96: unknown suite; tag 2 MY_CIPHER: unknown suite/],
    ['_32 disallowed', [`1 AES_CM_128_HMAC_SHA1_32 inline:${KEY}`], /not allowed by policy/, { ...BOB, suites: ['AES_CM_128_HMAC_SHA1_80'] }],
    ['UNENCRYPTED_SRTP', [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY} UNENCRYPTED_SRTP`], /weak \(UNENCRYPTED_SRTP\)/],
    ['UNAUTHENTICATED_SRTP', [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY} UNAUTHENTICATED_SRTP`], /weak \(UNAUTHENTICATED_SRTP\)/],
    ['unknown mandatory param', [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY} FOO=1`], /unknown mandatory session parameter FOO/],
    ['AES-256-CM (known, unsupported)', [`1 AES_256_CM_HMAC_SHA1_80 inline:${Buffer.alloc(46, 1).toString('base64')}`], /not supported/],
  ];
  for (const [name, lines, re, opts] of cases) {
    it(name, () => {
      const r = answerAudio(savpOffer(lines), opts ?? BOB);
      assert.equal(r.status, 'not-acceptable');
      if (r.status !== 'not-acceptable') return;
      assert.equal(r.sipStatus, 488);
      assert.match(r.reason, /no acceptable crypto suite/);
      assert.match(r.reason, re);
      // The answer SDP rejects the stream with port 0 and carries no key.
      const a = parseSdp(r.text);
      assert.equal(a.media[0]!.port, 0);
      assert.ok(!r.text.includes('inline:'));
    });
  }

  it('an optional "-" session parameter is ignored', () => {
    const r = answerAudio(savpOffer([`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY} -X_HINT=1`]), BOB);
    assert.equal(r.status, 'accepted');
  });
});
