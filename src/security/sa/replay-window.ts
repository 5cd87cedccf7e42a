/**
 * Anti-replay sliding window (SPEC SA-8), as IPsec does it (RFC 4303 §3.4.3): the highest
 * sequence number seen and a bitmap of the `size` numbers below it. A number is checked
 * before the (costly) AEAD and recorded only after the record authenticated, so forged
 * records cannot move the window.
 * @module
 */

/** Default window: generous for UDP reordering under load. */
export const DEFAULT_REPLAY_WINDOW = 1024;

/** Sliding window over sequence numbers (non-negative safe integers). */
export class ReplayWindow {
  private readonly size: number;
  private readonly bits: Uint32Array;
  private top = -1;

  constructor(size = DEFAULT_REPLAY_WINDOW) {
    if (!Number.isInteger(size) || size < 32 || size % 32 !== 0) throw new RangeError('window size must be a positive multiple of 32');
    this.size = size;
    this.bits = new Uint32Array(size / 32);
  }

  /** Highest sequence number accepted so far (−1 before any). */
  get highest(): number {
    return this.top;
  }

  /** True if `seq` is new and inside (or ahead of) the window. Does not record it. */
  check(seq: number): boolean {
    if (seq > this.top) return true;
    if (this.top - seq >= this.size) return false;
    const i = seq % this.size;
    return (this.bits[i >>> 5]! & (1 << (i & 31))) === 0;
  }

  /** Records an authenticated `seq` (call only after {@link check} returned true). */
  accept(seq: number): void {
    if (seq > this.top) {
      // Clear the slots the window slides over.
      const shift = this.top < 0 ? this.size : Math.min(seq - this.top, this.size);
      for (let k = 1; k <= shift; k++) {
        const j = (this.top + k) % this.size;
        if (j >= 0) this.bits[j >>> 5]! &= ~(1 << (j & 31));
      }
      this.top = seq;
    }
    const i = seq % this.size;
    this.bits[i >>> 5]! |= 1 << (i & 31);
  }
}
