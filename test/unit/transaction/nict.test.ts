import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NICT_TABLE } from '../../../src/transaction/nict.js';
import { RecordingTransport, settle } from '../../support/recording-transport.js';
import { harness, inbound, recordingUser, request, responseTo, target } from './helpers.js';

const times = RecordingTransport.times;
const options = (branch = 'z9hG4bKnict1') => request('OPTIONS', { branch });

describe('non-INVITE client transaction (RFC 3261 §17.1.2)', () => {
  it('Timer E starts at T1, doubles and is capped at T2; Timer F fires at 64·T1 and informs the TU (RFC 3261 §17.1.2.2)', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    const tx = h.layer.createClient(options(), target('udp'), user);
    assert.equal(tx.state, 'trying');
    h.clock.advance(40_000);
    assert.deepEqual(
      times(h.transport.requests('OPTIONS'), h.t0),
      [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
    );
    assert.deepEqual(user.of('timeout').map((e) => e.at), [32000]);
    assert.equal(tx.state, 'terminated');
    assert.equal(h.layer.stats().clientTransactions, 0);
    assert.equal(h.layer.stats().retransmissions, 10);
    assert.equal(h.clock.pending, 0);
  });

  it('Timer E is capped at a configured T2 (RFC 3261 §17.1.2.2)', () => {
    const h = harness({ timers: { t2: 2000 } });
    h.layer.createClient(options(), target('udp'), recordingUser(h.clock, h.t0));
    h.clock.advance(8000);
    assert.deepEqual(times(h.transport.requests('OPTIONS'), h.t0), [0, 500, 1500, 3500, 5500, 7500]);
  });

  it('in Proceeding, Timer E fires at T2 intervals; Timer F still applies (RFC 3261 §17.1.2.2)', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    const req = options();
    const tx = h.layer.createClient(req, target('udp'), user);
    h.clock.advance(100);
    h.layer.receive(inbound(responseTo(req, 100)));
    assert.equal(tx.state, 'proceeding');
    h.clock.advance(40_000);
    assert.deepEqual(
      times(h.transport.requests('OPTIONS'), h.t0),
      [0, 500, 4500, 8500, 12500, 16500, 20500, 24500, 28500],
    );
    assert.deepEqual(user.statuses(), [100]);
    assert.deepEqual(user.of('timeout').map((e) => e.at), [32000]);
    assert.equal(tx.state, 'terminated');
  });

  it('Timer E is not used on a reliable transport (RFC 3261 §17.1.2.2)', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    h.layer.createClient(options(), target('tls'), user);
    h.clock.advance(40_000);
    assert.deepEqual(times(h.transport.requests('OPTIONS'), h.t0), [0]);
    assert.deepEqual(user.of('timeout').map((e) => e.at), [32000]);
  });

  it('provisional responses are passed to the TU in Trying and Proceeding (RFC 3261 §17.1.2.2)', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    const req = options();
    h.layer.createClient(req, target('udp'), user);
    h.layer.receive(inbound(responseTo(req, 100)));
    h.layer.receive(inbound(responseTo(req, 183)));
    assert.deepEqual(user.statuses(), [100, 183]);
  });

  it('a final response moves to Completed and is passed up once; retransmissions are absorbed; Timer K = T4 on UDP (RFC 3261 §17.1.2.2)', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    const req = options();
    const tx = h.layer.createClient(req, target('udp'), user);
    h.clock.advance(600);
    h.layer.receive(inbound(responseTo(req, 200)));
    assert.equal(tx.state, 'completed');
    h.layer.receive(inbound(responseTo(req, 200)));
    h.layer.receive(inbound(responseTo(req, 180)));
    assert.deepEqual(user.statuses(), [200]);
    h.clock.advance(4999);
    assert.equal(tx.state, 'completed');
    h.clock.advance(1);
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(times(h.transport.requests('OPTIONS'), h.t0), [0, 500], 'Timer E stopped in Completed');
    assert.equal(user.of('timeout').length, 0, 'Timer F stopped in Completed');
    assert.equal(h.clock.pending, 0);
    assert.equal(h.layer.stats().clientTransactions, 0);
  });

  it('Timer K is zero on a reliable transport (RFC 3261 §17.1.2.2)', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    const req = options();
    const tx = h.layer.createClient(req, target('tcp'), user);
    h.layer.receive(inbound(responseTo(req, 404), { protocol: 'tcp' }));
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(user.statuses(), [404]);
    assert.equal(h.clock.pending, 0);
  });

  it('Timer K follows a configured T4 on UDP', () => {
    const h = harness({ timers: { t4: 2500 } });
    const req = options();
    const tx = h.layer.createClient(req, target('udp'), recordingUser(h.clock, h.t0));
    h.layer.receive(inbound(responseTo(req, 202)));
    h.clock.advance(2499);
    assert.equal(tx.state, 'completed');
    h.clock.advance(1);
    assert.equal(tx.state, 'terminated');
  });

  it('a transport error in Trying informs the TU and terminates (RFC 3261 §17.1.4)', async () => {
    const h = harness();
    h.transport.failAll();
    const user = recordingUser(h.clock, h.t0);
    const tx = h.layer.createClient(options(), target('udp'), user);
    await settle();
    assert.equal(tx.state, 'terminated');
    assert.equal(user.of('transportError').length, 1);
    assert.equal(h.clock.pending, 0);
  });

  it('a transport error on a retransmission in Proceeding informs the TU and terminates (RFC 3261 §17.1.4)', async () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    const req = options();
    const tx = h.layer.createClient(req, target('udp'), user);
    h.layer.receive(inbound(responseTo(req, 100)));
    h.transport.failAll('ICMP port unreachable');
    h.clock.advance(500);
    await settle();
    assert.equal(tx.state, 'terminated');
    assert.equal(user.of('transportError')[0]!.error!.message, 'ICMP port unreachable');
    assert.equal(h.layer.stats().clientTransactions, 0);
  });

  it('a CANCEL client transaction is distinct from the INVITE with the same branch (RFC 3261 §9.1, §17.1.3)', () => {
    const h = harness();
    const inviteUser = recordingUser(h.clock, h.t0);
    const cancelUser = recordingUser(h.clock, h.t0);
    const inv = request('INVITE', { branch: 'z9hG4bKsame' });
    const cancel = request('CANCEL', { branch: 'z9hG4bKsame' });
    h.layer.createClient(inv, target('udp'), inviteUser);
    const ctx = h.layer.createClient(cancel, target('udp'), cancelUser);
    h.layer.receive(inbound(responseTo(cancel, 200)));
    h.layer.receive(inbound(responseTo(inv, 487)));
    assert.deepEqual(cancelUser.statuses(), [200]);
    assert.deepEqual(inviteUser.statuses(), [487]);
    assert.equal(ctx.state, 'completed');
  });

  it('the table is total: every state has a cell for every event (style G5)', () => {
    const events = ['1xx', '200-699', 'timerE', 'timerF', 'timerK', 'transportError', 'terminate'].sort();
    for (const [state, row] of Object.entries(NICT_TABLE)) assert.deepEqual(Object.keys(row).sort(), events, state);
    assert.equal(NICT_TABLE.trying['1xx'].next, 'proceeding');
    assert.equal(NICT_TABLE.proceeding['200-699'].next, 'completed');
  });
});
