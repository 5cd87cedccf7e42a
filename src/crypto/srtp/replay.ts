/**
 * Sliding-window replay protection (RFC 3711 §3.3.2): the highest index accepted so far and a
 * bitmap of which of the `size` indices at or below it were accepted. An index left of the
 * window is too old; one inside it already marked is a replay. The list is updated only after a
 * packet authenticates (RFC 3711 §3.3 step 7), hence separate {@link ReplayWindow.check} and
 * {@link ReplayWindow.accept}.
 * @module
 */

/** Default replay window size (RFC 3711 §3.3.2 requires at least 64; libsrtp uses 128). */
export const DEFAULT_REPLAY_WINDOW = 128;
/** Smallest window size allowed (RFC 3711 §3.3.2: "a minimum of 64"). */
export const MIN_REPLAY_WINDOW = 64;
/** Largest window size allowed (half the 16-bit sequence space). */
export const MAX_REPLAY_WINDOW = 0x8000;

/** Verdict of {@link ReplayWindow.check}. */
export type ReplayVerdict = 'ok' | 'replay' | 'too-old';

/** A replay window over non-negative integer indices (up to 2^53). */
export class ReplayWindow {
  /** Window size in indices. */
  readonly size: number;
  readonly #bits: Uint32Array;
  readonly #capacity: number;
  #highest = -1;

  /**
   * @param size - window size, an integer in 64..32768.
   * @throws RangeError for any other size.
   */
  constructor(size: number = DEFAULT_REPLAY_WINDOW) {
    if (!Number.isInteger(size) || size < MIN_REPLAY_WINDOW || size > MAX_REPLAY_WINDOW) {
      throw new RangeError(`replay window must be an integer in ${MIN_REPLAY_WINDOW}..${MAX_REPLAY_WINDOW}`);
    }
    this.size = size;
    this.#bits = new Uint32Array(Math.ceil(size / 32));
    this.#capacity = this.#bits.length * 32;
  }

  /** Highest index accepted so far, or -1. */
  get highest(): number {
    return this.#highest;
  }

  /** Whether `index` may be accepted, without changing the window. */
  check(index: number): ReplayVerdict {
    if (index > this.#highest) return 'ok';
    if (this.#highest - index >= this.size) return 'too-old';
    return this.#has(index) ? 'replay' : 'ok';
  }

  /** Marks `index` as accepted, sliding the window forward if it is a new highest. */
  accept(index: number): void {
    if (index > this.#highest) {
      const delta = this.#highest < 0 ? this.#capacity : index - this.#highest;
      if (delta >= this.#capacity) this.#bits.fill(0);
      else for (let i = this.#highest + 1; i < index; i++) this.#clear(i);
      this.#highest = index;
    } else if (this.#highest - index >= this.size) {
      return;
    }
    const bit = index % this.#capacity;
    this.#bits[bit >>> 5] |= 1 << (bit & 31);
  }

  #has(index: number): boolean {
    const bit = index % this.#capacity;
    return (this.#bits[bit >>> 5] & (1 << (bit & 31))) !== 0;
  }

  #clear(index: number): void {
    const bit = index % this.#capacity;
    this.#bits[bit >>> 5] &= ~(1 << (bit & 31));
  }
}
