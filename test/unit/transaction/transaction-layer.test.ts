import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createResponse, type SipRequest, type SipResponse } from '../../../src/sip/index.js';
import { TransactionLayer } from '../../../src/transaction/transaction-layer.js';
import { ManualClock } from '../../../src/util/clock.js';
import { createSeededRandom } from '../../../src/util/random.js';
import { RecordingTransport } from '../../support/recording-transport.js';
import { harness, inbound, recordingUser, request, responseTo, target } from './helpers.js';

describe('transaction layer', () => {
  it('newBranch() starts with the magic cookie z9hG4bK followed by at least 16 random token characters from the injected Random (RFC 3261 §8.1.1.7)', () => {
    const a = harness();
    const b = harness();
    const x = a.layer.newBranch();
    assert.match(x, /^z9hG4bK[0-9a-z]{16,}$/);
    assert.notEqual(a.layer.newBranch(), x);
    assert.equal(b.layer.newBranch(), x, 'same seed, same branch: the randomness is the injected one');
  });

  it('server transactions match on branch, sent-by and method; the ACK matches the INVITE (RFC 3261 §17.2.3)', () => {
    const h = harness({ autoTrying: false });
    h.layer.receive(inbound(request('INVITE', { branch: 'z9hG4bK1' })));
    h.layer.receive(inbound(request('INVITE', { branch: 'z9hG4bK1' })));
    assert.equal(h.delivered.length, 1, 'retransmission absorbed');
    h.layer.receive(inbound(request('INVITE', { branch: 'z9hG4bK1', sentBy: '192.0.2.99:5060' })));
    assert.equal(h.delivered.length, 2, 'different sent-by: a different transaction');
    h.layer.receive(inbound(request('OPTIONS', { branch: 'z9hG4bK1' })));
    assert.equal(h.delivered.length, 3, 'different method: a different transaction');
    assert.equal(h.layer.stats().serverTransactions, 3);
    const ist = h.delivered[0]!.tx!;
    ist.respond(createResponse(ist.request, 486, undefined, 'uas'));
    h.layer.receive(inbound(request('ACK', { branch: 'z9hG4bK1', toTag: 'uas' })));
    assert.equal(ist.state, 'confirmed');
    assert.equal(h.delivered.length, 3, 'the ACK for a non-2xx stays in the transaction');
  });

  it('requests without the magic cookie match on Request-URI, tags, Call-ID, CSeq and top Via; the ACK matches with the To tag of the response (RFC 3261 §17.2.3)', () => {
    const h = harness({ autoTrying: false });
    const old = { branch: '1a2b3c', via: 'UDP' };
    h.layer.receive(inbound(request('INVITE', old)));
    h.layer.receive(inbound(request('INVITE', old)));
    assert.equal(h.delivered.length, 1, 'RFC 2543 retransmission absorbed');
    h.layer.receive(inbound(request('INVITE', { ...old, cseq: 2 })));
    assert.equal(h.delivered.length, 2, 'new CSeq: new transaction');
    const ist = h.delivered[0]!.tx!;
    ist.respond(createResponse(ist.request, 404, undefined, 'gone'));
    h.layer.receive(inbound(request('ACK', { ...old, toTag: 'other' })));
    assert.equal(ist.state, 'completed', 'an ACK with another To tag does not match');
    assert.equal(h.delivered.at(-1)!.tx, undefined);
    h.layer.receive(inbound(request('ACK', { ...old, toTag: 'gone' })));
    assert.equal(ist.state, 'confirmed');
  });

  it('responses match client transactions on the top Via branch and the CSeq method (RFC 3261 §17.1.3)', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    const inv = request('INVITE', { branch: 'z9hG4bKc1' });
    h.layer.createClient(inv, target(), user);
    h.layer.receive(inbound(responseTo(request('CANCEL', { branch: 'z9hG4bKc1' }), 200)));
    h.layer.receive(inbound(responseTo(request('INVITE', { branch: 'z9hG4bKc2' }), 180)));
    assert.deepEqual(user.statuses(), []);
    assert.equal(h.stray.length, 2);
    h.layer.receive(inbound(responseTo(inv, 180)));
    assert.deepEqual(user.statuses(), [180]);
  });

  it('responses matching no client transaction go to onStrayResponse (a proxy forwards 2xx statelessly, RFC 3261 §16.7 / RFC 6026)', () => {
    const h = harness();
    const r = responseTo(request('INVITE', { branch: 'z9hG4bKnobody' }), 200);
    h.layer.receive(inbound(r));
    assert.deepEqual(h.stray, [r]);
  });

  it('an ACK matching no transaction is passed to the TU with tx undefined (RFC 3261 §17: the ACK for a 2xx is not part of the transaction)', () => {
    const h = harness();
    h.layer.receive(inbound(request('ACK', { branch: 'z9hG4bKlonely', toTag: 'x' })));
    assert.equal(h.delivered.length, 1);
    assert.equal(h.delivered[0]!.tx, undefined);
    assert.equal(h.layer.stats().serverTransactions, 0);
  });

  it('CANCEL gets its own non-INVITE server transaction, reaches the TU, and findInviteServerTransaction() returns the INVITE transaction (RFC 3261 §9.2)', () => {
    const cancelled: SipRequest[] = [];
    const h = harness({
      autoTrying: false,
      onRequest: ({ request: req, tx }) => {
        if (req.method === 'INVITE' && tx) tx.onCancel = (c) => cancelled.push(c);
        if (req.method === 'CANCEL' && tx) tx.respond(createResponse(req, 200, undefined, 'uas'));
      },
    });
    h.layer.receive(inbound(request('INVITE', { branch: 'z9hG4bKinv' })));
    const ist = h.delivered[0]!.tx!;
    const cancel = request('CANCEL', { branch: 'z9hG4bKinv' });
    h.layer.receive(inbound(cancel));
    assert.equal(h.delivered.length, 2);
    const nist = h.delivered[1]!.tx!;
    assert.notEqual(nist, ist);
    assert.equal(nist.request.method, 'CANCEL');
    assert.equal(h.layer.findInviteServerTransaction(cancel), ist);
    assert.deepEqual(cancelled, [cancel]);
    assert.deepEqual(h.transport.responses().map((s) => `${(s.message as SipResponse).status} ${(s.message as SipResponse).cseq().method}`), ['200 CANCEL']);
    // A CANCEL retransmission goes to its own transaction, not to the TU or onCancel again.
    h.layer.receive(inbound(request('CANCEL', { branch: 'z9hG4bKinv' })));
    assert.equal(h.delivered.length, 2);
    assert.equal(cancelled.length, 1);
    assert.equal(h.transport.responses(200).length, 2);
  });

  it('onCancel is not invoked once the INVITE has a final response: the CANCEL has no effect (RFC 3261 §9.2)', () => {
    let calls = 0;
    const h = harness({ onRequest: ({ request: req, tx }) => { if (req.method === 'INVITE' && tx) tx.onCancel = () => { calls++; }; } });
    h.layer.receive(inbound(request('INVITE', { branch: 'z9hG4bKinv2' })));
    const ist = h.delivered[0]!.tx!;
    ist.respond(createResponse(ist.request, 486, undefined, 'uas'));
    h.layer.receive(inbound(request('CANCEL', { branch: 'z9hG4bKinv2' })));
    assert.equal(calls, 0);
    assert.equal(h.layer.findInviteServerTransaction(request('CANCEL', { branch: 'z9hG4bKnone' })), undefined);
  });

  it('createClient refuses ACK (RFC 3261 §17.1.1.3), a branch without the magic cookie, and a duplicate key', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    assert.throws(() => h.layer.createClient(request('ACK', { branch: 'z9hG4bKa' }), target(), user), TypeError);
    assert.throws(() => h.layer.createClient(request('OPTIONS', { branch: 'abc' }), target(), user), TypeError);
    h.layer.createClient(request('OPTIONS', { branch: 'z9hG4bKdup' }), target(), user);
    assert.throws(() => h.layer.createClient(request('OPTIONS', { branch: 'z9hG4bKdup' }), target(), user), TypeError);
    assert.equal(h.transport.sent.length, 1);
  });

  it('server transactions answer to the RFC 3581 rport target', () => {
    const h = harness({ onRequest: ({ tx }) => tx?.respond(createResponse(tx.request, 200, undefined, 't')) });
    h.layer.receive(inbound(request('OPTIONS', { sentBy: '10.0.0.5:5060', viaParams: ';rport' }), { address: '203.0.113.50', port: 61000 }));
    assert.deepEqual(h.transport.sent[0]!.target, { protocol: 'udp', address: '203.0.113.50', port: 61000 });
  });

  it('the maps are empty and no timer is pending once every transaction has terminated (no leaks)', () => {
    const h = harness({ onRequest: ({ request: req, tx }) => {
      if (!tx) return;
      tx.respond(createResponse(req, req.method === 'INVITE' && req.cseq().seq === 1 ? 486 : 200, undefined, 'u'));
    } });
    for (let i = 0; i < 20; i++) {
      const user = recordingUser(h.clock, h.t0);
      const inv = request('INVITE', { branch: `z9hG4bKci${i}` });
      const opt = request('OPTIONS', { branch: `z9hG4bKco${i}` });
      h.layer.createClient(inv, target(i % 2 ? 'udp' : 'tcp'), user);
      h.layer.createClient(opt, target(i % 2 ? 'udp' : 'tcp'), user);
      if (i % 3 === 0) h.layer.receive(inbound(responseTo(inv, i % 2 ? 200 : 603)));
      if (i % 3 === 1) h.layer.receive(inbound(responseTo(opt, 200)));
      h.layer.receive(inbound(request('INVITE', { branch: `z9hG4bKsi${i}`, cseq: 1 + (i % 2) })));
      h.layer.receive(inbound(request('MESSAGE', { branch: `z9hG4bKsm${i}` }), { protocol: i % 2 ? 'udp' : 'tcp' }));
    }
    const live = h.layer.stats();
    assert.ok(live.clientTransactions > 0 && live.serverTransactions > 0);
    h.clock.advance(64 * 500 + 5000 + 1);
    const s = h.layer.stats();
    assert.equal(s.clientTransactions, 0);
    assert.equal(s.serverTransactions, 0);
    assert.equal(h.clock.pending, 0);
  });

  it('close() terminates every transaction, cancels every timer and ignores later input', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    const ctx = h.layer.createClient(request('INVITE', { branch: 'z9hG4bKx1' }), target(), user);
    h.layer.receive(inbound(request('INVITE', { branch: 'z9hG4bKx2' })));
    const stx = h.delivered[0]!.tx!;
    let serverTerminated = 0;
    stx.onTerminated = () => { serverTerminated++; };
    stx.respond(createResponse(stx.request, 500, undefined, 'u'));
    h.layer.close();
    assert.equal(ctx.state, 'terminated');
    assert.equal(stx.state, 'terminated');
    assert.equal(user.of('terminated').length, 1);
    assert.equal(serverTerminated, 1);
    assert.equal(h.clock.pending, 0);
    assert.deepEqual([h.layer.stats().clientTransactions, h.layer.stats().serverTransactions], [0, 0]);
    h.layer.receive(inbound(request('OPTIONS', { branch: 'z9hG4bKlate' })));
    assert.equal(h.delivered.length, 1);
    assert.throws(() => h.layer.createClient(request('OPTIONS', { branch: 'z9hG4bKlate' }), target(), user), TypeError);
  });

  it('an exception thrown by the TU does not break the layer', () => {
    const h = harness({ onRequest: () => { throw new Error('TU bug'); } });
    h.layer.receive(inbound(request('OPTIONS', { branch: 'z9hG4bKboom' })));
    const user = recordingUser(h.clock, h.t0);
    user.onResponse = () => { throw new Error('TU bug'); };
    const req = request('OPTIONS', { branch: 'z9hG4bKboom2' });
    const tx = h.layer.createClient(req, target('tcp'), user);
    h.layer.receive(inbound(responseTo(req, 200)));
    assert.equal(tx.state, 'terminated');
    assert.equal(h.layer.stats().clientTransactions, 0);
  });

  it('sendStateless hands the message to the transport without a transaction', async () => {
    const h = harness();
    const ack = request('ACK', { branch: 'z9hG4bK2xxack', toTag: 'u' });
    await h.layer.sendStateless(ack, target());
    assert.equal(h.transport.sent[0]!.message, ack);
    assert.equal(h.layer.stats().clientTransactions, 0);
  });

  it('validates its options once at construction (style G10)', () => {
    const base = { transport: new RecordingTransport(), clock: new ManualClock(), random: createSeededRandom(), onRequest: () => {} };
    assert.throws(() => new TransactionLayer({ ...base, timers: { t1: 0 } }), RangeError);
    assert.throws(() => new TransactionLayer({ ...base, timers: { t1: 500, t2: 100 } }), RangeError);
    assert.throws(() => new TransactionLayer({ ...base, tryingDelay: -1 }), RangeError);
    assert.throws(() => new TransactionLayer({ ...base, onRequest: undefined as never }), TypeError);
    const layer = new TransactionLayer({ ...base, timers: { t2: 8000 } });
    assert.deepEqual(layer.timers, { t1: 500, t2: 8000, t4: 5000, timerD: 32000, timerC: 180000 });
    assert.ok(Object.isFrozen(layer.timers));
  });
});
