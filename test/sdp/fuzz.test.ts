/**
 * Fuzzing: 2000 seeded random mutations of a valid description. Parsing never throws anything
 * but {@link SipParseError}; whatever parses serializes and re-parses to the same model, and
 * the offer/answer helpers and the redactor handle it without throwing anything else.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  answerAudio, answerDataChannel, computeFingerprint, formatSdp, parseSdp, redactSdp,
} from '../../src/sdp/index.js';
import { SipParseError } from '../../src/errors.js';
import { createSeededRandom } from '../../src/util/random.js';

const SEED_SDP = [
  'v=0',
  'o=alice 2890844526 2890844527 IN IP4 192.0.2.10',
  's=fuzz',
  'i=info',
  'c=IN IP4 192.0.2.10',
  'b=AS:256',
  't=0 0',
  'r=7d 1h 0 25h',
  'z=2882844526 -1h 2898848070 0',
  'a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3D:45:BF:4E:DE:0D:E1:15:44:E5:F9:1A',
  'a=x-custom:value with spaces',
  'm=audio 49170 RTP/SAVP 0 8 101',
  'c=IN IP6 2001:db8::1',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=rtcp-mux',
  'a=crypto:1 AEAD_AES_128_GCM inline:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYg==',
  'a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4 FEC_ORDER=FEC_SRTP',
  'a=crypto:3 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4;inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4',
  'a=sendrecv',
  'm=application 54111 TCP/TLS sipher-data',
  'a=setup:actpass',
  'a=connection:new',
  'm=video 0 RTP/AVP 31',
].join('\r\n') + '\r\n';

const SNIPPETS = [
  ' ', '  ', ':', '/', '=', '|', ';', '^', '-', '\t', '\r', '\n', '\r\n', '\0', '0', '9', '99999999999999999999', '2^99',
  'a=', 'm=', 'c=', 't=', 'r=', 'z=', 'k=', 'v=0', 'inline:', 'a=crypto:', 'a=setup:', 'IN IP6 ', 'IN IP4 ', '224.0.0.1',
  'AES_CM_128_HMAC_SHA1_32', 'AEAD_AES_256_GCM', '::', 'ff', 'é', '☎', '\uFFFD', 'a=rtpmap:96 x/0', 'a=fingerprint:md5 AB',
];

describe('SDP fuzzing', () => {
  it('2000 random mutations never throw anything but SipParseError', () => {
    const rng = createSeededRandom(0x5d9);
    const u32 = (): number => rng.bytes(4).readUInt32BE(0);
    const pick = <T>(a: readonly T[]): T => a[u32() % a.length]!;
    const keyRandom = createSeededRandom(77);
    const random = (n: number): Buffer => keyRandom.bytes(n);
    const fingerprints = [computeFingerprint(Buffer.from('fuzz cert'))];

    const mutate = (s: string): string => {
      const ops = 1 + (u32() % 3);
      for (let k = 0; k < ops; k++) {
        const lines = s.split('\r\n');
        const pos = s.length === 0 ? 0 : u32() % s.length;
        switch (u32() % 9) {
          case 0: s = s.slice(0, pos) + String.fromCharCode(u32() % 256) + s.slice(pos + 1); break;
          case 1: s = s.slice(0, pos) + s.slice(pos + 1 + (u32() % 16)); break;
          case 2: s = s.slice(0, pos) + pick(SNIPPETS) + s.slice(pos); break;
          case 3: { const i = u32() % lines.length; lines.splice(i, 0, lines[i]!); s = lines.join('\r\n'); break; }
          case 4: { const i = u32() % lines.length; const j = u32() % lines.length; [lines[i], lines[j]] = [lines[j]!, lines[i]!]; s = lines.join('\r\n'); break; }
          case 5: { lines.splice(u32() % lines.length, 1); s = lines.join('\r\n'); break; }
          case 6: s = s.slice(0, pos); break;
          case 7: s = s.replace(/[0-9]+/, () => pick(['0', '65536', '4294967296', '99999999999999999999999', '-1', '01'])); break;
          default: s = s.replace(/\r\n/g, () => (u32() % 4 === 0 ? '\n' : '\r\n')); break;
        }
      }
      return s;
    };

    let parsed = 0;
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const input = mutate(SEED_SDP);
      const asBytes = u32() % 4 === 0;
      try {
        const sdp = parseSdp(asBytes ? Buffer.from(input, 'utf8') : input);
        parsed++;
        const text = formatSdp(sdp);
        assert.deepEqual(parseSdp(text), sdp, `round trip differs for mutation ${i}`);
        assert.equal(formatSdp(parseSdp(text)), text);
        answerAudio(sdp, { address: '192.0.2.99', port: 40000, random });
        answerAudio(sdp, { address: '192.0.2.99', port: 40000, random, requireSrtp: false, suites: ['AES_CM_128_HMAC_SHA1_32'] });
        answerDataChannel(sdp, { address: '192.0.2.99', port: 40002, random, fingerprints });
      } catch (e) {
        if (!(e instanceof SipParseError)) {
          assert.fail(`mutation ${i} threw ${(e as Error)?.name}: ${(e as Error)?.message}\n${JSON.stringify(input)}`);
        }
        assert.match(e.message, /^SDP line \d+: /);
        refused++;
      }
      redactSdp(input);
    }
    assert.equal(parsed + refused, 2000);
    // Both paths are exercised: the mutations are neither all fatal nor all harmless.
    assert.ok(parsed > 100 && refused > 100, `parsed ${parsed}, refused ${refused}`);
  });
});
