/** The anti-replay sliding window (src/security/sa/replay-window.ts, RFC 4303 §3.4.3). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_REPLAY_WINDOW, ReplayWindow } from '../../../src/security/sa/index.js';
import { createSeededRandom } from '../../../src/util/random.js';

/** check() then, if new, accept(): what the record layer does after the AEAD verified. */
function take(w: ReplayWindow, seq: number): boolean {
  if (!w.check(seq)) return false;
  w.accept(seq);
  return true;
}

/** A reference model: the set of every accepted number, and the highest. */
class Model {
  private readonly seen = new Set<number>();
  private top = -1;
  constructor(private readonly size: number) {}
  take(seq: number): boolean {
    if (seq <= this.top - this.size) return false;
    if (this.seen.has(seq)) return false;
    this.seen.add(seq);
    if (seq > this.top) this.top = seq;
    return true;
  }
}

describe('ReplayWindow', () => {
  it('defaults to 1024 and starts empty', () => {
    assert.equal(DEFAULT_REPLAY_WINDOW, 1024);
    const w = new ReplayWindow();
    assert.equal(w.highest, -1);
    assert.equal(w.check(0), true);
    // The default size: 1023 below the top is inside, 1024 below is outside.
    w.accept(2000);
    assert.equal(w.check(2000 - 1023), true);
    assert.equal(w.check(2000 - 1024), false);
  });

  it('accepts fresh increasing numbers, starting at 0', () => {
    const w = new ReplayWindow(64);
    for (let s = 0; s < 200; s++) {
      assert.equal(take(w, s), true, `seq ${s}`);
      assert.equal(w.highest, s);
    }
  });

  it('rejects duplicates, including of 0 and of the highest', () => {
    const w = new ReplayWindow(64);
    assert.equal(take(w, 0), true);
    assert.equal(take(w, 0), false);
    assert.equal(take(w, 5), true);
    assert.equal(take(w, 5), false);
    assert.equal(take(w, 0), false);
    assert.equal(w.highest, 5);
  });

  it('accepts out-of-order numbers inside the window exactly once', () => {
    const w = new ReplayWindow(64);
    assert.equal(take(w, 100), true);
    for (const s of [99, 37, 60, 98]) {
      assert.equal(take(w, s), true, `first ${s}`);
      assert.equal(take(w, s), false, `again ${s}`);
    }
    // The numbers skipped by the jump to 100 are fresh: 0..36 are outside (100-64=36), 37..99 inside.
    assert.equal(w.check(36), false);
    assert.equal(w.check(38), true);
    assert.equal(w.highest, 100);
  });

  it('rejects numbers at or beyond the window size below the highest', () => {
    const w = new ReplayWindow(32);
    take(w, 1000);
    assert.equal(w.check(1000 - 31), true);
    assert.equal(w.check(1000 - 32), false);
    assert.equal(w.check(0), false);
    assert.equal(take(w, 1000 - 32), false);
  });

  it('check() alone records nothing', () => {
    const w = new ReplayWindow(64);
    for (let i = 0; i < 5; i++) assert.equal(w.check(10), true);
    assert.equal(w.highest, -1);
    w.accept(10);
    assert.equal(w.check(10), false);
    for (let i = 0; i < 5; i++) assert.equal(w.check(7), true);
    assert.equal(w.highest, 10);
    assert.equal(take(w, 7), true);
    assert.equal(w.check(7), false);
  });

  for (const size of [32, 64, 1024]) {
    describe(`jumps with size ${size}`, () => {
      it('a jump of size-1 keeps the old number seen', () => {
        const w = new ReplayWindow(size);
        take(w, 10);
        take(w, 10 + size - 1);
        assert.equal(w.check(10), false, 'still in the window and seen');
        assert.equal(w.check(11), true, 'skipped number still fresh');
      });

      it('a jump of exactly size pushes the old number out', () => {
        const w = new ReplayWindow(size);
        take(w, 10);
        take(w, 10 + size);
        assert.equal(w.check(10), false, 'outside the window now');
        // Every slot the window slid over must be clear: the numbers between are fresh.
        for (let s = 11; s < 10 + size; s++) assert.equal(w.check(s), true, `seq ${s}`);
      });

      it('a jump of size+1 and of many windows clears every slot', () => {
        for (const jump of [size + 1, 3 * size + 5]) {
          const w = new ReplayWindow(size);
          for (let s = 0; s < size; s++) take(w, s); // every slot set
          const top = size - 1 + jump;
          take(w, top);
          for (let s = top - size + 1; s < top; s++) assert.equal(w.check(s), true, `jump ${jump} seq ${s}`);
          assert.equal(w.check(top), false);
          assert.equal(w.check(top - size), false);
        }
      });

      it('slots that alias after a jump (same seq mod size) are fresh', () => {
        const w = new ReplayWindow(size);
        for (let s = 0; s < 8; s++) take(w, s);
        take(w, size + 3); // the window is now 4..size+3: 0..3 leave, 4..7 stay
        assert.equal(w.check(3), false, 'left the window');
        assert.equal(w.check(4), false, 'still in the window and seen');
        assert.equal(w.check(7), false);
        assert.equal(w.check(size), true, 'aliases slot 0');
        assert.equal(w.check(size + 2), true, 'aliases slot 2');
      });
    });
  }

  it('agrees with a reference model on 20 000 random numbers', () => {
    const random = createSeededRandom(4303);
    const w = new ReplayWindow(64);
    const m = new Model(64);
    let base = 0;
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const b = random.bytes(2);
      if (b[0]! < 8) base += b[1]! * 2; // occasional large jump forward
      const seq = Math.max(0, base + (b[1]! % 96) - 48);
      if (b[0]! % 2 === 0) base++;
      const expected = m.take(seq);
      assert.equal(take(w, seq), expected, `step ${i} seq ${seq}`);
      if (expected) accepted++;
    }
    // Both outcomes were exercised many times.
    assert.ok(accepted > 2000 && accepted < 18_000, `accepted ${accepted}`);
  });

  it('handles numbers near 2^53', () => {
    const w = new ReplayWindow(64);
    const big = Number.MAX_SAFE_INTEGER;
    assert.equal(take(w, big - 1), true);
    assert.equal(take(w, big), true);
    assert.equal(take(w, big), false);
    assert.equal(take(w, big - 1), false);
    assert.equal(take(w, big - 2), true);
    assert.equal(w.check(big - 64), false);
  });

  it('rejects bad sizes', () => {
    for (const bad of [0, -32, 16, 31, 33, 100, 32.5, Number.NaN, Infinity]) {
      assert.throws(() => new ReplayWindow(bad), RangeError, String(bad));
    }
    assert.doesNotThrow(() => new ReplayWindow(32));
    assert.doesNotThrow(() => new ReplayWindow(96));
  });
});
