/**
 * Key generations (src/security/sa/generation.ts, association.ts; SPEC SA-5, SA-7): staging,
 * committing with a grace period driven by a ManualClock, the staged generation as an
 * implicit acknowledgement, and HKDF key separation.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hkdfSync } from 'node:crypto';
import { aeadRule, type AeadRule } from '../../../src/crypto/aead-rules.js';
import { deriveGeneration, Generation, parseRange, readRecordHeader, SecurityAssociation, type SecurityAssociation as Sa } from '../../../src/security/sa/index.js';
import { ManualClock } from '../../../src/util/clock.js';
import { deliver, faults, invite, PEER, plus, saPair, SA_ID, type Pair } from './fixtures.js';

const IKM = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
const WHOLE = parseRange('whole');
const GRACE_MS = 30_000;

function rule(name: string): AeadRule {
  const r = aeadRule(name);
  assert.ok(r);
  return r;
}

/** Stages generation `n` (same ikm, opposite roles) on both sides. */
function stageBoth(p: Pair, n: number, ruleName = 'aes-256-gcm'): void {
  p.a.sa.stage(deriveGeneration(IKM, SA_ID, n, rule(ruleName), 'initiator'), 'on', WHOLE);
  p.b.sa.stage(deriveGeneration(IKM, SA_ID, n, rule(ruleName), 'responder'), 'on', WHOLE);
}

function genOf(wire: Buffer): number {
  const h = readRecordHeader(wire);
  assert.ok(h);
  return h.generation;
}

