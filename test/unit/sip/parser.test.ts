import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseDatagram, serialize, StreamFramer, SipRequest, SipResponse, createResponse, validateMessage,
  parseUri, formatUri, aorOf, uriKey, parseNameAddr, formatNameAddr, parseVia,
} from '../../../src/sip/index.js';
import { SipParseError, MessageTooLargeError } from '../../../src/errors.js';

const INVITE = [
  'INVITE sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds, SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bKx;received=10.0.0.1',
  'v: SIP/2.0/UDP h3;branch=z9hG4bK3',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@example.com>',
  'f: "Alice \\"A\\" Liddell" <sip:alice@example.com;transport=tcp>;tag=1928301774',
  'i: a84b4c76e66710@pc33.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.example.com>, "x,y" <sip:x@y>;q=0.5',
  'X-Unknown-Thing:   weird   value  ',
  'X-Folded: first',
  ' second line',
  'Content-Type: application/sdp',
  'l: 4',
  '',
  'v=0\r\nEXTRA',
].join('\r\n');

describe('datagram parser', () => {
  it('parses start line, compact forms and multi-value headers', () => {
    const m = parseDatagram(Buffer.from(INVITE, 'latin1')) as SipRequest;
    assert.ok(m instanceof SipRequest);
    assert.equal(m.method, 'INVITE');
    assert.equal(m.uri, 'sip:bob@example.com');
    assert.equal(m.callId(), 'a84b4c76e66710@pc33.example.com');
    assert.deepEqual(m.cseq(), { seq: 314159, method: 'INVITE' });
    const vias = m.vias();
    assert.equal(vias.length, 3);
    assert.equal(vias[1]!.host, '[2001:db8::1]');
    assert.equal(vias[1]!.port, 5061);
    assert.equal(vias[1]!.transport, 'TCP');
    assert.equal(vias[0]!.params.get('branch'), 'z9hG4bK776asdhds');
    assert.equal(m.from().displayName, 'Alice "A" Liddell');
    assert.equal(m.fromTag(), '1928301774');
    const contacts = m.contacts();
    assert.ok(contacts !== '*');
    assert.equal(contacts.length, 2);
    assert.equal(contacts[1]!.displayName, 'x,y');
    assert.equal(contacts[1]!.params.get('q'), '0.5');
    assert.equal(m.get('x-folded'), 'first second line');
    // RFC 3261 §18.3: bytes beyond Content-Length in a datagram are discarded.
    assert.equal(m.body.toString(), 'v=0\r');
    validateMessage(m);
  });

  it('preserves unknown headers byte for byte through serialize', () => {
    const m = parseDatagram(Buffer.from(INVITE, 'latin1'));
    const out = serialize(m).toString('latin1');
    assert.ok(out.includes('X-Unknown-Thing:   weird   value  \r\n'));
    assert.ok(out.includes('X-Folded: first\r\n second line\r\n'));
    assert.ok(out.includes('l: 4\r\n'));
  });

  it('rejects a Content-Length larger than the datagram', () => {
    const bad = INVITE.replace('l: 4', 'l: 400');
    assert.throws(() => parseDatagram(Buffer.from(bad)), SipParseError);
  });

  it('rejects oversize messages with 513', () => {
    const big = Buffer.alloc(70_000, 0x41);
    assert.throws(() => parseDatagram(big), (e: unknown) => e instanceof MessageTooLargeError && e.sipStatus === 513);
  });

  it('parses responses with empty reason', () => {
    const r = parseDatagram(Buffer.from('SIP/2.0 200\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n\r\n')) as SipResponse;
    assert.equal(r.status, 200);
    assert.equal(r.reason, '');
  });

  it('names the fault of malformed start lines', () => {
    for (const s of ['INVITE  sip:a@b SIP/2.0', ' INVITE sip:a@b SIP/2.0', 'INVITE <sip:a@b> SIP/2.0', 'SIP/2.0 99 X']) {
      assert.throws(() => parseDatagram(Buffer.from(s + '\r\nVia: SIP/2.0/UDP h\r\n\r\n')), SipParseError, s);
    }
  });

  it('checks CSeq method against request method', () => {
    const bad = INVITE.replace('CSeq: 314159 INVITE', 'CSeq: 314159 OPTIONS');
    assert.throws(() => validateMessage(parseDatagram(Buffer.from(bad))), /CSeq method/);
  });
});

