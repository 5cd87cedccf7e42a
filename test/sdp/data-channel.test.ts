/**
 * Data-channel offer/answer: `m=application PORT TCP/TLS <fmt>` with `a=setup` (RFC 4145 §4.1)
 * and `a=fingerprint` (RFC 8122 §5, §6).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACTIVE_PORT, answerDataChannel, applyDataChannelAnswer, computeFingerprint, createDataChannelOffer, parseSdp,
  type Fingerprint,
} from '../../src/sdp/index.js';
import { InvalidArgumentError, SipParseError } from '../../src/errors.js';
import { createSeededRandom } from '../../src/util/random.js';

const rnd = (seed: number): ((n: number) => Buffer) => {
  const r = createSeededRandom(seed);
  return (n) => r.bytes(n);
};
const crlf = (lines: string[]): string => lines.map((l) => l + '\r\n').join('');
const ALICE_FP: Fingerprint = computeFingerprint(Buffer.from('alice certificate (DER stand-in)'));
const BOB_FP: Fingerprint = computeFingerprint(Buffer.from('bob certificate (DER stand-in)'), 'sha-384');

function dcOffer(setup: string | undefined, extra: string[] = [], proto = 'TCP/TLS', fmt = 'sipher-data'): string {
  return crlf([
    'v=0', 'o=- 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0',
    `m=application 54111 ${proto} ${fmt}`,
    ...(setup ? [`a=setup:${setup}`] : []),
    'a=connection:new',
    ...extra,
  ]);
}
const FP_LINE = `a=fingerprint:sha-256 ${'AB:'.repeat(31)}AB`;

describe('data channel offer/answer (RFC 4145, RFC 8122)', () => {
  it('offer is actpass with our fingerprint; answer is active; both agree', () => {
    const offer = createDataChannelOffer({ address: '192.0.2.10', port: 54111, random: rnd(1), fingerprints: [ALICE_FP], sessionId: '7' });
    assert.deepEqual(offer.text.split('\r\n').slice(5, 9), [
      'm=application 54111 TCP/TLS sipher-data', 'a=setup:actpass', 'a=connection:new', `a=fingerprint:sha-256 ${offer.text.split('a=fingerprint:sha-256 ')[1]!.split('\r\n')[0]}`,
    ]);
    const answer = answerDataChannel(offer.text, { address: '2001:db8::20', port: 60000, random: rnd(2), fingerprints: [BOB_FP] });
    assert.equal(answer.status, 'accepted');
    if (answer.status !== 'accepted') return;
    assert.equal(answer.negotiation.role, 'active');
    assert.deepEqual(answer.negotiation.remote, { address: '192.0.2.10', addrType: 'IP4', port: 54111 });
    assert.ok(answer.negotiation.peerFingerprints[0]!.value.equals(ALICE_FP.value));
    const m = parseSdp(answer.text).media[0]!;
    assert.equal(m.port, ACTIVE_PORT);
    assert.deepEqual(m.attributes.map((a) => `${a.name}:${a.value}`).slice(0, 2), ['setup:active', 'connection:new']);
    assert.ok(answer.text.includes('c=IN IP6 2001:db8::20'));

    const applied = applyDataChannelAnswer(offer, answer.text);
    assert.equal(applied.status, 'accepted');
    if (applied.status !== 'accepted') return;
    assert.equal(applied.negotiation.role, 'passive');
    assert.equal(applied.negotiation.peerFingerprints[0]!.hash, 'sha-384');
    assert.ok(applied.negotiation.peerFingerprints[0]!.value.equals(BOB_FP.value));
    assert.equal(applied.negotiation.remote.address, '2001:db8::20');
  });

  it('passive preference: the answerer listens on its port and the offerer connects', () => {
    const offer = createDataChannelOffer({ address: '192.0.2.10', port: 54111, random: rnd(3), fingerprints: [ALICE_FP] });
    const answer = answerDataChannel(offer.text, { address: '192.0.2.20', port: 60000, random: rnd(4), fingerprints: [BOB_FP], preferredRole: 'passive' });
    assert.equal(answer.status, 'accepted');
    if (answer.status !== 'accepted') return;
    assert.equal(answer.negotiation.role, 'passive');
    const applied = applyDataChannelAnswer(offer, answer.text);
    assert.equal(applied.status === 'accepted' && applied.negotiation.role, 'active');
    assert.equal(applied.status === 'accepted' && applied.negotiation.remote.port, 60000);
  });

  it('answers a=setup per RFC 4145 §4.1', () => {
    const cases: [string | undefined, string][] = [['active', 'passive'], ['passive', 'active'], ['actpass', 'active'], ['holdconn', 'holdconn'], [undefined, 'passive']];
    for (const [offered, expected] of cases) {
      const r = answerDataChannel(dcOffer(offered, [FP_LINE]), { address: '192.0.2.20', port: 60000, random: rnd(5), fingerprints: [BOB_FP] });
      assert.equal(r.status, 'accepted', String(offered));
      if (r.status === 'accepted') {
        assert.equal(r.negotiation.role, expected, String(offered));
        assert.ok(r.text.includes(`a=setup:${expected}\r\n`));
      }
    }
  });

  it('uses session-level fingerprints when the media has none', () => {
    const text = crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', FP_LINE,
      'm=application 54111 TCP/TLS sipher-data', 'a=setup:passive']);
    const r = answerDataChannel(text, { address: '192.0.2.20', port: 60000, random: rnd(6), fingerprints: [BOB_FP] });
    assert.equal(r.status, 'accepted');
  });

  it('not acceptable: no fingerprint, md5 only, wrong transport, wrong format', () => {
    const opts = { address: '192.0.2.20', port: 60000, random: rnd(7), fingerprints: [BOB_FP] };
    const cases: [string, RegExp][] = [
      [dcOffer('actpass'), /no a=fingerprint/],
      [dcOffer('actpass', [`a=fingerprint:md5 ${'AB:'.repeat(15)}AB`]), /accepted hash function \(offered: md5\)/],
      [dcOffer('actpass', [FP_LINE], 'TCP'), /transport TCP not supported/],
      [dcOffer('actpass', [FP_LINE], 'TCP/TLS', 'other'), /format other not supported/],
    ];
    for (const [text, re] of cases) {
      const r = answerDataChannel(text, opts);
      assert.equal(r.status, 'not-acceptable');
      if (r.status !== 'not-acceptable') continue;
      assert.equal(r.sipStatus, 488);
      assert.match(r.reason, re);
      assert.equal(parseSdp(r.text).media[0]!.port, 0);
    }
  });

  it('applyDataChannelAnswer refuses an answer with actpass or a rejected stream', () => {
    const offer = createDataChannelOffer({ address: '192.0.2.10', port: 54111, random: rnd(8), fingerprints: [ALICE_FP] });
    const answer = answerDataChannel(offer.text, { address: '192.0.2.20', port: 60000, random: rnd(9), fingerprints: [BOB_FP] });
    assert.equal(answer.status, 'accepted');
    const actpass = applyDataChannelAnswer(offer, answer.text.replace('a=setup:active', 'a=setup:actpass'));
    assert.equal(actpass.status, 'not-acceptable');
    const rejected = applyDataChannelAnswer(offer, answer.text.replace(`m=application ${ACTIVE_PORT} `, 'm=application 0 '));
    assert.equal(rejected.status, 'not-acceptable');
  });

  it('bad input and options', () => {
    assert.throws(() => answerDataChannel(dcOffer('sideways', [FP_LINE]), { address: '192.0.2.20', port: 60000, random: rnd(10), fingerprints: [BOB_FP] }), SipParseError);
    assert.throws(() => createDataChannelOffer({ address: '192.0.2.10', port: 54111, random: rnd(11), fingerprints: [] }), InvalidArgumentError);
    assert.throws(() => createDataChannelOffer({ address: '192.0.2.10', port: 54111, random: rnd(11), fingerprints: [ALICE_FP], format: 'a b' }), InvalidArgumentError);
  });
});
