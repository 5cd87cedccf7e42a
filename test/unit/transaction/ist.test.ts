import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createResponse, type SipResponse } from '../../../src/sip/index.js';
import { IST_TABLE } from '../../../src/transaction/ist.js';
import type { ServerTransaction } from '../../../src/transaction/types.js';
import { RecordingTransport, settle } from '../../support/recording-transport.js';
import { harness, inbound, PEER, request, type Harness } from './helpers.js';

const times = RecordingTransport.times;
const invite = (o: Parameters<typeof request>[1] = {}) => request('INVITE', { branch: 'z9hG4bKist1', ...o });
const ackFor = (o: Parameters<typeof request>[1] = {}) => request('ACK', { branch: 'z9hG4bKist1', toTag: 'uas', ...o });

/** Receives an INVITE and returns its transaction. */
function receiveInvite(h: Harness, protocol: 'udp' | 'tcp' = 'udp', o: Parameters<typeof request>[1] = {}): ServerTransaction {
  h.layer.receive(inbound(invite({ via: protocol.toUpperCase(), ...o }), { protocol }, protocol === 'tcp' ? 'conn-1' : undefined));
  const tx = h.delivered.at(-1)!.tx;
  assert.ok(tx);
  return tx;
}

function reply(tx: ServerTransaction, status: number): SipResponse {
  const r = createResponse(tx.request, status, undefined, 'uas');
  tx.respond(r);
  return r;
}