describe('switching generations with a grace period', () => {
  it('old-generation records are accepted until the grace ends, then dropped as expired-generation', () => {
    const p = saPair();
    const late = [0, 1, 2, 3].map(() => p.a.ep.protect(invite(), PEER)); // sealed under gen 0, delivered late
    const lateBack = p.b.ep.protect(invite(), PEER);
    stageBoth(p, 1);
    assert.equal(p.a.sa.commit(GRACE_MS), true);
    assert.equal(p.b.sa.commit(GRACE_MS), true);
    assert.equal(p.a.sa.current.number, 1);
    assert.equal(p.b.sa.state().generation, 1);

    const fresh = p.a.ep.protect(invite(), PEER);
    assert.equal(genOf(fresh), 1);
    assert.equal(readRecordHeader(fresh)!.seq, 0, 'a new generation starts at seq 0');
    assert.equal(deliver(p.b.ep, fresh)?.protection?.generation, 1);

    assert.equal(deliver(p.b.ep, late[0]!)?.protection?.generation, 0, 'right after the switch');
    p.clock.advance(29_000);
    assert.equal(deliver(p.b.ep, late[1]!)?.protection?.generation, 0, 'at 29 s');
    assert.equal(deliver(p.a.ep, lateBack)?.protection?.generation, 0, 'the other direction too');
    p.clock.advance(1_001);
    const before = faults(p.b.ep);
    assert.equal(deliver(p.b.ep, late[2]!), undefined, 'past 30 s');
    assert.deepEqual(faults(p.b.ep), plus(before, 'expired-generation'));
    assert.equal(deliver(p.b.ep, late[3]!), undefined, 'and stays expired');
    assert.deepEqual(faults(p.b.ep), plus(before, 'expired-generation', 2));
    // The new generation is unaffected.
    assert.ok(deliver(p.b.ep, p.a.ep.protect(invite(), PEER)));
  });

  it('replay protection holds per generation across the switch', () => {
    const p = saPair();
    const old = p.a.ep.protect(invite(), PEER);
    assert.ok(deliver(p.b.ep, old));
    stageBoth(p, 1);
    p.a.sa.commit(GRACE_MS);
    p.b.sa.commit(GRACE_MS);
    const before = faults(p.b.ep);
    assert.equal(deliver(p.b.ep, old), undefined);
    assert.deepEqual(faults(p.b.ep), plus(before, 'replay'));
    // gen 1 seq 0 is not gen 0 seq 0.
    assert.ok(deliver(p.b.ep, p.a.ep.protect(invite(), PEER)));
  });

  it('two quick switches keep both older generations, each for its own grace period (SPEC SA-7)', () => {
    const p = saPair();
    const g0 = p.a.ep.protect(invite(), PEER);
    const g0b = p.a.ep.protect(invite(), PEER);
    stageBoth(p, 1);
    p.a.sa.commit(GRACE_MS);
    p.b.sa.commit(GRACE_MS);
    const g1 = p.a.ep.protect(invite(), PEER);
    stageBoth(p, 2);
    p.a.sa.commit(GRACE_MS);
    p.b.sa.commit(GRACE_MS);
    assert.equal(deliver(p.b.ep, g1)?.protection?.generation, 1, 'the previous one is in grace');
    assert.equal(deliver(p.b.ep, g0)?.protection?.generation, 0, 'the one before it too (two-step enablement in flight)');
    p.clock.advance(GRACE_MS + 1);
    const before = faults(p.b.ep);
    assert.equal(deliver(p.b.ep, g0b), undefined);
    assert.deepEqual(faults(p.b.ep), plus(before, 'expired-generation'));
  });

  it('commit without a staged generation, or after unstage, is a no-op', () => {
    const p = saPair();
    assert.equal(p.a.sa.commit(GRACE_MS), false);
    stageBoth(p, 1);
    assert.equal(p.a.sa.pending?.number, 1);
    p.a.sa.unstage();
    assert.equal(p.a.sa.pending, undefined);
    assert.equal(p.a.sa.commit(GRACE_MS), false);
    assert.equal(p.a.sa.current.number, 0);
  });

  it('a newer offer replaces a staged one', () => {
    const p = saPair();
    stageBoth(p, 1);
    stageBoth(p, 2);
    assert.equal(p.b.sa.isStaged(1), false);
    assert.equal(p.b.sa.isStaged(2), true);
  });

  it('the range and presence staged with a generation take effect on commit', () => {
    const p = saPair();
    const partial = parseRange('partial');
    p.a.sa.stage(deriveGeneration(IKM, SA_ID, 1, rule('chacha20-poly1305'), 'initiator'), 'on', partial);
    p.b.sa.stage(deriveGeneration(IKM, SA_ID, 1, rule('chacha20-poly1305'), 'responder'), 'on', partial);
    assert.equal(p.a.sa.range.kind, 'whole');
    p.a.sa.commit(GRACE_MS);
    p.b.sa.commit(GRACE_MS);
    assert.deepEqual(p.a.sa.state(), { saId: SA_ID.toString('hex'), presence: 'on', rule: 'chacha20-poly1305', range: partial, generation: 1, established: true, identity: undefined });
    const wire = p.a.ep.protect(invite(), PEER);
    assert.notEqual(wire[0], 0xd3, 'now partial: SIP text');
    assert.equal(deliver(p.b.ep, wire)?.protection?.generation, 1);
  });

  it('switching presence off→on accepts clear messages for the grace period only', () => {
    const clock = new ManualClock();
    const g0 = deriveGeneration(IKM, SA_ID, 0, rule('aes-256-gcm'), 'responder');
    const sa = new SecurityAssociation({ id: SA_ID, role: 'responder', generation: g0, clock, presence: 'off', range: WHOLE });
    sa.established = true;
    assert.equal(sa.acceptsClear(), true, 'presence off');
    sa.stage(deriveGeneration(IKM, SA_ID, 1, rule('aes-256-gcm'), 'responder'), 'on', WHOLE);
    sa.commit(GRACE_MS);
    assert.equal(sa.presence, 'on');
    clock.advance(29_000);
    assert.equal(sa.acceptsClear(), true, 'during the grace');
    clock.advance(1_001);
    assert.equal(sa.acceptsClear(), false, 'after the grace');
    // on→on switches do not open a clear window.
    sa.stage(deriveGeneration(IKM, SA_ID, 2, rule('aes-256-gcm'), 'responder'), 'on', WHOLE);
    assert.equal(sa.acceptsClear(), false);
    sa.stage(deriveGeneration(IKM, SA_ID, 2, rule('aes-256-gcm'), 'responder'), 'off', WHOLE);
    assert.equal(sa.acceptsClear(), true, 'an offer to switch off already accepts clear');
  });
});

