/**
 * Digest nonces that verify without server state, plus bounded state for replay protection
 * (RFC 7616 §3.3 nonce, §3.4.5 nonce count, §5.4–§5.5 replay).
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../util/clock.js';
import type { Random } from '../util/random.js';

/** Outcome of {@link NonceManager.inspect}. */
export type NonceState = 'ok' | 'stale' | 'invalid';

/** Outcome of {@link NonceManager.check}. */
export type NonceCheck = NonceState | 'replay';

/** Options of {@link NonceManager}. */
export interface NonceManagerOptions {
  clock: Clock;
  random: Random;
  /**
   * HMAC key (at least 16 bytes). Default: 32 fresh random bytes, so nonces do not survive a
   * restart and are not shared between instances; pass a shared secret for a cluster.
   */
  secret?: Buffer;
  /** How long a nonce is accepted, in ms. Default 300_000 (5 minutes). */
  lifetimeMs?: number;
  /** How many nonces have their nonce count tracked. Default 100_000. */
  maxTracked?: number;
  /**
   * How far in the future (ms) an issue time may lie, for peers sharing the secret whose clocks
   * differ slightly. Default 2_000.
   */
  maxSkewMs?: number;
}

const TS_LEN = 8;
const RAND_LEN = 16;
const MAC_LEN = 32;
const NONCE_LEN = TS_LEN + RAND_LEN + MAC_LEN;
const NONCE_RE = /^[A-Za-z0-9_-]+$/;

interface Tracked {
  issuedAt: number;
  /** Highest nc accepted so far; 0 before the first use. */
  highestNc: number;
  /** The nonce was used once without qop (RFC 2069 form): it may not be used again. */
  usedWithoutQop: boolean;
}

/**
 * Issues and checks Digest nonces.
 *
 * A nonce is base64url(issue time (8 bytes, ms, big-endian) ‖ 16 random bytes ‖
 * HMAC-SHA256(secret, time ‖ random)) — 75 characters, RFC 7616 §3.3's "timestamp plus keyed
 * hash" construction. Validity and age are checked from the nonce alone; only the nonce count
 * needs state, kept in a map bounded by `maxTracked` that evicts the oldest entry first.
 */
export class NonceManager {
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly secret: Buffer;
  /** Accepted nonce age in ms. */
  readonly lifetimeMs: number;
  private readonly maxTracked: number;
  private readonly maxSkewMs: number;
  /** nonce → state, in insertion (first use) order so the first key is the oldest. */
  private readonly tracked = new Map<string, Tracked>();
  /** Latest issue time of any evicted nonce: untracked nonces issued up to it may have been used. */
  private evictedUpTo = -Infinity;

  /** @throws RangeError on a secret shorter than 16 bytes or a non-positive limit. */
  constructor(opts: NonceManagerOptions) {
    this.clock = opts.clock;
    this.random = opts.random;
    this.secret = opts.secret ?? opts.random.bytes(32);
    this.lifetimeMs = opts.lifetimeMs ?? 300_000;
    this.maxTracked = opts.maxTracked ?? 100_000;
    this.maxSkewMs = opts.maxSkewMs ?? 2_000;
    if (this.secret.length < 16) throw new RangeError('nonce secret must be at least 16 bytes');
    if (!(this.lifetimeMs > 0)) throw new RangeError('lifetimeMs must be positive');
    if (!Number.isInteger(this.maxTracked) || this.maxTracked < 1) throw new RangeError('maxTracked must be a positive integer');
    if (!(this.maxSkewMs >= 0)) throw new RangeError('maxSkewMs must not be negative');
  }

  /** Number of nonces whose nonce count is tracked (at most `maxTracked`). */
  get trackedCount(): number {
    return this.tracked.size;
  }

