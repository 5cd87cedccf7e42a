/**
 * Registration state and the refresh state machine (RFC 3261 §10.2.4 refreshing bindings,
 * RFC 5626 §4.5 retry backoff). Pure over an injected Clock and Random: the machine decides
 * when to send; the client sends.
 * @module
 */
import type { SipResponse } from '../sip/message.js';
import { parseUri, uriKey } from '../sip/uri.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Random } from '../util/random.js';

/** A binding the registrar accepted. */
export interface RegistrationState {
  aor: string;
  /** Our Contact header value as sent. */
  contact: string;
  callId: string;
  /** CSeq of the REGISTER that the 2xx answered. */
  cseq: number;
  /** Expiry granted for our Contact, seconds. */
  expires: number;
  /** When the binding lapses, ms since the epoch on the client's Clock. */
  expiresAt: number;
  /** Every Contact of the AOR listed in the 2xx, as written. */
  contacts: string[];
  response: SipResponse;
}

/**
 * When to refresh a binding granted for `granted` seconds, in ms from now.
 *
 * Rule: `max(granted / 2, granted − margin)` seconds, at least 1 s, where `margin` is seconds
 * when ≥ 1 and a fraction of `granted` when in (0, 1). RFC 3261 §10.2.4 leaves the moment to
 * the UA ("before the expiration interval"); half the interval bounds the refresh rate for short
 * grants, and the margin leaves time for a digest round trip and retransmissions (Timer F =
 * 32 s on UDP) for long ones. Examples with the default margin 60 s: 3600 → 3540 s, 300 → 240 s,
 * 60 → 30 s.
 */
export function refreshDelayMs(granted: number, margin: number): number {
  if (!(granted > 0)) throw new RangeError('granted expiry must be > 0');
  if (!(margin > 0)) throw new RangeError('refresh margin must be > 0');
  const marginS = margin < 1 ? granted * margin : margin;
  return Math.round(Math.max(1, granted / 2, granted - marginS) * 1000);
}

/** Parameters of {@link retryDelayMs} (RFC 5626 §4.5 names). */
export interface BackoffConfig {
  /** `base-time`, seconds. RFC 5626 §4.5: 30 when no flow works. Default 30. */
  baseTime: number;
  /** `max-time`, seconds. RFC 5626 §4.5: default 1800. */
  maxTime: number;
}

/** The RFC 5626 §4.5 defaults. */
export const DEFAULT_BACKOFF: Readonly<BackoffConfig> = Object.freeze({ baseTime: 30, maxTime: 1800 });

/**
 * Wait before retrying after `failures` consecutive failures (≥ 1), ms.
 * RFC 5626 §4.5: "W = min(max-time, (base-time * (2 ^ consecutive-failures)))" and the UA
 * waits "a random number of seconds between 50 and 100% of W".
 */
export function retryDelayMs(failures: number, random: Random, cfg: BackoffConfig = DEFAULT_BACKOFF): number {
  if (!Number.isInteger(failures) || failures < 1) throw new RangeError('failures must be an integer >= 1');
  const w = Math.min(cfg.maxTime, cfg.baseTime * 2 ** Math.min(failures, 30));
  const r = random.bytes(2).readUInt16BE(0) / 0xffff; // 0..1 inclusive
  return Math.round((w / 2 + (w / 2) * r) * 1000);
}

/** Phases of the {@link RefreshMachine}. */
export type RefreshPhase = 'idle' | 'waiting-refresh' | 'refreshing' | 'waiting-retry' | 'stopped';

/** Options of {@link RefreshMachine}. */
export interface RefreshMachineOptions {
  clock: Clock;
  random: Random;
  /** See {@link refreshDelayMs}. */
  refreshMargin: number;
  backoff?: BackoffConfig;
  /** Sends the refreshing REGISTER; resolves with the new state, rejects on failure (already reported by the caller). */
  refresh: () => Promise<RegistrationState>;
}

/**
 * The refresh state machine:
 *
 * ```
 * idle ──succeeded──▶ waiting-refresh ──timer──▶ refreshing ──ok──▶ waiting-refresh
 *                          ▲                        │ fail
 *                          └──ok── refreshing ◀─timer── waiting-retry ◀─┘ (backoff, RFC 5626 §4.5)
 * any ──stop──▶ stopped (timers cancelled; a refresh in flight is ignored when it ends)
 * ```
 */
export class RefreshMachine {
  private timer: TimerHandle | undefined;
  private failures = 0;
  private state: RefreshPhase = 'idle';
  /** Bumped on every transition that invalidates an in-flight refresh. */
  private epoch = 0;

  constructor(private readonly o: RefreshMachineOptions) {}

  /** Current phase. */
  get phase(): RefreshPhase {
    return this.state;
  }

  /** Consecutive failed refreshes. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** A REGISTER succeeded (initial or refresh): schedule the next refresh. */
  succeeded(reg: RegistrationState): void {
    if (this.state === 'stopped') return;
    this.failures = 0;
    this.arm('waiting-refresh', refreshDelayMs(reg.expires, this.o.refreshMargin));
  }

  /** A refresh failed: schedule a retry with backoff. */
  failed(): void {
    if (this.state === 'stopped') return;
    this.failures++;
    this.arm('waiting-retry', retryDelayMs(this.failures, this.o.random, this.o.backoff));
  }

  /** Cancels timers and returns to idle (e.g. before an explicit register or an unregister). */
  reset(): void {
    if (this.state === 'stopped') return;
    this.cancel();
    this.state = 'idle';
  }

  /** Cancels timers for good. */
  stop(): void {
    this.cancel();
    this.state = 'stopped';
  }

  private cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.epoch++;
  }

  private arm(phase: RefreshPhase, ms: number): void {
    this.cancel();
    this.state = phase;
    const epoch = this.epoch;
    this.timer = this.o.clock.setTimer(ms, () => {
      if (epoch !== this.epoch) return;
      this.timer = undefined;
      this.state = 'refreshing';
      this.o.refresh().then(
        (reg) => { if (epoch === this.epoch) this.succeeded(reg); },
        () => { if (epoch === this.epoch) this.failed(); },
      );
    });
  }
}

/**
 * The expiry granted to `contact` by a 2xx to REGISTER (RFC 3261 §10.2.4): the `expires`
 * parameter of the matching Contact, else the Expires header, else what was asked.
 */
export function grantedExpires(resp: SipResponse, contact: string, requested: number): number {
  let mine: string | undefined;
  try {
    const want = resp.contacts();
    const ours = parseContactUriKey(contact);
    if (want !== '*' && ours !== undefined) {
      for (const c of want) {
        if (uriKey(c.uri) === ours) {
          const p = c.params.get('expires');
          if (p !== undefined && p !== null) mine = p;
        }
      }
    }
  } catch {
    // A malformed Contact list in the 2xx: fall back to Expires.
  }
  if (mine !== undefined && /^[0-9]{1,10}$/.test(mine)) return Number(mine);
  let header: number | undefined;
  try {
    header = resp.expires();
  } catch {
    header = undefined;
  }
  return header ?? requested;
}

function parseContactUriKey(contact: string): string | undefined {
  const m = /^<([^>]*)>/.exec(contact);
  if (!m) return undefined;
  try {
    return uriKey(parseUri(m[1]!));
  } catch {
    return undefined;
  }
}
