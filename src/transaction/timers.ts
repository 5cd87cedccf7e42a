/**
 * Resolution and validation of {@link TimerConfig} (RFC 3261 §17.1.1.1, Table 4).
 * @module
 */
import { DEFAULT_TIMERS, type TimerConfig } from './types.js';

/**
 * The defaults overlaid with `partial`, validated and frozen (checked once at construction,
 * style G10). Throws `RangeError` for a non-finite or negative value, `t1 <= 0`, or `t2 < t1`.
 */
export function resolveTimers(partial: Partial<TimerConfig> = {}): Readonly<TimerConfig> {
  const t: TimerConfig = { ...DEFAULT_TIMERS };
  for (const k of Object.keys(DEFAULT_TIMERS) as (keyof TimerConfig)[]) {
    const v = partial[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`timers.${k} must be a non-negative number of ms`);
    t[k] = v;
  }
  if (t.t1 <= 0) throw new RangeError('timers.t1 must be > 0');
  // RFC 3261 §17.1.2.2: retransmission intervals are capped at T2, which is never below T1.
  if (t.t2 < t.t1) throw new RangeError('timers.t2 must be >= timers.t1');
  return Object.freeze(t);
}

/** 64·T1: Timers B, F, H, J (unreliable) and, per RFC 6026 §8.4/§8.7, L and M. */
export function sixtyFourT1(t: Readonly<TimerConfig>): number {
  return 64 * t.t1;
}