describe('stream framer', () => {
  it('frames messages split across chunks and reports keep-alives', () => {
    const f = new StreamFramer();
    const msg = serialize(parseDatagram(Buffer.from(INVITE, 'latin1')));
    const all = Buffer.concat([Buffer.from('\r\n\r\n'), msg, msg]);
    const events = [];
    for (let i = 0; i < all.length; i += 7) events.push(...f.push(all.subarray(i, i + 7)));
    assert.deepEqual(events.map((e) => e.kind), ['ping', 'message', 'message']);
    assert.equal(f.buffered, 0);
  });

  it('fails on an endless head', () => {
    const f = new StreamFramer();
    assert.throws(() => f.push(Buffer.alloc(40_000, 0x41)), MessageTooLargeError);
  });
});

describe('URI and name-addr', () => {
  it('parses and formats SIP URIs', () => {
    const u = parseUri('sips:alice:pw@[2001:db8::10]:5061;transport=tcp;lr?subject=x');
    assert.equal(u.kind, 'sip');
    if (u.kind !== 'sip') return;
    assert.equal(u.host, '[2001:db8::10]');
    assert.equal(u.port, 5061);
    assert.equal(u.params.get('lr'), null);
    assert.equal(formatUri(u), 'sips:alice:pw@[2001:db8::10]:5061;transport=tcp;lr?subject=x');
    assert.equal(aorOf(parseUri('sip:%61lice@EXAMPLE.com:5060;transport=udp')), 'sip:alice@example.com');
    assert.equal(uriKey(parseUri('sip:alice@EXAMPLE.com')), uriKey(parseUri('sip:%61lice@example.com')));
    assert.equal(parseUri('tel:+1-201-555-0123').kind, 'opaque');
    assert.throws(() => parseUri('sip:a@b:99999'), SipParseError);
    assert.throws(() => parseUri('sip:a b@c'), SipParseError);
  });

  it('treats addr-spec parameters as header parameters', () => {
    const na = parseNameAddr('sip:bob@example.com;tag=abc', 'To');
    assert.equal(na.params.get('tag'), 'abc');
    assert.equal(formatNameAddr(na), '<sip:bob@example.com>;tag=abc');
    const c = parseNameAddr('<sip:a@b;ob>;+sip.instance="<urn:uuid:1>";reg-id=1', 'Contact');
    assert.equal(c.params.get('+sip.instance'), '<urn:uuid:1>');
    assert.throws(() => parseNameAddr('"unterminated <sip:a@b>', 'From'), SipParseError);
  });

  it('parses Via with spaces around slashes', () => {
    const v = parseVia('SIP / 2.0 / UDP  host.example.com : 5060 ;branch=z9hG4bK1;rport');
    assert.equal(v.transport, 'UDP');
    assert.equal(v.port, 5060);
    assert.equal(v.params.get('rport'), null);
  });
});

describe('response builder', () => {
  it('copies Via/From/To/Call-ID/CSeq and adds a To tag (RFC 3261 §8.2.6.2)', () => {
    const req = parseDatagram(Buffer.from(INVITE, 'latin1')) as SipRequest;
    const r = createResponse(req, 486, undefined, 'tt1');
    assert.equal(r.reason, 'Busy Here');
    assert.equal(r.vias().length, 3);
    assert.equal(r.toTag(), 'tt1');
    assert.equal(r.callId(), req.callId());
    const trying = createResponse(req, 100, undefined, 'tt1');
    assert.equal(trying.toTag(), undefined);
  });
});