describe('INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §7.1)', () => {
  it('sends 100 Trying after 200 ms when the TU has sent no provisional response (RFC 3261 §17.2.1)', () => {
    const h = harness();
    const tx = receiveInvite(h);
    assert.equal(tx.state, 'proceeding');
    h.clock.advance(199);
    assert.equal(h.transport.sent.length, 0);
    h.clock.advance(1);
    const trying = h.transport.responses(100);
    assert.deepEqual(times(trying, h.t0), [200]);
    const r = trying[0]!.message as SipResponse;
    assert.equal(r.toTag(), undefined, '100 Trying carries no To tag (RFC 3261 §8.2.6.2)');
    assert.equal(r.topVia().params.get('branch'), 'z9hG4bKist1');
    assert.deepEqual(trying[0]!.target, { protocol: 'udp', address: PEER, port: 5060 });
  });

  it('sends no 100 Trying when the TU sends a provisional response within 200 ms (RFC 3261 §17.2.1)', () => {
    const h = harness();
    const tx = receiveInvite(h);
    h.clock.advance(50);
    reply(tx, 180);
    h.clock.advance(10_000);
    assert.deepEqual(h.transport.sent.map((s) => (s.message as SipResponse).status), [180]);
  });

  it('the 100 Trying delay is configurable, and autoTrying: false disables it (RFC 3261 §17.2.1)', () => {
    const quick = harness({ tryingDelay: 0 });
    receiveInvite(quick);
    assert.deepEqual(times(quick.transport.responses(100), quick.t0), [0]);
    const slow = harness({ tryingDelay: 80 });
    receiveInvite(slow);
    slow.clock.advance(100);
    assert.deepEqual(times(slow.transport.responses(100), slow.t0), [80]);
    const off = harness({ autoTrying: false });
    receiveInvite(off);
    off.clock.advance(10_000);
    assert.equal(off.transport.sent.length, 0);
  });

  it('a request retransmission in Proceeding resends the most recent provisional response and is not passed to the TU (RFC 3261 §17.2.1)', () => {
    const h = harness();
    const tx = receiveInvite(h);
    h.layer.receive(inbound(invite()));
    assert.equal(h.transport.sent.length, 0, 'nothing to resend yet');
    reply(tx, 180);
    reply(tx, 183);
    h.layer.receive(inbound(invite()));
    assert.deepEqual(h.transport.sent.map((s) => (s.message as SipResponse).status), [180, 183, 183]);
    assert.equal(h.delivered.length, 1);
    assert.equal(tx.state, 'proceeding');
  });

  it('300-699: Timer G retransmits from T1 doubling capped at T2; Timer H at 64·T1 reports a timeout (RFC 3261 §17.2.1)', () => {
    const h = harness({ onRequest: ({ tx }) => { if (tx) reply(tx, 486); } });
    const tx = receiveInvite(h);
    let timedOut = -1;
    tx.onTimeout = () => { timedOut = h.elapsed(); };
    assert.equal(tx.state, 'completed');
    h.clock.advance(40_000);
    assert.deepEqual(
      times(h.transport.responses(486), h.t0),
      [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
    );
    assert.equal(timedOut, 32000);
    assert.equal(tx.state, 'terminated');
    assert.equal(h.transport.responses(100).length, 0, 'the final response came within 200 ms');
    assert.equal(h.layer.stats().timeouts, 1);
    assert.equal(h.layer.stats().serverTransactions, 0);
    assert.equal(h.clock.pending, 0);
  });

  it('Timer G is not set on a reliable transport; Timer H still fires at 64·T1 (RFC 3261 §17.2.1)', () => {
    const h = harness();
    const tx = receiveInvite(h, 'tcp');
    reply(tx, 404);
    h.clock.advance(31_999);
    assert.equal(tx.state, 'completed');
    h.clock.advance(1);
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(times(h.transport.responses(404), h.t0), [0]);
    assert.equal(h.transport.responses(404)[0]!.target.connectionId, 'conn-1');
  });

  it('a request retransmission in Completed resends the final response (RFC 3261 §17.2.1)', () => {
    const h = harness({ autoTrying: false });
    const tx = receiveInvite(h, 'tcp');
    reply(tx, 480);
    h.layer.receive(inbound(invite({ via: 'TCP' }), { protocol: 'tcp' }, 'conn-1'));
    assert.equal(h.transport.responses(480).length, 2);
    assert.equal(h.delivered.length, 1);
  });

  it('an ACK in Completed moves to Confirmed and stops G and H; Timer I = T4 on UDP absorbs further ACKs (RFC 3261 §17.2.1)', () => {
    const h = harness();
    const tx = receiveInvite(h);
    let timedOut = false;
    tx.onTimeout = () => { timedOut = true; };
    reply(tx, 486);
    h.clock.advance(1000);
    h.layer.receive(inbound(ackFor()));
    assert.equal(tx.state, 'confirmed');
    h.layer.receive(inbound(ackFor()));
    assert.equal(h.delivered.length, 1, 'the ACK of a non-2xx is absorbed by the transaction');
    h.clock.advance(4999);
    assert.equal(tx.state, 'confirmed');
    h.clock.advance(1);
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(times(h.transport.responses(486), h.t0), [0, 500]);
    assert.equal(timedOut, false);
    assert.equal(h.clock.pending, 0);
    assert.equal(h.layer.stats().serverTransactions, 0);
  });

  it('Timer I is zero on a reliable transport (RFC 3261 §17.2.1)', () => {
    const h = harness();
    const tx = receiveInvite(h, 'tcp');
    reply(tx, 603);
    h.layer.receive(inbound(ackFor({ via: 'TCP' }), { protocol: 'tcp' }, 'conn-1'));
    assert.equal(tx.state, 'terminated');
    assert.equal(h.clock.pending, 0);
  });

  it('a 2xx moves to Accepted: sent once, INVITE retransmissions absorbed, ACK passed to the TU, further 2xx sent, Timer L = 64·T1 (RFC 6026 §7.1, §8.5-§8.7)', () => {
    const h = harness();
    const tx = receiveInvite(h);
    reply(tx, 180);
    h.clock.advance(1000);
    reply(tx, 200);
    assert.equal(tx.state, 'accepted');
    h.clock.advance(10_000);
    assert.deepEqual(times(h.transport.responses(200), h.t0), [1000], 'the transaction does not retransmit 2xx');
    h.layer.receive(inbound(invite()));
    assert.equal(h.transport.sent.length, 2, 'INVITE retransmission absorbed: nothing sent');
    assert.equal(h.delivered.length, 1, 'INVITE retransmission not passed to the TU');
    // An ACK reusing the INVITE's branch matches the transaction and goes to the TU with it.
    h.layer.receive(inbound(ackFor()));
    assert.equal(h.delivered.length, 2);
    assert.equal(h.delivered[1]!.request.method, 'ACK');
    assert.equal(h.delivered[1]!.tx, tx);
    // The TU (e.g. a proxy forwarding a 2xx retransmission) sends further 2xx through it.
    reply(tx, 200);
    reply(tx, 486);
    reply(tx, 183);
    assert.deepEqual(times(h.transport.responses(200), h.t0), [1000, 11000]);
    assert.equal(h.transport.responses(486).length + h.transport.responses(183).length, 0);
    h.clock.advance(32_000 - 10_000 - 1);
    assert.equal(tx.state, 'accepted');
    h.clock.advance(1);
    assert.equal(tx.state, 'terminated');
    assert.equal(h.layer.stats().serverTransactions, 0);
    assert.equal(h.clock.pending, 0);
  });

  it('the ACK for a 2xx has its own branch, matches no transaction and goes to the TU with tx undefined (RFC 3261 §17.2.3, RFC 6026)', () => {
    const h = harness();
    const tx = receiveInvite(h);
    reply(tx, 200);
    h.layer.receive(inbound(ackFor({ branch: 'z9hG4bKnewack' })));
    assert.equal(h.delivered.length, 2);
    assert.equal(h.delivered[1]!.tx, undefined);
    assert.equal(tx.state, 'accepted');
  });

  it('a transport error in Proceeding informs the TU and terminates (RFC 3261 §17.2.4)', async () => {
    const h = harness();
    h.transport.failAll();
    const tx = receiveInvite(h);
    const errors: Error[] = [];
    tx.onTransportError = (e) => errors.push(e);
    reply(tx, 180);
    await settle();
    assert.equal(errors.length, 1);
    assert.equal(tx.state, 'terminated');
    assert.equal(h.layer.stats().serverTransactions, 0);
    assert.equal(h.clock.pending, 0);
  });

  it('a transport error in Accepted informs the TU and the transaction remains Accepted (RFC 6026 §8.8)', async () => {
    const h = harness();
    const tx = receiveInvite(h);
    const errors: Error[] = [];
    tx.onTransportError = (e) => errors.push(e);
    h.transport.failAll();
    reply(tx, 200);
    await settle();
    assert.equal(errors.length, 1);
    assert.equal(tx.state, 'accepted');
  });

  it('a transport error in Completed informs the TU and terminates (RFC 3261 §17.2.4)', async () => {
    const h = harness();
    const tx = receiveInvite(h);
    const errors: Error[] = [];
    tx.onTransportError = (e) => errors.push(e);
    h.transport.failAll();
    reply(tx, 500);
    await settle();
    assert.equal(errors.length, 1);
    assert.equal(tx.state, 'terminated');
    assert.equal(h.clock.pending, 0);
  });

  it('respond() rejects a status outside 100-699', () => {
    const h = harness();
    const tx = receiveInvite(h);
    const r = createResponse(tx.request, 200);
    r.status = 700;
    assert.throws(() => tx.respond(r), RangeError);
  });

  it('the table is total: every state has a cell for every event (style G5)', () => {
    const events = ['invite', 'ack', '1xx', '2xx', '300-699', 'timerTrying', 'timerG', 'timerH', 'timerI', 'timerL', 'transportError', 'terminate'].sort();
    for (const [state, row] of Object.entries(IST_TABLE)) assert.deepEqual(Object.keys(row).sort(), events, state);
    assert.equal(IST_TABLE.proceeding['2xx'].next, 'accepted');
    assert.equal(IST_TABLE.completed.ack.next, 'confirmed');
  });
});