describe('the staged generation as implicit acknowledgement', () => {
  it('a record under the staged generation is accepted and calls onStagedUse once per record', () => {
    const used: Sa[] = [];
    const p = saPair({ bOptions: { onStagedUse: (sa) => used.push(sa) } });
    stageBoth(p, 1);
    p.a.sa.commit(GRACE_MS); // the device switched on our setting; its answer is still in flight
    const forged = Buffer.from(p.a.ep.protect(invite(), PEER));
    forged[forged.length - 1]! ^= 1;
    assert.equal(deliver(p.b.ep, forged), undefined);
    assert.equal(used.length, 0, 'a forged record is no acknowledgement');
    const got = deliver(p.b.ep, p.a.ep.protect(invite(), PEER));
    assert.equal(got?.protection?.generation, 1);
    assert.deepEqual(used, [p.b.sa]);
    assert.equal(p.b.sa.current.number, 0, 'the endpoint does not switch by itself');
    // Old-generation traffic from the other side still flows meanwhile.
    assert.ok(deliver(p.a.ep, p.b.ep.protect(invite(), PEER)));
    p.b.sa.commit(GRACE_MS);
    assert.ok(deliver(p.b.ep, p.a.ep.protect(invite(), PEER)));
    assert.equal(used.length, 1, 'no callback once committed');
  });

  it('gen-0 records do not call onStagedUse while a generation is staged', () => {
    let calls = 0;
    const p = saPair({ bOptions: { onStagedUse: () => calls++ } });
    stageBoth(p, 1);
    assert.ok(deliver(p.b.ep, p.a.ep.protect(invite(), PEER)));
    assert.equal(calls, 0);
  });

  it('an unknown future generation → unknown-generation, without a callback', () => {
    let calls = 0;
    const p = saPair({ bOptions: { onStagedUse: () => calls++ } });
    p.b.sa.stage(deriveGeneration(IKM, SA_ID, 1, rule('aes-256-gcm'), 'responder'), 'on', WHOLE);
    p.a.sa.stage(deriveGeneration(IKM, SA_ID, 2, rule('aes-256-gcm'), 'initiator'), 'on', WHOLE);
    p.a.sa.commit(GRACE_MS);
    const before = faults(p.b.ep);
    assert.equal(deliver(p.b.ep, p.a.ep.protect(invite(), PEER)), undefined);
    assert.deepEqual(faults(p.b.ep), plus(before, 'unknown-generation'));
    p.b.sa.unstage();
    assert.equal(deliver(p.b.ep, p.a.ep.protect(invite(), PEER)), undefined);
    assert.deepEqual(faults(p.b.ep), plus(before, 'unknown-generation', 2));
    assert.equal(calls, 0);
  });

  it('receiving() classifies numbers: current, staged, previous, older and future', () => {
    const p = saPair();
    stageBoth(p, 3);
    const sa = p.b.sa;
    assert.equal((sa.receiving(0) as Generation).number, 0);
    assert.equal((sa.receiving(3) as Generation).number, 3);
    assert.equal(sa.receiving(1), 'unknown-generation');
    sa.commit(1000);
    assert.equal((sa.receiving(0) as Generation).number, 0);
    assert.equal(sa.receiving(2), 'expired-generation', 'skipped numbers below the current are old');
    assert.equal(sa.receiving(4), 'unknown-generation');
    assert.equal(sa.receiving(0xffffffff), 'unknown-generation');
  });
});

