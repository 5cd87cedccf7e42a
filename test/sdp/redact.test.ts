/**
 * `redactSdp`: `inline:` keys and fingerprint values disappear from logs; nothing else changes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAudioOffer, redactSdp } from '../../src/sdp/index.js';
import { createSeededRandom } from '../../src/util/random.js';

const FP = '4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3D:45:BF:4E:DE:0D:E1:15:44:E5:F9:1A';

describe('redactSdp', () => {
  it('replaces inline keys (also in FEC_KEY) and fingerprint values, keeps the rest', () => {
    const text = [
      'v=0',
      'o=- 1 1 IN IP4 192.0.2.1',
      's=-',
      'c=IN IP4 192.0.2.1',
      't=0 0',
      `a=fingerprint:sha-256 ${FP}`,
      'm=audio 49170 RTP/SAVP 0',
      'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4 FEC_KEY=inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|2:4',
      'a=crypto:2 F8_128_HMAC_SHA1_80 INLINE:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4;inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4',
      'a=rtpmap:0 PCMU/8000',
      '',
    ].join('\r\n');
    const expected = [
      'v=0',
      'o=- 1 1 IN IP4 192.0.2.1',
      's=-',
      'c=IN IP4 192.0.2.1',
      't=0 0',
      'a=fingerprint:sha-256 [redacted]',
      'm=audio 49170 RTP/SAVP 0',
      'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[redacted]|2^20|1:4 FEC_KEY=inline:[redacted]|2^20|2:4',
      'a=crypto:2 F8_128_HMAC_SHA1_80 INLINE:[redacted]|2^20|1:4;inline:[redacted]|2^20|2:4',
      'a=rtpmap:0 PCMU/8000',
      '',
    ].join('\r\n');
    assert.equal(redactSdp(text), expected);
  });

  it('leaves a description without secrets untouched', () => {
    const text = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=inline thinking\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n';
    assert.equal(redactSdp(text), text);
  });

  it('works on a generated offer and inside a one-line log message', () => {
    const r = createSeededRandom(9);
    const offer = createAudioOffer({ address: '192.0.2.1', port: 4000, random: (n) => r.bytes(n) });
    const red = redactSdp(offer.text);
    for (const c of offer.crypto) assert.ok(!red.includes(Buffer.concat([c.key.key, c.key.salt]).toString('base64')));
    assert.equal((red.match(/inline:\[redacted\]/g) ?? []).length, offer.crypto.length);
    assert.equal(redactSdp(`offer body: a=fingerprint:sha-1 ${FP.slice(0, 59)} and more`), 'offer body: a=fingerprint:sha-1 [redacted] and more');
  });
});
