import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NonceManager } from '../../../src/auth/nonce-manager.js';
import { ManualClock } from '../../../src/util/clock.js';
import { createSeededRandom } from '../../../src/util/random.js';

function make(opts: { lifetimeMs?: number; maxTracked?: number; secret?: Buffer } = {}) {
  const clock = new ManualClock();
  const nonces = new NonceManager({ clock, random: createSeededRandom(7), ...opts });
  return { clock, nonces };
}

describe('NonceManager', () => {
  it('issues distinct, token-safe nonces that check ok', () => {
    const { nonces } = make();
    const a = nonces.issue();
    const b = nonces.issue();
    assert.notEqual(a, b);
    assert.match(a, /^[A-Za-z0-9_-]{75}$/);
    assert.equal(nonces.inspect(a), 'ok');
    assert.equal(nonces.check(a, 1), 'ok');
  });

  it('a nonce is stale after its lifetime (RFC 7616 §3.3), not before', () => {
    const { clock, nonces } = make({ lifetimeMs: 1_000 });
    const n = nonces.issue();
    clock.advance(1_000);
    assert.equal(nonces.check(n, 1), 'ok');
    clock.advance(1);
    assert.equal(nonces.inspect(n), 'stale');
    assert.equal(nonces.check(n, 2), 'stale');
  });

  it('default lifetime is 5 minutes', () => {
    const { clock, nonces } = make();
    const n = nonces.issue();
    clock.advance(300_000);
    assert.equal(nonces.inspect(n), 'ok');
    clock.advance(1);
    assert.equal(nonces.inspect(n), 'stale');
  });

  it('tampered, truncated, re-spelled or foreign nonces are invalid', () => {
    const { nonces } = make();
    const n = nonces.issue();
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    assert.equal(nonces.check(flip(n, 3), 1), 'invalid'); // timestamp
    assert.equal(nonces.check(flip(n, 20), 1), 'invalid'); // random part
    assert.equal(nonces.check(flip(n, 60), 1), 'invalid'); // MAC
    assert.equal(nonces.check(n.slice(0, -1), 1), 'invalid');
    assert.equal(nonces.check(n + '=', 1), 'invalid');
    assert.equal(nonces.check('', 1), 'invalid');
    assert.equal(nonces.check('7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', 1), 'invalid');
    const other = new NonceManager({ clock: new ManualClock(), random: createSeededRandom(7), secret: Buffer.alloc(32, 9) });
    assert.equal(other.check(n, 1), 'invalid');
  });

  it('a nonce from a manager with the same secret checks ok (cluster)', () => {
    const secret = Buffer.alloc(32, 1);
    const a = make({ secret });
    const b = make({ secret });
    assert.equal(b.nonces.check(a.nonces.issue(), 1), 'ok');
  });

  it('nc must strictly increase per nonce (RFC 7616 §3.4.5)', () => {
    const { nonces } = make();
    const n = nonces.issue();
    assert.equal(nonces.check(n, 1), 'ok');
    assert.equal(nonces.check(n, 1), 'replay');
    assert.equal(nonces.check(n, 3), 'ok');
    assert.equal(nonces.check(n, 2), 'replay');
    assert.equal(nonces.check(n, 4), 'ok');
    assert.equal(nonces.check(n, undefined), 'replay');
    const m = nonces.issue();
    assert.equal(nonces.check(m, 0), 'replay');
  });

  it('a nonce used without qop is good for one request only', () => {
    const { nonces } = make();
    const n = nonces.issue();
    assert.equal(nonces.check(n, undefined), 'ok');
    assert.equal(nonces.check(n, undefined), 'replay');
    assert.equal(nonces.check(n, 1), 'replay');
  });

  it('inspect does not record a use', () => {
    const { nonces } = make();
    const n = nonces.issue();
    assert.equal(nonces.inspect(n), 'ok');
    assert.equal(nonces.inspect(n), 'ok');
    assert.equal(nonces.trackedCount, 0);
    assert.equal(nonces.check(n, undefined), 'ok');
  });

  it('tracking is bounded; an evicted nonce in its lifetime is stale, newer ones still work', () => {
    const { clock, nonces } = make({ maxTracked: 2 });
    const a = nonces.issue();
    clock.advance(1);
    const b = nonces.issue();
    clock.advance(1);
    const c = nonces.issue();
    assert.equal(nonces.check(a, 1), 'ok');
    assert.equal(nonces.check(b, 1), 'ok');
    assert.equal(nonces.check(c, 1), 'ok'); // evicts a
    assert.equal(nonces.trackedCount, 2);
    assert.equal(nonces.check(a, 2), 'stale', 'evicted nonce must not get a replay window');
    assert.equal(nonces.check(a, 1), 'stale');
    assert.equal(nonces.check(b, 2), 'ok');
    clock.advance(1);
    const d = nonces.issue();
    assert.equal(nonces.check(d, 1), 'ok');
  });

  it('expired entries are pruned from tracking', () => {
    const { clock, nonces } = make({ lifetimeMs: 1_000 });
    assert.equal(nonces.check(nonces.issue(), 1), 'ok');
    clock.advance(2_000);
    assert.equal(nonces.check(nonces.issue(), 1), 'ok');
    assert.equal(nonces.trackedCount, 1);
  });

  it('nonces dated in the future beyond the skew are stale', () => {
    const secret = Buffer.alloc(32, 2);
    const ahead = new ManualClock(1_700_000_010_000);
    const issuer = new NonceManager({ clock: ahead, random: createSeededRandom(1), secret });
    const { nonces } = make({ secret });
    assert.equal(nonces.inspect(issuer.issue()), 'stale');
  });

  it('rejects a short secret and bad limits', () => {
    assert.throws(() => make({ secret: Buffer.alloc(8) }), RangeError);
    assert.throws(() => make({ lifetimeMs: 0 }), RangeError);
    assert.throws(() => make({ maxTracked: 0 }), RangeError);
  });
});