describe('key derivation', () => {
  const aes256 = rule('aes-256-gcm');
  const chacha = rule('chacha20-poly1305');
  const aes128 = rule('aes-128-gcm');

  it('both roles derive mirrored keys from the same ikm', () => {
    const i = deriveGeneration(IKM, SA_ID, 1, aes256, 'initiator');
    const r = deriveGeneration(IKM, SA_ID, 1, aes256, 'responder');
    assert.deepEqual(i.sendKey, r.receiveKey);
    assert.deepEqual(i.receiveKey, r.sendKey);
    assert.notDeepEqual(i.sendKey, i.receiveKey, 'per direction');
    assert.equal(i.number, 1);
    assert.equal(i.rule, aes256);
    assert.equal(i.sendSeq, 0);
  });

  it('keys differ per generation, per rule, per SA id and per ikm', () => {
    const keys = new Set<string>();
    const add = (g: Generation): void => {
      for (const k of [g.sendKey, g.receiveKey]) keys.add(k.toString('hex'));
    };
    const otherId = Buffer.from('fedcba9876543210', 'hex');
    const otherIkm = Buffer.from(IKM);
    otherIkm[0]! ^= 1;
    for (const n of [0, 1, 2, 0xffffffff]) add(deriveGeneration(IKM, SA_ID, n, aes256, 'initiator'));
    add(deriveGeneration(IKM, SA_ID, 1, chacha, 'initiator'));
    add(deriveGeneration(IKM, otherId, 1, aes256, 'initiator'));
    add(deriveGeneration(otherIkm, SA_ID, 1, aes256, 'initiator'));
    assert.equal(keys.size, 14, 'every (id, generation, direction, rule, ikm) has its own key');
    const g128 = deriveGeneration(IKM, SA_ID, 1, aes128, 'initiator');
    assert.equal(g128.sendKey.length, 16);
    assert.equal(g128.receiveKey.length, 16);
    assert.notDeepEqual(g128.sendKey, deriveGeneration(IKM, SA_ID, 1, aes256, 'initiator').sendKey.subarray(0, 16));
  });

  it('is HKDF-SHA-256 with salt = SA id ‖ u32 generation and info naming direction and rule', () => {
    const salt = Buffer.concat([SA_ID, Buffer.from([0, 0, 0, 7])]);
    const i2r = Buffer.from(hkdfSync('sha256', IKM, salt, 'sipher-sa/1 i2r aes-256-gcm', 32));
    const r2i = Buffer.from(hkdfSync('sha256', IKM, salt, 'sipher-sa/1 r2i aes-256-gcm', 32));
    const g = deriveGeneration(IKM, SA_ID, 7, aes256, 'initiator');
    assert.deepEqual(g.sendKey, i2r);
    assert.deepEqual(g.receiveKey, r2i);
  });

  it('keyMaterial is the same on both sides, so a derived generation matches', () => {
    const p = saPair();
    const ia = p.a.sa.current.keyMaterial('initiator');
    const rb = p.b.sa.current.keyMaterial('responder');
    assert.deepEqual(ia, rb);
    assert.equal(ia.length, 64);
    p.a.sa.stage(deriveGeneration(ia, SA_ID, 1, chacha, 'initiator'), 'on', WHOLE);
    p.b.sa.stage(deriveGeneration(rb, SA_ID, 1, chacha, 'responder'), 'on', WHOLE);
    p.a.sa.commit(GRACE_MS);
    p.b.sa.commit(GRACE_MS);
    assert.ok(deliver(p.b.ep, p.a.ep.protect(invite(), PEER)));
    assert.ok(deliver(p.a.ep, p.b.ep.protect(invite(), PEER)));
  });

  it('mismatched ikm on the two sides → decrypt, never a silent success', () => {
    const p = saPair();
    const other = Buffer.from(IKM);
    other[31]! ^= 1;
    p.a.sa.stage(deriveGeneration(IKM, SA_ID, 1, aes256, 'initiator'), 'on', WHOLE);
    p.b.sa.stage(deriveGeneration(other, SA_ID, 1, aes256, 'responder'), 'on', WHOLE);
    p.a.sa.commit(GRACE_MS);
    p.b.sa.commit(GRACE_MS);
    const before = faults(p.b.ep);
    assert.equal(deliver(p.b.ep, p.a.ep.protect(invite(), PEER)), undefined);
    assert.deepEqual(faults(p.b.ep), plus(before, 'decrypt'));
  });

  it('Generation refuses keys of the wrong length', () => {
    assert.throws(() => new Generation(0, aes256, Buffer.alloc(16), Buffer.alloc(32)), RangeError);
    assert.throws(() => new Generation(0, aes128, Buffer.alloc(16), Buffer.alloc(32)), RangeError);
    assert.doesNotThrow(() => new Generation(0, aes128, Buffer.alloc(16), Buffer.alloc(16)));
  });

  it('SecurityAssociation refuses an id that is not 8 bytes', () => {
    const g = deriveGeneration(IKM, SA_ID, 0, aes256, 'initiator');
    assert.throws(() => new SecurityAssociation({ id: Buffer.alloc(7), role: 'initiator', generation: g, clock: new ManualClock(), range: WHOLE }), RangeError);
  });
});
