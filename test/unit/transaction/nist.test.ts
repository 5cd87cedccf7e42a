import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createResponse, type SipResponse } from '../../../src/sip/index.js';
import { NIST_TABLE } from '../../../src/transaction/nist.js';
import type { ServerTransaction } from '../../../src/transaction/types.js';
import { RecordingTransport, settle } from '../../support/recording-transport.js';
import { harness, inbound, request, type Harness } from './helpers.js';

const times = RecordingTransport.times;
const register = (via = 'UDP') => request('REGISTER', { branch: 'z9hG4bKnist1', via, uri: 'sip:example.com' });

function receive(h: Harness, protocol: 'udp' | 'tcp' = 'udp'): void {
  h.layer.receive(inbound(register(protocol.toUpperCase()), { protocol }, protocol === 'tcp' ? 'c1' : undefined));
}

function first(h: Harness): ServerTransaction {
  const tx = h.delivered[0]!.tx;
  assert.ok(tx);
  return tx;
}

const statuses = (h: Harness) => h.transport.sent.map((s) => (s.message as SipResponse).status);

describe('non-INVITE server transaction (RFC 3261 §17.2.2)', () => {
  it('a new request creates a transaction in Trying and is passed to the TU once; retransmissions in Trying are discarded (RFC 3261 §17.2.2)', () => {
    const h = harness();
    receive(h);
    const tx = first(h);
    assert.equal(tx.state, 'trying');
    receive(h);
    receive(h);
    assert.equal(h.delivered.length, 1);
    assert.equal(h.transport.sent.length, 0);
    h.clock.advance(1000);
    assert.equal(h.transport.sent.length, 0, 'the transaction sends no 100 Trying of its own for non-INVITE');
  });

  it('in Proceeding a retransmission is answered with the most recent provisional response (RFC 3261 §17.2.2)', () => {
    const h = harness();
    receive(h);
    const tx = first(h);
    tx.respond(createResponse(tx.request, 100));
    assert.equal(tx.state, 'proceeding');
    h.clock.advance(100);
    receive(h);
    h.clock.advance(100);
    receive(h);
    // RFC 4320 §4.1 allows only 100 as provisional response to non-INVITE.
    assert.deepEqual(statuses(h), [100, 100, 100]);
    assert.deepEqual(times(h.transport.sent, h.t0), [0, 100, 200]);
    assert.equal(h.delivered.length, 1);
  });

  it('in Completed retransmissions are answered with the final response; Timer J = 64·T1 on UDP (RFC 3261 §17.2.2)', () => {
    const h = harness();
    receive(h);
    const tx = first(h);
    tx.respond(createResponse(tx.request, 200, undefined, 't'));
    assert.equal(tx.state, 'completed');
    h.clock.advance(3000);
    receive(h);
    h.clock.advance(3000);
    receive(h);
    assert.deepEqual(times(h.transport.responses(200), h.t0), [0, 3000, 6000]);
    assert.equal(h.delivered.length, 1);
    h.clock.advance(32_000 - 6000 - 1);
    assert.equal(tx.state, 'completed');
    h.clock.advance(1);
    assert.equal(tx.state, 'terminated');
    assert.equal(h.layer.stats().serverTransactions, 0);
    assert.equal(h.layer.stats().retransmissions, 2);
    assert.equal(h.clock.pending, 0);
  });

  it('Timer J is zero on a reliable transport (RFC 3261 §17.2.2)', () => {
    const h = harness();
    receive(h, 'tcp');
    const tx = first(h);
    let terminated = 0;
    tx.onTerminated = () => { terminated++; };
    tx.respond(createResponse(tx.request, 401, undefined, 't'));
    assert.equal(tx.state, 'terminated');
    assert.equal(terminated, 1);
    assert.equal(h.transport.responses(401)[0]!.target.connectionId, 'c1');
    assert.equal(h.layer.stats().serverTransactions, 0);
    assert.equal(h.clock.pending, 0);
  });

  it('further final responses from the TU are discarded in Completed (RFC 3261 §17.2.2)', () => {
    const h = harness();
    receive(h);
    const tx = first(h);
    tx.respond(createResponse(tx.request, 200, undefined, 't'));
    tx.respond(createResponse(tx.request, 500, undefined, 't'));
    tx.respond(createResponse(tx.request, 180, undefined, 't'));
    assert.deepEqual(statuses(h), [200]);
  });

  it('a transport error in Completed informs the TU and terminates (RFC 3261 §17.2.4)', async () => {
    const h = harness();
    receive(h);
    const tx = first(h);
    const errors: Error[] = [];
    tx.onTransportError = (e) => errors.push(e);
    h.transport.failAll();
    tx.respond(createResponse(tx.request, 200, undefined, 't'));
    await settle();
    assert.equal(errors.length, 1);
    assert.equal(tx.state, 'terminated');
    assert.equal(h.layer.stats().transportErrors, 1);
    assert.equal(h.clock.pending, 0);
  });

  it('a transport error in Proceeding informs the TU and terminates (RFC 3261 §17.2.4)', async () => {
    const h = harness();
    receive(h);
    const tx = first(h);
    let errors = 0;
    tx.onTransportError = () => { errors++; };
    h.transport.failAll();
    tx.respond(createResponse(tx.request, 100));
    await settle();
    assert.equal(errors, 1);
    assert.equal(tx.state, 'terminated');
  });

  it('the table is total: every state has a cell for every event (style G5)', () => {
    const events = ['request', '1xx', '200-699', 'timerJ', 'transportError', 'terminate'].sort();
    for (const [state, row] of Object.entries(NIST_TABLE)) assert.deepEqual(Object.keys(row).sort(), events, state);
    assert.equal(NIST_TABLE.trying.request.actions.length, 0);
  });
});
