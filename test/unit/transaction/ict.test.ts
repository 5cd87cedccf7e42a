import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SipRequest } from '../../../src/sip/index.js';
import { buildAckForNon2xx } from '../../../src/transaction/ack.js';
import { ICT_TABLE, ictEvent } from '../../../src/transaction/ict.js';
import { RecordingTransport, settle } from '../../support/recording-transport.js';
import { harness, inbound, recordingUser, request, responseTo, target } from './helpers.js';

const times = RecordingTransport.times;

function invite(branch = 'z9hG4bKict1', extra: string[] = []): SipRequest {
  return request('INVITE', { branch, extra });
}

describe('INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §8.4)', () => {
  it('Timer A starts at T1 and doubles without a T2 cap; Timer B fires at 64·T1 and informs the TU (RFC 3261 §17.1.1.2)', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    const tx = h.layer.createClient(invite(), target('udp'), user);
    assert.equal(tx.state, 'calling');
    h.clock.advance(31_999);
    assert.equal(tx.state, 'calling');
    h.clock.advance(1);
    assert.deepEqual(times(h.transport.requests('INVITE'), h.t0), [0, 500, 1500, 3500, 7500, 15500, 31500]);
    assert.deepEqual(user.of('timeout').map((e) => e.at), [32000]);
    assert.equal(tx.state, 'terminated');
    assert.equal(user.of('terminated').length, 1);
    const s = h.layer.stats();
    assert.equal(s.clientTransactions, 0);
    assert.equal(s.retransmissions, 6);
    assert.equal(s.timeouts, 1);
    assert.equal(h.clock.pending, 0);
  });

  it('Timer A is not started on a reliable transport; Timer B still fires at 64·T1 (RFC 3261 §17.1.1.2)', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    h.layer.createClient(invite(), target('tcp'), user);
    h.clock.advance(40_000);
    assert.deepEqual(times(h.transport.requests('INVITE'), h.t0), [0]);
    assert.deepEqual(user.of('timeout').map((e) => e.at), [32000]);
  });

  it('timers follow a configured T1 (RFC 3261 §17.1.1.1: T1 is per instance)', () => {
    const h = harness({ timers: { t1: 100 } });
    const user = recordingUser(h.clock, h.t0);
    h.layer.createClient(invite(), target('udp'), user);
    h.clock.advance(10_000);
    assert.deepEqual(times(h.transport.requests('INVITE'), h.t0), [0, 100, 300, 700, 1500, 3100, 6300]);
    assert.deepEqual(user.of('timeout').map((e) => e.at), [6400]);
  });

  it('a provisional response moves Calling to Proceeding, is passed to the TU and stops retransmissions (RFC 3261 §17.1.1.2)', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    const req = invite();
    const tx = h.layer.createClient(req, target('udp'), user);
    h.clock.advance(600);
    h.layer.receive(inbound(responseTo(req, 180)));
    assert.equal(tx.state, 'proceeding');
    h.layer.receive(inbound(responseTo(req, 183)));
    h.clock.advance(100_000);
    assert.deepEqual(times(h.transport.requests('INVITE'), h.t0), [0, 500]);
    assert.deepEqual(user.statuses(), [180, 183]);
    assert.equal(user.of('timeout').length, 0, 'Timer B only applies in Calling');
    assert.equal(tx.state, 'proceeding');
    assert.equal(h.clock.pending, 0);
  });

  it('on 300-699 the transaction generates the ACK: same branch, Request-URI, Call-ID, From, To with the response tag, CSeq number with ACK, Route (RFC 3261 §17.1.1.3)', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    const req = invite('z9hG4bKict1', ['Route: <sip:p1.example.com;lr>', 'Route: <sip:p2.example.com;lr>', 'Contact: <sip:alice@192.0.2.10>', 'Subject: hi']);
    const tgt = target('udp');
    const tx = h.layer.createClient(req, tgt, user);
    h.layer.receive(inbound(responseTo(req, 486, 'busytag')));
    assert.equal(tx.state, 'completed');
    assert.deepEqual(user.statuses(), [486]);
    const acks = h.transport.requests('ACK');
    assert.equal(acks.length, 1);
    const ack = acks[0]!.message as SipRequest;
    // "The ACK MUST be sent to the same address, port, and transport to which the original request was sent."
    assert.deepEqual(acks[0]!.target, tgt);
    assert.equal(ack.uri, req.uri);
    assert.equal(ack.callId(), req.callId());
    assert.equal(ack.get('from'), req.get('from'));
    assert.equal(ack.toTag(), 'busytag');
    assert.deepEqual(ack.cseq(), { seq: 1, method: 'ACK' });
    assert.equal(ack.vias().length, 1);
    assert.equal(ack.topVia().params.get('branch'), 'z9hG4bKict1');
    assert.deepEqual(ack.getAll('route'), ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    assert.equal(ack.get('max-forwards'), '70');
    assert.equal(ack.get('contact'), undefined);
    assert.equal(ack.get('subject'), undefined);
  });

  it('retransmitted final responses are re-ACKed and not passed to the TU; Timer D is 32 s on UDP (RFC 3261 §17.1.1.2)', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    const req = invite();
    const tx = h.layer.createClient(req, target('udp'), user);
    h.clock.advance(1000);
    h.layer.receive(inbound(responseTo(req, 404)));
    h.clock.advance(700);
    h.layer.receive(inbound(responseTo(req, 404)));
    assert.deepEqual(times(h.transport.requests('ACK'), h.t0), [1000, 1700]);
    assert.deepEqual(user.statuses(), [404]);
    h.clock.advance(32_000 - 700 - 1);
    assert.equal(tx.state, 'completed');
    h.clock.advance(1);
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(times(h.transport.requests('INVITE'), h.t0), [0, 500], 'Timer A stopped in Completed');
    assert.equal(h.layer.stats().clientTransactions, 0);
    assert.equal(h.clock.pending, 0);
  });

  it('Timer D is zero on a reliable transport: Completed ends at once (RFC 3261 §17.1.1.2)', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    const req = invite();
    const tx = h.layer.createClient(req, target('tcp'), user);
    h.layer.receive(inbound(responseTo(req, 503), { protocol: 'tcp' }));
    assert.equal(tx.state, 'terminated');
    assert.equal(h.transport.requests('ACK').length, 1);
    assert.deepEqual(user.statuses(), [503]);
    assert.equal(h.layer.stats().clientTransactions, 0);
    assert.equal(h.clock.pending, 0);
  });

  it('Timer D honours a configured value on UDP', () => {
    const h = harness({ timers: { timerD: 40_000 } });
    const req = invite();
    const tx = h.layer.createClient(req, target('udp'), recordingUser(h.clock, h.t0));
    h.layer.receive(inbound(responseTo(req, 480)));
    h.clock.advance(39_999);
    assert.equal(tx.state, 'completed');
    h.clock.advance(1);
    assert.equal(tx.state, 'terminated');
  });

  it('a 2xx moves to Accepted; 2xx retransmissions and forked 2xx go to the TU without an ACK; Timer M = 64·T1 (RFC 6026 §8.4)', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    const req = invite();
    const tx = h.layer.createClient(req, target('udp'), user);
    h.layer.receive(inbound(responseTo(req, 180)));
    h.clock.advance(2000);
    h.layer.receive(inbound(responseTo(req, 200, 'fork-a')));
    assert.equal(tx.state, 'accepted');
    h.clock.advance(500);
    h.layer.receive(inbound(responseTo(req, 200, 'fork-a')));
    h.layer.receive(inbound(responseTo(req, 200, 'fork-b')));
    h.layer.receive(inbound(responseTo(req, 486)));
    h.layer.receive(inbound(responseTo(req, 183)));
    assert.deepEqual(user.statuses(), [180, 200, 200, 200], 'only 2xx are passed up in Accepted');
    assert.equal(h.transport.requests('ACK').length, 0, 'the ACK for 2xx is the TU\'s');
    h.clock.advance(32_000 - 500 - 1);
    assert.equal(tx.state, 'accepted');
    h.clock.advance(1);
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(user.of('terminated').map((e) => e.at), [34000]);
    // After Timer M a 2xx retransmission matches nothing: the TU gets it as a stray response.
    h.layer.receive(inbound(responseTo(req, 200, 'fork-a')));
    assert.equal(h.stray.length, 1);
    assert.equal(h.clock.pending, 0);
  });

  it('a 2xx in Calling moves straight to Accepted and stops Timers A and B (RFC 6026 §8.4)', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    const req = invite();
    const tx = h.layer.createClient(req, target('udp'), user);
    h.layer.receive(inbound(responseTo(req, 200)));
    assert.equal(tx.state, 'accepted');
    h.clock.advance(31_999);
    assert.equal(h.transport.requests('INVITE').length, 1);
    assert.equal(user.of('timeout').length, 0);
    h.clock.advance(1);
    assert.equal(tx.state, 'terminated');
  });

  it('a transport error in Calling informs the TU and terminates the transaction (RFC 3261 §17.1.4)', async () => {
    const h = harness();
    h.transport.failAll();
    const user = recordingUser(h.clock, h.t0);
    const tx = h.layer.createClient(invite(), target('tcp'), user);
    assert.equal(tx.state, 'calling', 'the failure is reported asynchronously');
    await settle();
    assert.equal(tx.state, 'terminated');
    assert.equal(user.of('transportError').length, 1);
    assert.equal(user.of('transportError')[0]!.error!.name, 'TransportError');
    assert.equal(h.layer.stats().transportErrors, 1);
    assert.equal(h.layer.stats().clientTransactions, 0);
    assert.equal(h.clock.pending, 0);
  });

  it('terminate() stops every timer and calls onTerminated once', () => {
    const h = harness();
    const user = recordingUser(h.clock, h.t0);
    const tx = h.layer.createClient(invite(), target('udp'), user);
    tx.terminate();
    tx.terminate();
    assert.equal(tx.state, 'terminated');
    assert.equal(h.clock.pending, 0);
    assert.equal(user.of('terminated').length, 1);
    assert.equal(h.layer.stats().clientTransactions, 0);
  });

  it('the table is total: every state has a cell for every event (style G5)', () => {
    const events = ['1xx', '2xx', '300-699', 'timerA', 'timerB', 'timerD', 'timerM', 'transportError', 'terminate'];
    for (const [state, row] of Object.entries(ICT_TABLE)) assert.deepEqual(Object.keys(row).sort(), [...events].sort(), state);
    for (const row of Object.values(ICT_TABLE.terminated)) assert.equal(row.next, undefined);
    assert.equal(ictEvent({ kind: 'timer', name: 'A' }), 'timerA');
    assert.equal(ICT_TABLE.calling['300-699'].next, 'completed');
    assert.equal(ICT_TABLE.proceeding['2xx'].next, 'accepted');
  });
});

describe('ACK for a non-2xx final response (RFC 3261 §17.1.1.3)', () => {
  it('the ACK MUST contain a single Via equal to the top Via of the original request', () => {
    const req = request('INVITE', { extra: [] });
    req.prepend('Via', 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bKtop, SIP/2.0/UDP other;branch=z9hG4bKx');
    const ack = buildAckForNon2xx(req, responseTo(req, 500));
    assert.deepEqual(ack.getAll('via'), ['SIP/2.0/UDP proxy.example.com;branch=z9hG4bKtop']);
    assert.equal(ack.method, 'ACK');
    assert.equal(ack.body.length, 0);
  });

  it('adds Max-Forwards: 70 when the INVITE had none (RFC 3261 §8.1.1.6)', () => {
    const req = request('INVITE');
    req.remove('max-forwards');
    const ack = buildAckForNon2xx(req, responseTo(req, 603));
    assert.equal(ack.get('max-forwards'), '70');
  });
});
