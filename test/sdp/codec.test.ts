/**
 * The SDP codec (RFC 8866): the §5 example round-trips byte for byte, LF-only input is
 * accepted and written back with CRLF, unknown attributes survive in order, and the limits
 * (64 KiB, 1024 lines, 64 media sections) hold.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_SDP_LIMITS, effectiveConnection, effectiveDirection, formatSdp, parseSdp, rtpMapOf,
} from '../../src/sdp/index.js';
import { InvalidArgumentError, SipParseError } from '../../src/errors.js';

const crlf = (lines: string[]): string => lines.map((l) => l + '\r\n').join('');

// RFC 8866 §5, the example session description (offer #1 of Jane Doe).
const RFC8866_EXAMPLE = [
  'v=0',
  'o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1',
  's=Call to John Smith',
  'i=SDP Offer #1',
  'u=http://www.jdoe.example.com/home.html',
  'e=Jane Doe <jane@jdoe.example.com>',
  'p=+1 617 555-6011',
  'c=IN IP4 198.51.100.1',
  't=0 0',
  'm=audio 49170 RTP/AVP 0',
  'm=audio 49180 RTP/AVP 0',
  'm=video 51372 RTP/AVP 99',
  'c=IN IP6 2001:db8::2',
  'a=rtpmap:99 h263-1998/90000',
];

describe('SDP codec (RFC 8866)', () => {
  it('parses the RFC 8866 §5 example into its fields', () => {
    const sdp = parseSdp(crlf(RFC8866_EXAMPLE));
    assert.deepEqual(sdp.origin, {
      username: 'jdoe', sessionId: '3724394400', sessionVersion: '3724394405', netType: 'IN', addrType: 'IP4', address: '198.51.100.1',
    });
    assert.equal(sdp.sessionName, 'Call to John Smith');
    assert.equal(sdp.information, 'SDP Offer #1');
    assert.equal(sdp.uri, 'http://www.jdoe.example.com/home.html');
    assert.deepEqual(sdp.emails, ['Jane Doe <jane@jdoe.example.com>']);
    assert.deepEqual(sdp.phones, ['+1 617 555-6011']);
    assert.deepEqual(sdp.connection, { netType: 'IN', addrType: 'IP4', address: '198.51.100.1' });
    assert.deepEqual(sdp.times, [{ start: '0', stop: '0', repeats: [] }]);
    assert.equal(sdp.media.length, 3);
    assert.deepEqual(sdp.media.map((m) => [m.media, m.port, m.proto, m.formats]), [
      ['audio', 49170, 'RTP/AVP', ['0']], ['audio', 49180, 'RTP/AVP', ['0']], ['video', 51372, 'RTP/AVP', ['99']],
    ]);
    const video = sdp.media[2]!;
    assert.equal(effectiveConnection(sdp, video)!.address, '2001:db8::2');
    assert.equal(effectiveConnection(sdp, sdp.media[0]!)!.address, '198.51.100.1');
    assert.deepEqual(rtpMapOf(video, '99'), { payloadType: 99, encoding: 'h263-1998', clockRate: 90000 });
    assert.deepEqual(rtpMapOf(sdp.media[0]!, '0'), { payloadType: 0, encoding: 'PCMU', clockRate: 8000 });
    assert.equal(effectiveDirection(sdp, video), 'sendrecv');
  });

  it('round-trips the RFC 8866 §5 example byte for byte', () => {
    const text = crlf(RFC8866_EXAMPLE);
    assert.equal(formatSdp(parseSdp(text)), text);
    assert.equal(formatSdp(parseSdp(Buffer.from(text, 'utf8'))), text);
  });

  it('accepts LF-only input and a missing final line ending, writes CRLF', () => {
    const lf = RFC8866_EXAMPLE.join('\n');
    assert.equal(formatSdp(parseSdp(lf)), crlf(RFC8866_EXAMPLE));
    assert.equal(formatSdp(parseSdp(lf + '\n\n')), crlf(RFC8866_EXAMPLE));
  });

  it('keeps every line type, unknown attributes verbatim and in order', () => {
    const lines = [
      'v=0',
      'o=- 20518 0 IN IP4 203.0.113.1',
      's=Sipher test',
      'i=information',
      'u=https://example.com/x',
      'e=a@example.com',
      'e=b@example.com (B)',
      'p=+1 555 0100',
      'c=IN IP4 233.252.0.1/127/3',
      'b=CT:128',
      't=3034423619 3042462419',
      'r=604800 3600 0 90000',
      'r=7d 1h 0 25h',
      'z=2882844526 -1h 2898848070 0',
      't=0 0',
      'k=prompt',
      'a=recvonly',
      'a=x-Unknown:  odd   spacing  ',
      'a=group:BUNDLE a v',
      'a=ice-lite',
      'm=audio 49170/2 RTP/SAVP 0 8 101',
      'i=main audio',
      'c=IN IP6 2001:db8::1',
      'c=IN IP6 ff15::101/3',
      'b=AS:64',
      'b=TIAS:64000',
      'a=zzz',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-16',
      'a=ptime:20',
      'a=rtcp-mux',
      'a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4',
      'a=crypto:8 SOME_FUTURE_SUITE weird:thing;inline:abc -OPTIONAL',
      'a=aaa:1',
      'a=sendonly',
      'm=application 9 TCP/TLS sipher-data',
      'c=IN IP4 host.example.com',
      'a=setup:actpass',
      'a=connection:new',
      'a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3D:45:BF:4E:DE:0D:E1:15:44:E5:F9:1A',
    ];
    const text = crlf(lines);
    const sdp = parseSdp(text);
    assert.equal(formatSdp(sdp), text);
    assert.deepEqual(sdp.attributes.map((a) => a.name), ['recvonly', 'x-Unknown', 'group', 'ice-lite']);
    assert.equal(sdp.attributes[1]!.value, '  odd   spacing  ');
    assert.deepEqual(sdp.media[0]!.attributes.map((a) => a.name), ['zzz', 'rtpmap', 'fmtp', 'ptime', 'rtcp-mux', 'crypto', 'crypto', 'aaa', 'sendonly']);
    assert.equal(sdp.media[0]!.portCount, 2);
    assert.deepEqual(sdp.connection, { netType: 'IN', addrType: 'IP4', address: '233.252.0.1', ttl: 127, count: 3 });
    assert.deepEqual(sdp.media[0]!.connections[1], { netType: 'IN', addrType: 'IP6', address: 'ff15::101', count: 3 });
    assert.deepEqual(sdp.times[0]!.repeats, ['604800 3600 0 90000', '7d 1h 0 25h']);
    assert.equal(sdp.times[0]!.zone, '2882844526 -1h 2898848070 0');
    assert.equal(sdp.times.length, 2);
    assert.equal(effectiveDirection(sdp, sdp.media[0]!), 'sendonly');
    assert.equal(effectiveDirection(sdp, sdp.media[1]!), 'recvonly');
  });

  it('keeps UTF-8 text', () => {
    const text = crlf(['v=0', 'o=jörg 1 1 IN IP4 192.0.2.1', 's=Gespräch – ☎', 'c=IN IP4 192.0.2.1', 't=0 0']);
    assert.equal(parseSdp(Buffer.from(text, 'utf8')).sessionName, 'Gespräch – ☎');
    assert.equal(formatSdp(parseSdp(text)), text);
  });

  it('accepts exactly the limits: 64 KiB, 1024 lines, 64 media sections', () => {
    const head = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0'];
    const media = Array.from({ length: 64 }, (_, i) => `m=audio ${10000 + 2 * i} RTP/AVP 0`);
    assert.equal(parseSdp(crlf([...head, ...media])).media.length, 64);
    const filler = Array.from({ length: DEFAULT_SDP_LIMITS.maxLines - head.length }, (_, i) => `a=x${i}`);
    assert.equal(parseSdp(crlf([...head, ...filler])).attributes.length, filler.length);
    let big = crlf(head);
    const line = 'a=pad:' + 'x'.repeat(4000) + '\r\n';
    while (big.length + line.length <= DEFAULT_SDP_LIMITS.maxBytes) big += line;
    big += 'a=p:' + 'y'.repeat(DEFAULT_SDP_LIMITS.maxBytes - big.length - 6) + '\r\n';
    assert.equal(Buffer.byteLength(big), DEFAULT_SDP_LIMITS.maxBytes);
    parseSdp(big);
    assert.throws(() => parseSdp(big + 'a=q\r\n'), (e: unknown) => e instanceof SipParseError && /SDP line \d+: session description larger than 65536 bytes/.test(e.message));
  });

  it('refuses to serialize values that would inject lines', () => {
    const sdp = parseSdp(crlf(RFC8866_EXAMPLE));
    sdp.media[0]!.attributes.push({ name: 'x', value: 'a\r\na=crypto:1 evil' });
    assert.throws(() => formatSdp(sdp), InvalidArgumentError);
  });
});
