/**
 * RFC 4568 (SDES) vectors, copied from the RFC text: the §4 attribute, the §4.5 example
 * description, the §6.1 key examples and the §7.1.5 offer/answer. The expected key and salt
 * bytes were decoded independently (`openssl base64 -d | xxd -p`) and split 16 + 14 as
 * AES_CM_128_HMAC_SHA1_80/_32 and F8_128_HMAC_SHA1_80 require (RFC 4568 §6.2).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  answerAudio, formatCryptoAttribute, formatSdp, parseCryptoAttribute, parseSdp, parseSrtpKeyParams, SRTP_SUITES,
  type CryptoAttribute, type KnownCryptoAttribute,
} from '../../src/sdp/index.js';
import { SipParseError } from '../../src/errors.js';
import { createSeededRandom } from '../../src/util/random.js';

const crlf = (lines: string[]): string => lines.map((l) => l + '\r\n').join('');
const hex = (b: Buffer): string => b.toString('hex');

function known(c: CryptoAttribute): KnownCryptoAttribute {
  assert.ok(c.known, `${c.suite} should be a known suite`);
  return c;
}

// RFC 4568 §7.1.5: "Offerer sends" (each a=crypto is one line; the RFC folds them for print).
const OFFER_7_1_5 = [
  'v=0',
  'o=sam 2890844526 2890842807 IN IP4 10.47.16.5',
  's=SRTP Discussion',
  'i=A discussion of Secure RTP',
  'u=http://www.example.com/seminars/srtp.pdf',
  'e=marge@example.com (Marge Simpson)',
  'c=IN IP4 168.2.17.12',
  't=2873397496 2873404696',
  'm=audio 49170 RTP/SAVP 0',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4 FEC_ORDER=FEC_SRTP',
  'a=crypto:2 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4;inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4 FEC_ORDER=FEC_SRTP',
];

// RFC 4568 §7.1.5: "Answerer replies".
const ANSWER_7_1_5 = [
  'v=0',
  'o=jill 25690844 8070842634 IN IP4 10.47.16.5',
  's=SRTP Discussion',
  'i=A discussion of Secure RTP',
  'u=http://www.example.com/seminars/srtp.pdf',
  'e=homer@example.com (Homer Simpson)',
  'c=IN IP4 168.2.17.11',
  't=2873397526 2873405696',
  'm=audio 32640 RTP/SAVP 0',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4',
];

// RFC 4568 §4.5, the example description.
const EXAMPLE_4_5 = [
  'v=0',
  'o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5',
  's=SDP Seminar',
  'i=A Seminar on the session description protocol',
  'u=http://www.example.com/seminars/sdp.pdf',
  'e=j.doe@example.com (Jane Doe)',
  'c=IN IP4 161.44.17.12/127',
  't=2873397496 2873404696',
  'm=video 51372 RTP/SAVP 31',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:32',
  'm=audio 49170 RTP/SAVP 0',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32',
  'm=application 32416 udp wb',
  'a=orient:portrait',
];

describe('RFC 4568 a=crypto', () => {
  it('§4: the introductory attribute', () => {
    const c = known(parseCryptoAttribute('1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32'));
    assert.equal(c.tag, 1);
    assert.equal(c.info.name, 'AES_CM_128_HMAC_SHA1_80');
    assert.equal(c.keys.length, 1);
    assert.equal(hex(c.keys[0]!.key), '3d2d6e40255e7821426a75667239293f');
    assert.equal(hex(c.keys[0]!.salt), '2c2335685c603d265d7b71695051');
    assert.equal(c.keys[0]!.lifetimePackets, 2 ** 20);
    assert.deepEqual(c.keys[0]!.mki, { value: 1, length: 32 });
    assert.deepEqual(c.sessionParams, []);
  });

  it('§4.5: the example description parses, keys split 16+14, and round-trips', () => {
    const text = crlf(EXAMPLE_4_5);
    const sdp = parseSdp(text);
    assert.equal(formatSdp(sdp), text);
    assert.deepEqual(sdp.connection, { netType: 'IN', addrType: 'IP4', address: '161.44.17.12', ttl: 127 });
    const video = known(parseCryptoAttribute(sdp.media[0]!.attributes[0]!.value!));
    assert.equal(hex(video.keys[0]!.key), '774466766726542b2978473740666235');
    assert.equal(hex(video.keys[0]!.salt), '6a552c5261417d5c7c7030252a23');
    const audio = known(parseCryptoAttribute(sdp.media[1]!.attributes[0]!.value!));
    assert.equal(audio.info.name, 'AES_CM_128_HMAC_SHA1_32');
    assert.equal(hex(audio.keys[0]!.key), '37307877504835402f2c4c3a53317759');
    assert.equal(hex(audio.keys[0]!.salt), '227e3d27457067542528695f5663');
    assert.deepEqual(audio.keys[0]!.mki, { value: 1, length: 32 });
    assert.equal(sdp.media[2]!.proto, 'udp');
  });

  it('§6.1: the two key-param examples (lifetime+MKI, MKI only)', () => {
    const suite = SRTP_SUITES.AES_CM_128_HMAC_SHA1_80;
    const [a] = parseSrtpKeyParams('inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:4', suite);
    assert.equal(hex(a!.key), '774466766726542b2978473740666235');
    assert.equal(a!.lifetime, '2^20');
    assert.deepEqual(a!.mki, { value: 1, length: 4 });
    // "inline:YUJD…|1066:4": the default lifetime, a 4-byte MKI of 1066.
    const [b] = parseSrtpKeyParams('inline:YUJDZGVmZ2hpSktMbW9QUXJzVHVWd3l6MTIzNDU2|1066:4', suite);
    assert.equal(hex(b!.key), '6142436465666768694a4b4c6d6f5051');
    assert.equal(hex(b!.salt), '727354755677797a313233343536');
    assert.equal(b!.lifetime, undefined);
    assert.deepEqual(b!.mki, { value: 1066, length: 4 });
  });

  it('§7.1.5: the offer parses — AES with FEC_ORDER, F8 with two MKI keys', () => {
    const sdp = parseSdp(crlf(OFFER_7_1_5));
    const [aes, f8] = sdp.media[0]!.attributes.map((a) => known(parseCryptoAttribute(a.value!)));
    assert.equal(aes!.tag, 1);
    assert.equal(hex(aes!.keys[0]!.key), '59535f5f5f73656d63746c202829207b');
    assert.equal(hex(aes!.keys[0]!.salt), '093232303b7d0a7d0a756e6c6573');
    assert.deepEqual(aes!.keys[0]!.mki, { value: 1, length: 4 });
    assert.deepEqual(aes!.sessionParams, ['FEC_ORDER=FEC_SRTP']);
    assert.equal(f8!.tag, 2);
    assert.equal(f8!.info.status, 'weak');
    assert.equal(f8!.keys.length, 2);
    assert.equal(hex(f8!.keys[0]!.key), '31323334353637383941424344453031');
    assert.equal(hex(f8!.keys[0]!.salt), '3233343536373839414263646566');
    assert.equal(hex(f8!.keys[1]!.key), '41426364656631323334353637383941');
    assert.equal(hex(f8!.keys[1]!.salt), '4243444530313233343536373839');
    assert.deepEqual(f8!.keys.map((k) => k.mki!.value), [1, 2]);
    for (const a of sdp.media[0]!.attributes) assert.equal(formatCryptoAttribute(parseCryptoAttribute(a.value!)), a.value);
  });

  it('§7.1.5: the RFC answer carries the answerer key', () => {
    const sdp = parseSdp(crlf(ANSWER_7_1_5));
    const c = known(parseCryptoAttribute(sdp.media[0]!.attributes[0]!.value!));
    assert.equal(c.tag, 1);
    assert.equal(hex(c.keys[0]!.key), '3d2d6e40255e7821426a75667239293f');
    assert.equal(hex(c.keys[0]!.salt), '2c2335685c603d265d7b71695051');
  });

  it('§7.1.5: answering the offer picks tag 1 AES_CM_128_HMAC_SHA1_80 with a fresh key', () => {
    const random = createSeededRandom(4568);
    const r = answerAudio(crlf(OFFER_7_1_5), { address: '168.2.17.11', port: 32640, random: (n) => random.bytes(n), username: 'jill' });
    assert.equal(r.status, 'accepted', r.status === 'not-acceptable' ? r.reason : '');
    if (r.status !== 'accepted') return;
    const srtp = r.negotiation.srtp!;
    assert.equal(srtp.suite, 'AES_CM_128_HMAC_SHA1_80');
    assert.equal(srtp.tag, 1);
    assert.equal(hex(srtp.remote[0]!.key), '59535f5f5f73656d63746c202829207b');
    assert.equal(hex(srtp.remote[0]!.salt), '093232303b7d0a7d0a756e6c6573');
    assert.deepEqual(srtp.remote[0]!.mki, { value: 1, length: 4 });
    assert.equal(srtp.local.key.length, 16);
    assert.equal(srtp.local.salt.length, 14);
    assert.notEqual(hex(srtp.local.key), hex(srtp.remote[0]!.key));
    assert.deepEqual(r.negotiation.remote, { address: '168.2.17.12', addrType: 'IP4', port: 49170 });
    assert.deepEqual(r.negotiation.codecs.map((c) => c.encoding), ['PCMU']);
    // The answer has the shape of the RFC's: one m=audio with the same tag and suite.
    const answer = parseSdp(r.text);
    const m = answer.media[0]!;
    assert.equal(`${m.media} ${m.port} ${m.proto} ${m.formats.join(' ')}`, 'audio 32640 RTP/SAVP 0');
    const crypto = m.attributes.filter((a) => a.name === 'crypto');
    assert.equal(crypto.length, 1);
    const echoed = known(parseCryptoAttribute(crypto[0]!.value!));
    assert.equal(echoed.tag, 1);
    assert.equal(echoed.suite, 'AES_CM_128_HMAC_SHA1_80');
    assert.ok(echoed.keys[0]!.key.equals(srtp.local.key) && echoed.keys[0]!.salt.equals(srtp.local.salt));
    // Declarative session parameters of the offer are not echoed (RFC 4568 §5.1.2).
    assert.deepEqual(echoed.sessionParams, []);
  });

  it('splits AEAD keys 16+12 and 32+12 (RFC 7714 §12) and formats them back', () => {
    const k128 = Buffer.alloc(28, 0xab);
    const c128 = known(parseCryptoAttribute(`1 AEAD_AES_128_GCM inline:${k128.toString('base64')}`));
    assert.equal(c128.keys[0]!.key.length, 16);
    assert.equal(c128.keys[0]!.salt.length, 12);
    // The AEAD_AES_256_GCM line of the WebRTC test suite (44 bytes, base64 with padding).
    const v = '1 AEAD_AES_256_GCM inline:e166KFlKzJsGW0d5apX+rrI05vxbrvMJEzFI14aTDCa63IRTlLK4iH66uOI=';
    const c256 = known(parseCryptoAttribute(v));
    assert.equal(c256.keys[0]!.key.length, 32);
    assert.equal(c256.keys[0]!.salt.length, 12);
    assert.equal(formatCryptoAttribute(c256), v);
    // Unpadded base64 is accepted too.
    assert.equal(known(parseCryptoAttribute(v.replace(/=$/, ''))).keys[0]!.key.length, 32);
  });

  it('keeps an unknown suite as unknown, not an error', () => {
    const c = parseCryptoAttribute('3 SEED_128_GCM_96 inline:whatever|2^20 UNENCRYPTED_SRTP');
    assert.equal(c.known, false);
    assert.equal(c.suite, 'SEED_128_GCM_96');
    assert.equal(formatCryptoAttribute(c), '3 SEED_128_GCM_96 inline:whatever|2^20 UNENCRYPTED_SRTP');
  });

  it('rejects malformed attributes without echoing key material', () => {
    const bad = [
      '1 AES_CM_128_HMAC_SHA1_80 inline:c2VjcmV0c2VjcmV0c2VjcmV0',
      '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB*',
      '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^49',
      '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:129',
      '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:0',
      '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|256:1',
      '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR;inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz',
      '1 AES_CM_128_HMAC_SHA1_80 uri:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR',
      '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR KDR=25',
      '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR WSH=32',
      '01 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR',
      '1234567890 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR',
      '1 AES-CM inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR',
      '1 AES_CM_128_HMAC_SHA1_80',
    ];
    for (const v of bad) {
      assert.throws(() => parseCryptoAttribute(v), (e: unknown) => {
        assert.ok(e instanceof SipParseError, v);
        assert.ok(!/PS1u|WVNf|c2Vj/.test(e.message), `message leaks key material: ${e.message}`);
        return true;
      }, v);
    }
  });
});
