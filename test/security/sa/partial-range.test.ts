/**
 * Partial ranges (src/security/sa/message-protection.ts sealMessage/openPartial): the message
 * stays SIP, with the headers a SIP-aware NAT needs in clear, the rest and the body sealed;
 * the start line, Call-ID and CSeq are bound, Via/Contact/Route are not.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SA_HEADER, SEALED_CONTENT_TYPE, parseSaHeader } from '../../../src/security/sa/index.js';
import { parseDatagram, serialize, type SipMessage } from '../../../src/sip/index.js';
import { deliver, faults, headerSet, invite, ok, PEER, plus, saPair, SDP, SA_ID, type Pair } from './fixtures.js';

const CLEAR_KEYS = ['via', 'route', 'record-route', 'max-forwards', 'call-id', 'cseq', 'contact'];

/** The clear head of a wire message, as lines (start line first). */
function wireHead(wire: Buffer): string[] {
  const text = wire.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  assert.ok(end > 0, 'SIP text with a head');
  return text.slice(0, end).split('\r\n');
}

/** Edits the wire text of a partial-range message (a proxy or an attacker in transit). */
function edit(wire: Buffer, from: string | RegExp, to: string): Buffer {
  const text = wire.toString('latin1');
  const out = text.replace(from, to);
  assert.notEqual(out, text, `edit ${String(from)} applied`);
  return Buffer.from(out, 'latin1');
}

function assertRestored(got: SipMessage, original: SipMessage): void {
  assert.deepEqual(headerSet(got), headerSet(original));
  assert.deepEqual(got.getAll('via'), original.getAll('via'), 'Via order kept');
  assert.deepEqual(got.body, original.body);
  assert.equal(got.get(SA_HEADER), undefined, 'Sipher-SA removed');
  assert.equal(got.getAll('content-type').length, original.getAll('content-type').length);
}

function sent(p: Pair, m: SipMessage): Buffer {
  const w = p.a.ep.protect(m, PEER);
  assert.notEqual(w[0], 0xd3, 'partial ranges stay SIP text');
  return w;
}

describe('partial range: what travels in clear', () => {
  it('only the clear headers, Sipher-SA and the sealed Content-Type are visible', () => {
    const p = saPair({ range: 'partial' });
    const m = invite();
    const wire = sent(p, m);
    const head = wireHead(wire);
    assert.equal(head[0], 'INVITE sip:bob@sa.example SIP/2.0');
    const keys = head.slice(1).map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
    assert.deepEqual(keys, ['via', 'via', 'route', 'record-route', 'max-forwards', 'call-id', 'cseq', 'contact', 'sipher-sa', 'content-type', 'content-length']);
    for (const k of CLEAR_KEYS) {
      for (const v of m.getAll(k)) assert.ok(head.some((l) => l.endsWith(v)), `${k} ${v} in clear`);
    }
    assert.ok(head.includes(`Content-Type: ${SEALED_CONTENT_TYPE}`));
    assert.deepEqual(parseSaHeader(head.find((l) => l.startsWith('Sipher-SA:'))!.slice(10)), { saId: SA_ID.toString('hex'), generation: 0, seq: 0 });
    const text = wire.toString('latin1');
    for (const secret of ['Alice Secret', 'Bob Hidden', '1928301774', 'Authorization', 'Digest', 'confidential-subject-line', 'sa-test/1', 'application/sdp', 'v=0', 'PCMU', 'From:', 'To:']) {
      assert.equal(text.indexOf(secret), -1, `${secret} not in clear`);
    }
    const parsed = parseDatagram(wire);
    assert.equal(parsed.get('content-length'), String(parsed.body.length));
    assert.equal(parsed.body.length, wire.length - wire.indexOf('\r\n\r\n') - 4);
  });

  it('the receiver restores every header and the body', () => {
    const p = saPair({ range: 'partial' });
    const m = invite();
    const got = deliver(p.b.ep, sent(p, m));
    assert.ok(got);
    assertRestored(got.message, m);
    assert.equal(got.message.get('content-type'), 'application/sdp');
    assert.equal(got.message.body.toString('latin1'), SDP);
    assert.deepEqual(got.protection, { saId: SA_ID.toString('hex'), generation: 0, identity: undefined, range: 'partial' });
    assert.equal(p.b.ep.counters.opened, 1);
  });

  it('partial:From seals only From, Content-Type and the body', () => {
    const p = saPair({ range: 'partial:From' });
    const m = invite();
    const wire = sent(p, m);
    const text = wire.toString('latin1');
    for (const visible of ['To: "Bob Hidden"', 'Authorization: Digest', 'Subject: confidential-subject-line', 'User-Agent: sa-test/1', 'Call-ID:', 'Via:']) {
      assert.ok(text.includes(visible), `${visible} in clear`);
    }
    for (const hidden of ['From:', 'Alice Secret', '1928301774', 'application/sdp', 'v=0', 'PCMU']) {
      assert.equal(text.indexOf(hidden), -1, `${hidden} sealed`);
    }
    const got = deliver(p.b.ep, wire);
    assert.ok(got);
    assertRestored(got.message, m);
    assert.equal(got.protection?.range, 'partial:from');
  });

  it('a body-less message works (the sealed part is the sealed headers only)', () => {
    const p = saPair({ range: 'partial' });
    const m = invite({ body: '' });
    assert.equal(m.body.length, 0);
    const got = deliver(p.b.ep, sent(p, m));
    assert.ok(got);
    assertRestored(got.message, m);
    assert.equal(got.message.body.length, 0);
    assert.equal(got.message.get('content-length'), '0');
  });

  it('a message with nothing to seal (partial:X-Not-There, no Content-Type, no body) works', () => {
    const p = saPair({ range: 'partial:X-Not-There' });
    const m = invite({ body: '' });
    const got = deliver(p.b.ep, sent(p, m));
    assert.ok(got);
    assertRestored(got.message, m);
  });

  it('a response works, in the other direction', () => {
    const p = saPair({ range: 'partial' });
    const r = ok();
    const wire = p.b.ep.protect(r, PEER);
    assert.equal(wireHead(wire)[0], 'SIP/2.0 200 OK');
    assert.equal(wire.indexOf('Bob Hidden'), -1);
    const got = deliver(p.a.ep, wire);
    assert.ok(got);
    assertRestored(got.message, r);
    assert.equal(got.message.isRequest, false);
  });

  it('round-trips under both handshake ciphers', () => {
    for (const cipher of [1, 2] as const) {
      const p = saPair({ range: 'partial', cipher });
      const m = invite();
      const got = deliver(p.b.ep, sent(p, m));
      assert.ok(got, `cipher ${cipher}`);
      assert.deepEqual(serialize(got.message).length, serialize(m).length);
    }
  });
});