  /** A fresh nonce (base64url, 75 characters). */
  issue(): string {
    const body = Buffer.alloc(TS_LEN + RAND_LEN);
    body.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(this.clock.now()))), 0);
    this.random.bytes(RAND_LEN).copy(body, TS_LEN);
    return Buffer.concat([body, this.mac(body)]).toString('base64url');
  }

  /**
   * Checks a nonce without changing any state: `invalid` if it was not issued with this secret,
   * `stale` if older than the lifetime (RFC 7616 §3.3: answer with `stale=true`), else `ok`.
   */
  inspect(nonce: string): NonceState {
    const issuedAt = this.issuedAt(nonce);
    if (issuedAt === undefined) return 'invalid';
    return this.isFresh(issuedAt) ? 'ok' : 'stale';
  }

  /**
   * Checks a nonce and records its use. `nc` is the nonce count of a request with qop, or
   * undefined for the RFC 2069 form without qop.
   *
   * - `invalid`: bad MAC or format.
   * - `stale`: older than the lifetime, or dropped from tracking while still in its lifetime
   *   (the client must fetch a fresh nonce rather than get a replay window).
   * - `replay`: RFC 7616 §3.4.5 — nc not greater than the highest seen for this nonce, or a
   *   second use of a nonce first used without qop, or a no-qop use of a counted nonce.
   *
   * Call it only after the request digest verified, or a forger could burn nonce counts.
   */
  check(nonce: string, nc: number | undefined): NonceCheck {
    const issuedAt = this.issuedAt(nonce);
    if (issuedAt === undefined) return 'invalid';
    if (!this.isFresh(issuedAt)) return 'stale';
    const entry = this.tracked.get(nonce);
    if (entry === undefined) {
      // Not tracked: either never used, or evicted. If it might have been evicted, refuse it
      // as stale so the client starts over with a fresh nonce instead of replaying.
      if (issuedAt <= this.evictedUpTo) return 'stale';
      if (nc !== undefined && !(nc >= 1)) return 'replay';
      this.insert(nonce, { issuedAt, highestNc: nc ?? 0, usedWithoutQop: nc === undefined });
      return 'ok';
    }
    // RFC 7616 §3.4.5: the nonce count must strictly increase for each reuse of a nonce;
    // RFC 2617 §3.2.2: without qop there is no count, so a nonce is good for one request only.
    if (nc === undefined || entry.usedWithoutQop || !(nc > entry.highestNc)) return 'replay';
    entry.highestNc = nc;
    return 'ok';
  }

  private insert(nonce: string, entry: Tracked): void {
    for (;;) {
      const oldest = this.tracked.entries().next().value;
      if (oldest === undefined) break;
      // Drop the oldest while the map is full, and expired heads anyway (they answer 'stale'
      // from their timestamp alone). Either way, raise the watermark past it.
      if (this.tracked.size < this.maxTracked && this.isFresh(oldest[1].issuedAt)) break;
      this.tracked.delete(oldest[0]);
      this.evictedUpTo = Math.max(this.evictedUpTo, oldest[1].issuedAt);
    }
    this.tracked.set(nonce, entry);
  }

  private isFresh(issuedAt: number): boolean {
    const age = this.clock.now() - issuedAt;
    return age <= this.lifetimeMs && age >= -this.maxSkewMs;
  }

  /** The issue time of a nonce made with this secret, or undefined. */
  private issuedAt(nonce: string): number | undefined {
    if (nonce.length !== Math.ceil((NONCE_LEN * 4) / 3) || !NONCE_RE.test(nonce)) return undefined;
    const raw = Buffer.from(nonce, 'base64url');
    // Canonical encoding only, so one nonce has one spelling (the tracking map is keyed by it).
    if (raw.length !== NONCE_LEN || raw.toString('base64url') !== nonce) return undefined;
    const body = raw.subarray(0, TS_LEN + RAND_LEN);
    if (!timingSafeEqual(this.mac(body), raw.subarray(TS_LEN + RAND_LEN))) return undefined;
    return Number(raw.readBigUInt64BE(0));
  }

  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(body).digest();
  }
}
