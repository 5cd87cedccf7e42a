/**
 * Malformed session descriptions: each is refused with a {@link SipParseError} whose message
 * names the line and the fault (and never echoes key material).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSdp } from '../../src/sdp/index.js';
import { SipParseError } from '../../src/errors.js';

const crlf = (lines: string[]): string => lines.map((l) => l + '\r\n').join('');
const HEAD = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0'];
const KEY = 'PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR';
const withHead = (...rest: string[]): string => crlf([...HEAD, ...rest]);
const audio = (...attrs: string[]): string => withHead('m=audio 49170 RTP/SAVP 0', ...attrs);

/** [name, input, expected line number, fault pattern] */
const CASES: [string, string, number, RegExp][] = [
  ['empty input', '', 1, /empty session description/],
  ['only line endings', '\r\n\r\n', 1, /empty session description/],
  ['missing v=', crlf(HEAD.slice(1)), 1, /missing v= line/],
  ['unsupported version', crlf(['v=1', ...HEAD.slice(1)]), 1, /unsupported SDP version/],
  ['non-numeric version', crlf(['v=zero', ...HEAD.slice(1)]), 1, /malformed v= line/],
  ['missing o=', crlf(['v=0', 's=-', 't=0 0']), 2, /missing o= line/],
  ['o= with five fields', crlf(['v=0', 'o=- 1 1 IN IP4', 's=-', 't=0 0']), 2, /malformed o= line/],
  ['o= non-numeric sess-id', crlf(['v=0', 'o=- abc 1 IN IP4 192.0.2.1', 's=-', 't=0 0']), 2, /sess-id is not numeric/],
  ['o= double space', crlf(['v=0', 'o=-  1 1 IN IP4 192.0.2.1', 's=-', 't=0 0']), 2, /single spaces/],
  ['missing s=', crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 't=0 0']), 3, /missing s= line/],
  ['duplicate s=', crlf([...HEAD.slice(0, 3), 's=again', ...HEAD.slice(3)]), 4, /s= line out of order|duplicate s=/],
  ['missing t=', crlf(HEAD.slice(0, 4)), 5, /missing t= line/],
  ['t= non-numeric', crlf([...HEAD.slice(0, 4), 't=now later']), 5, /malformed t= line/],
  ['t= short time', crlf([...HEAD.slice(0, 4), 't=1 0']), 5, /malformed t= line/],
  ['unknown line type', withHead('x=whatever'), 6, /unknown line type "x"/],
  ['upper-case line type', withHead('A=foo'), 6, /unknown line type "A"/],
  ['line without =', withHead('a'), 6, /malformed line/],
  ['space before =', withHead('a =foo'), 6, /malformed line/],
  ['line too long', withHead('a=long:' + 'x'.repeat(5000)), 6, /line too long \(5007 > 4096 characters\)/],
  ['too many lines', withHead(...Array.from({ length: 1100 }, (_, i) => `a=x${i}`)), 1025, /more than 1024 lines/],
  ['larger than 64 KiB', withHead(...Array.from({ length: 20 }, () => 'a=pad:' + 'x'.repeat(4000))), 22, /larger than 65536 bytes/],
  ['too many media sections', withHead(...Array.from({ length: 65 }, (_, i) => `m=audio ${1000 + i} RTP/AVP 0`)), 70, /more than 64 media descriptions/],
  ['bad m= port', withHead('m=audio abc RTP/AVP 0'), 6, /m= port is not a number/],
  ['m= port out of range', withHead('m=audio 70000 RTP/AVP 0'), 6, /m= port out of range/],
  ['m= port count zero', withHead('m=audio 49170/0 RTP/AVP 0'), 6, /port count out of range/],
  ['m= without format', withHead('m=audio 49170 RTP/AVP'), 6, /malformed m= line/],
  ['m= bad proto', withHead('m=audio 49170 RTP//AVP 0'), 6, /malformed m= proto/],
  ['c= bad IPv4', crlf([...HEAD.slice(0, 3), 'c=IN IP4 999.1.1.1', 't=0 0']), 4, /malformed IP4 connection address/],
  ['c= bad IPv6', crlf([...HEAD.slice(0, 3), 'c=IN IP6 2001:db8:::1', 't=0 0']), 4, /malformed IP6 connection address/],
  ['c= missing address', crlf([...HEAD.slice(0, 3), 'c=IN IP4', 't=0 0']), 4, /malformed c= line/],
  ['c= multicast without TTL', crlf([...HEAD.slice(0, 3), 'c=IN IP4 233.252.0.1', 't=0 0']), 4, /multicast connection address without TTL/],
  ['c= TTL out of range', crlf([...HEAD.slice(0, 3), 'c=IN IP4 233.252.0.1/300', 't=0 0']), 4, /TTL out of range/],
  ['media without any c=', crlf([...HEAD.slice(0, 3), 't=0 0', 'm=audio 49170 RTP/AVP 0']), 5, /without a c= line/],
  ['b= non-numeric', crlf([...HEAD.slice(0, 4), 'b=AS:fast', 't=0 0']), 5, /malformed b= line/],
  ['b= missing colon', crlf([...HEAD.slice(0, 4), 'b=AS', 't=0 0']), 5, /malformed b= line/],
  ['i= after c= (order)', crlf([...HEAD.slice(0, 4), 'i=late', 't=0 0']), 5, /i= line out of order/],
  ['a= before t=', crlf([...HEAD.slice(0, 4), 'a=recvonly', 't=0 0']), 5, /a= line before any t= line/],
  ['r= without t=', crlf([...HEAD.slice(0, 4), 'r=7d 1h 0', 't=0 0']), 5, /r= line must follow a t= line/],
  ['z= without r= (RFC 8866 §5.11)', withHead('z=2882844526 -1h'), 6, /z= line must follow an r= line/],
  ['malformed r=', withHead('r=0 1h 0'), 6, /malformed r= line/],
  ['k= unknown method', withHead('k=magic:abc'), 6, /malformed k= line/],
  ['u= with a space', crlf([...HEAD.slice(0, 3), 'u=http://a b', ...HEAD.slice(3)]), 4, /malformed u= line/],
  ['empty e=', crlf([...HEAD.slice(0, 3), 'e=', ...HEAD.slice(3)]), 4, /empty e= line/],
  ['s= in a media description', withHead('m=audio 1 RTP/AVP 0', 's=x'), 7, /s= line not allowed in a media description/],
  ['c= before i= in media', withHead('m=audio 1 RTP/AVP 0', 'c=IN IP4 192.0.2.2', 'i=x'), 8, /i= line out of order in a media description/],
  ['empty line in the middle', crlf([...HEAD.slice(0, 3), '', ...HEAD.slice(3)]), 4, /empty line/],
  ['CR inside a line', withHead('a=x\ry'), 6, /CR inside a line/],
  ['NUL byte', withHead('a=x\0y'), 6, /NUL byte/],
  ['attribute name not a token', withHead('a=fo"o'), 6, /malformed attribute name/],
  ['empty attribute value', withHead('a=foo:'), 6, /empty value of a=foo/],
  ['bad base64 key', audio('a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:!!!!QCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR'), 7, /malformed a=crypto key-params|not valid base64/],
  ['base64 with bad padding', audio(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}=`), 7, /not valid base64/],
  ['key one byte short', audio(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY.slice(0, 39)}=`), 7, /key of 29 bytes/],
  ['wrong key length for suite', audio('a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:' + Buffer.alloc(28, 1).toString('base64')), 7, /key of 28 bytes; AES_CM_128_HMAC_SHA1_80 needs 16\+14/],
  ['wrong key length for GCM', audio(`a=crypto:1 AEAD_AES_256_GCM inline:${KEY}`), 7, /key of 30 bytes; AEAD_AES_256_GCM needs 32\+12/],
  ['duplicate crypto tag', audio(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`, `a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:${KEY}`), 8, /duplicate a=crypto tag 1/],
  ['crypto tag with leading zero', audio(`a=crypto:01 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`), 7, /malformed a=crypto tag/],
  ['crypto without key-params', audio('a=crypto:1 AES_CM_128_HMAC_SHA1_80'), 7, /needs a tag, a crypto-suite and key-params/],
  ['crypto at session level', withHead(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`), 6, /media-level attribute \(RFC 4568 §4\)/],
  ['crypto lifetime above 2^48', audio(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}|2^49`), 7, /lifetime exceeds/],
  ['crypto MKI length above 128', audio(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}|1:129`), 7, /MKI length exceeds 128/],
  ['crypto keys without MKI', audio(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY};inline:${KEY}`), 7, /several keys without MKIs/],
  ['crypto non-inline method', audio(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 url:${KEY}`), 7, /not "inline"/],
  ['bad setup value', withHead('m=application 9 TCP/TLS x', 'a=setup:sideways'), 7, /malformed a=setup/],
  ['duplicate setup', withHead('m=application 9 TCP/TLS x', 'a=setup:active', 'a=setup:passive'), 8, /duplicate a=setup/],
  ['bad connection value', withHead('m=application 9 TCP/TLS x', 'a=connection:old'), 7, /malformed a=connection/],
  ['bad fingerprint hex', withHead('a=fingerprint:sha-256 GG:' + 'AB:'.repeat(30) + 'AB'), 6, /malformed a=fingerprint/],
  ['fingerprint wrong length', withHead('a=fingerprint:sha-256 AB:CD:EF'), 6, /a=fingerprint of 3 bytes; sha-256 digests are 32/],
  ['fingerprint without hash', withHead('a=fingerprint:AB:CD'), 6, /malformed a=fingerprint/],
  ['rtpmap payload type > 127', withHead('m=audio 1 RTP/AVP 0', 'a=rtpmap:200 PCMU/8000'), 7, /payload type out of range/],
  ['rtpmap without clock rate', withHead('m=audio 1 RTP/AVP 96', 'a=rtpmap:96 opus'), 7, /malformed a=rtpmap/],
  ['duplicate rtpmap', withHead('m=audio 1 RTP/AVP 96', 'a=rtpmap:96 opus/48000/2', 'a=rtpmap:96 PCMU/8000'), 8, /duplicate a=rtpmap for payload type 96/],
  ['fmtp without parameters', withHead('m=audio 1 RTP/AVP 96', 'a=fmtp:96'), 7, /malformed a=fmtp/],
  ['ptime zero', withHead('m=audio 1 RTP/AVP 0', 'a=ptime:0'), 7, /malformed a=ptime/],
  ['ptime non-numeric', withHead('m=audio 1 RTP/AVP 0', 'a=ptime:twenty'), 7, /malformed a=ptime/],
  ['direction with a value', withHead('m=audio 1 RTP/AVP 0', 'a=sendrecv:yes'), 7, /a=sendrecv takes no value/],
  ['conflicting directions', withHead('m=audio 1 RTP/AVP 0', 'a=sendonly', 'a=recvonly'), 8, /conflicting direction attributes/],
  ['rtcp-mux with a value', withHead('m=audio 1 RTP/AVP 0', 'a=rtcp-mux:1'), 7, /a=rtcp-mux takes no value/],
];

describe('malformed SDP → SipParseError naming line and fault', () => {
  it(`has at least 30 cases (${CASES.length})`, () => assert.ok(CASES.length >= 30));
  for (const [name, input, line, fault] of CASES) {
    it(name, () => {
      assert.throws(() => parseSdp(input), (e: unknown) => {
        assert.ok(e instanceof SipParseError, `${name}: ${String(e)}`);
        assert.equal(e.code, 'SIPHER_ERR_PARSE');
        assert.equal(e.sipStatus, 400);
        assert.match(e.message, new RegExp(`^SDP line ${line}: `), `${name}: ${e.message}`);
        assert.match(e.message, fault, `${name}: ${e.message}`);
        assert.ok(!e.message.includes(KEY.slice(0, 12)), `${name}: message leaks key material`);
        return true;
      });
    });
  }
  it('also refuses bytes over the limit before decoding them', () => {
    assert.throws(() => parseSdp(Buffer.alloc(70_000, 0x61)), (e: unknown) => e instanceof SipParseError && /^SDP line 1: .*larger than 65536/.test(e.message));
  });
});