describe('partial range: what may and may not change in transit', () => {
  it('a NAT rewriting Via, Contact, Max-Forwards and adding a Record-Route still opens', () => {
    const p = saPair({ range: 'partial' });
    const m = invite();
    let wire = sent(p, m);
    wire = edit(wire, 'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKsa1;rport', 'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKsa1;rport=40123;received=198.51.100.7');
    wire = edit(wire, 'Contact: <sip:alice@192.0.2.10:5060>', 'Contact: <sip:alice@198.51.100.7:40123>');
    wire = edit(wire, 'Max-Forwards: 70', 'Max-Forwards: 69');
    wire = edit(wire, 'Record-Route:', 'Record-Route: <sip:nat.sa.example;lr>\r\nRecord-Route:');
    const got = deliver(p.b.ep, wire);
    assert.ok(got);
    assert.equal(got.message.get('contact'), '<sip:alice@198.51.100.7:40123>');
    assert.match(got.message.get('via')!, /received=198\.51\.100\.7/);
    assert.equal(got.message.get('from'), m.get('from'));
    assert.deepEqual(got.message.body, m.body);
  });

  const bound: [string, string | RegExp, string][] = [
    ['the Request-URI', 'INVITE sip:bob@sa.example SIP/2.0', 'INVITE sip:mallory@sa.example SIP/2.0'],
    ['the method', /^INVITE sip:/, 'OPTIONS sip:'],
    ['the Call-ID', 'Call-ID: a84b4c76e66710@pc33.sa.example', 'Call-ID: a84b4c76e66711@pc33.sa.example'],
    ['the CSeq number', 'CSeq: 314159 INVITE', 'CSeq: 314160 INVITE'],
    ['the CSeq method', 'CSeq: 314159 INVITE', 'CSeq: 314159 BYE'],
    ['the Sipher-SA seq', /;seq=0/, ';seq=7'],
  ];
  for (const [what, from, to] of bound) {
    it(`changing ${what} → decrypt`, () => {
      const p = saPair({ range: 'partial' });
      const wire = edit(sent(p, invite()), from, to);
      const before = faults(p.b.ep);
      assert.equal(deliver(p.b.ep, wire), undefined);
      assert.deepEqual(faults(p.b.ep), plus(before, 'decrypt'));
    });
  }

  it('a changed sealed body byte → decrypt; the genuine message still opens afterwards', () => {
    const p = saPair({ range: 'partial' });
    const wire = sent(p, invite());
    const bad = Buffer.from(wire);
    bad[bad.length - 20]! ^= 1;
    const before = faults(p.b.ep);
    assert.equal(deliver(p.b.ep, bad), undefined);
    assert.deepEqual(faults(p.b.ep), plus(before, 'decrypt'));
    assert.ok(deliver(p.b.ep, wire));
  });

  it('a replayed partial message → replay', () => {
    const p = saPair({ range: 'partial' });
    const wire = sent(p, invite());
    assert.ok(deliver(p.b.ep, wire));
    const before = faults(p.b.ep);
    assert.equal(deliver(p.b.ep, wire), undefined);
    assert.deepEqual(faults(p.b.ep), plus(before, 'replay'));
  });

  const misc: [string, string | RegExp, string, string][] = [
    ['a malformed Sipher-SA', /;gen=0;/, ';gen=x;', 'malformed'],
    ['a foreign SA id', /id=[0-9a-f]{16}/, 'id=ffffffffffffffff', 'unknown-sa'],
    ['a future generation', /;gen=0;/, ';gen=9;', 'unknown-generation'],
    ['another outer Content-Type', `Content-Type: ${SEALED_CONTENT_TYPE}`, 'Content-Type: application/sdp', 'malformed'],
    ['a body shorter than a tag', /\r\n\r\n[\s\S]*$/, '\r\n\r\n0123456789', 'malformed'],
  ];
  for (const [what, from, to, fault] of misc) {
    it(`${what} → ${fault}`, () => {
      const p = saPair({ range: 'partial' });
      let wire = edit(sent(p, invite()), from, to);
      if (what.startsWith('a body')) wire = edit(wire, /Content-Length: \d+/, 'Content-Length: 10');
      const before = faults(p.b.ep);
      assert.equal(deliver(p.b.ep, wire), undefined);
      assert.deepEqual(faults(p.b.ep), plus(before, fault));
    });
  }

  // BUG (reported, not fixed here: src/security/sa/message-protection.ts openPartial): headers
  // injected into the clear part are copied into the restored, "protected" message. Under
  // `partial` no header outside the clear set may legitimately appear in clear, so an
  // injected From (which comes first and wins message.get('from')) must be refused.
  it('a From injected in clear by a man in the middle is refused', () => {
    for (const range of ['partial', 'partial:From']) {
      const p = saPair({ range });
      const wire = edit(sent(p, invite()), 'Call-ID:', 'From: <sip:mallory@evil.example>;tag=evil\r\nCall-ID:');
      const before = faults(p.b.ep);
      const got = deliver(p.b.ep, wire);
      assert.equal(got?.message.get('from'), undefined, `${range}: restored From is ${got?.message.get('from')}`);
      assert.equal(Object.values(faults(p.b.ep)).reduce((x, y) => x + y, 0), Object.values(before).reduce((x, y) => x + y, 0) + 1);
    }
  });
});

describe('clear messages from a protected peer', () => {
  it('are dropped as clear-from-protected while the SA is established and on', () => {
    const p = saPair({ range: 'partial' });
    const before = faults(p.b.ep);
    assert.equal(deliver(p.b.ep, serialize(invite())), undefined);
    assert.deepEqual(faults(p.b.ep), plus(before, 'clear-from-protected'));
  });

  it('pass from another address, for a handshake, when the SA is not established or presence is off', () => {
    const p = saPair({ range: 'partial' });
    const elsewhere = { protocol: 'udp', address: '192.0.2.200', port: 5060 };
    assert.ok(deliver(p.b.ep, serialize(invite()), elsewhere));
    const hs = invite({ body: 'x' });
    hs.set('Content-Type', 'application/sipher-handshake');
    assert.ok(deliver(p.b.ep, serialize(hs)), 'handshake REGISTERs are clear by design');
    p.b.sa.presence = 'off';
    assert.ok(deliver(p.b.ep, serialize(invite())));
    p.b.sa.presence = 'on';
    p.b.sa.established = false;
    assert.ok(deliver(p.b.ep, serialize(invite())));
    assert.equal(faults(p.b.ep)['clear-from-protected'], 0);
  });
});
