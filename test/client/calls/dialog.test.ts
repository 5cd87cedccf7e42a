/**
 * Dialog state (RFC 3261 §12): ids, route sets (reversed for the UAC), remote target, CSeq
 * rules, and requests inside the dialog with loose and strict routing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Dialog, dialogKey, type RequestFactory } from '../../../src/client/calls/dialog.js';
import { buildRequest } from '../../../src/client/request-builder.js';
import { SipParseError } from '../../../src/errors.js';
import { parseDatagram, type SipRequest, type SipResponse } from '../../../src/sip/index.js';

let n = 0;
const build: RequestFactory = (spec) =>
  buildRequest({ ...spec, from: 'sip:alice@example.test', via: { transport: 'udp', host: '127.0.0.1', port: 5070, branch: `z9hG4bKd${++n}` } });

function parse(lines: string[]): SipRequest | SipResponse {
  return parseDatagram(Buffer.from([...lines, 'Content-Length: 0', '', ''].join('\r\n'), 'latin1')) as SipRequest | SipResponse;
}

const INVITE = [
  'INVITE sip:bob@example.test SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKinv1;rport',
  'Max-Forwards: 70',
  'From: "Alice" <sip:alice@example.test>;tag=atag',
  'To: <sip:bob@example.test>',
  'Call-ID: call-1@example',
  'CSeq: 2 INVITE',
  'Contact: <sip:alice@127.0.0.1:5070;transport=udp>',
];

function ok(recordRoutes: string[], contact = '<sip:bob@10.0.0.2:5080;transport=udp>;+sip.instance="<urn:uuid:x>"'): SipResponse {
  return parse([
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKinv1;rport',
    ...recordRoutes.map((r) => `Record-Route: ${r}`),
    'From: "Alice" <sip:alice@example.test>;tag=atag',
    'To: <sip:bob@example.test>;tag=btag',
    'Call-ID: call-1@example',
    'CSeq: 2 INVITE',
    ...(contact ? [`Contact: ${contact}`] : []),
  ]) as SipResponse;
}

describe('Dialog (RFC 3261 §12)', () => {
  it('UAC: id, route set reversed, remote target from Contact, local CSeq from the INVITE', () => {
    const inv = parse(INVITE) as SipRequest;
    const d = Dialog.fromResponse(inv, ok(['<sip:p2.example.test;lr>', '<sip:p1.example.test:5062;lr>']));
    assert.equal(d.role, 'uac');
    assert.equal(d.id, dialogKey('call-1@example', 'atag', 'btag'));
    assert.equal(d.localUri, 'sip:alice@example.test');
    assert.equal(d.remoteUri, 'sip:bob@example.test');
    assert.equal(d.remoteTarget, 'sip:bob@10.0.0.2:5080;transport=udp');
    assert.deepEqual(d.routeSet, ['<sip:p1.example.test:5062;lr>', '<sip:p2.example.test;lr>']);
    assert.equal(d.localCseq, 2);
    assert.equal(d.remoteCseq, undefined);

    const bye = d.createRequest('BYE', build);
    assert.equal(bye.uri, 'sip:bob@10.0.0.2:5080;transport=udp');
    assert.deepEqual(bye.getAll('route'), ['<sip:p1.example.test:5062;lr>', '<sip:p2.example.test;lr>']);
    assert.equal(bye.get('from'), '<sip:alice@example.test>;tag=atag');
    assert.equal(bye.get('to'), '<sip:bob@example.test>;tag=btag');
    assert.equal(bye.get('call-id'), 'call-1@example');
    assert.equal(bye.get('cseq'), '3 BYE');
    assert.equal(bye.get('max-forwards'), '70');
    // The ACK for the 2xx keeps the INVITE's CSeq number and does not advance it (§13.2.2.4).
    const ack = d.createRequest('ACK', build, { cseq: 2 });
    assert.equal(ack.get('cseq'), '2 ACK');
    assert.equal(d.createRequest('INFO', build).get('cseq'), '4 INFO');
  });

  it('UAS: route set in order, remote CSeq checked, local CSeq starts from the chosen value', () => {
    const inv = parse([...INVITE.slice(0, 2), 'Record-Route: <sip:p1.example.test;lr>', 'Record-Route: <sip:p2.example.test;lr>', ...INVITE.slice(2)]) as SipRequest;
    const d = Dialog.fromRequest(inv, 'btag', 100);
    assert.equal(d.role, 'uas');
    assert.equal(d.id, dialogKey('call-1@example', 'btag', 'atag'));
    assert.equal(d.localUri, 'sip:bob@example.test');
    assert.equal(d.remoteUri, 'sip:alice@example.test');
    assert.equal(d.remoteTarget, 'sip:alice@127.0.0.1:5070;transport=udp');
    assert.deepEqual(d.routeSet, ['<sip:p1.example.test;lr>', '<sip:p2.example.test;lr>']);
    assert.equal(d.remoteCseq, 2);
    assert.equal(d.localCseq, undefined);
    const bye = d.createRequest('BYE', build);
    assert.equal(bye.get('cseq'), '100 BYE');
    assert.equal(bye.get('from'), '<sip:bob@example.test>;tag=btag');
    assert.equal(bye.get('to'), '<sip:alice@example.test>;tag=atag');
    // RFC 3261 §12.2.2: lower than the remote sequence number → out of order.
    assert.equal(d.acceptRemoteCseq(1), false);
    assert.equal(d.acceptRemoteCseq(3), true);
    assert.equal(d.remoteCseq, 3);
    assert.throws(() => Dialog.fromRequest(inv, 't', 0), RangeError);
  });

  it('no route set: the request goes to the remote target without Route', () => {
    const d = Dialog.fromResponse(parse(INVITE) as SipRequest, ok([]));
    const bye = d.createRequest('BYE', build);
    assert.equal(bye.uri, d.remoteTarget);
    assert.equal(bye.get('route'), undefined);
  });

  it('strict router first: its URI becomes the Request-URI, the remote target the last Route (§12.2.1.1)', () => {
    const d = Dialog.fromResponse(parse(INVITE) as SipRequest, ok(['<sip:p2.example.test;lr>', '<sip:p1.example.test;method=INVITE;transport=udp>']));
    const { uri, routes } = d.target();
    assert.equal(uri, 'sip:p1.example.test;transport=udp');
    assert.deepEqual(routes, ['<sip:p2.example.test;lr>', '<sip:bob@10.0.0.2:5080;transport=udp>']);
  });

  it('a 2xx without Contact or To tag does not make a dialog', () => {
    const inv = parse(INVITE) as SipRequest;
    assert.throws(() => Dialog.fromResponse(inv, ok([], '')), SipParseError);
    const noTag = ok([]);
    noTag.set('To', '<sip:bob@example.test>');
    assert.throws(() => Dialog.fromResponse(inv, noTag), /no To tag/);
  });
});
