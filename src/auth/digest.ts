/**
 * The Digest hash computations: HA1, HA2 and the request digest for MD5, SHA-256 and their
 * `-sess` variants (RFC 7616 §3.4.1–§3.4.3, RFC 8760 for SIP, RFC 2617 §3.2.2 and the RFC
 * 2069 form without qop), plus a constant-time comparison of the result.
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** The Digest algorithms Sipher computes (RFC 7616 §3.3 `algorithm`, RFC 8760 §2). */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

/** Every {@link DigestAlgorithm}, strongest first. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess'];

/** The qop values Sipher understands (RFC 7616 §3.4). */
export type DigestQop = 'auth' | 'auth-int';

const NODE_HASH: Record<DigestAlgorithm, string> = {
  MD5: 'md5',
  'MD5-sess': 'md5',
  'SHA-256': 'sha256',
  'SHA-256-sess': 'sha256',
};

/**
 * Maps an `algorithm` parameter to a {@link DigestAlgorithm}, case-insensitively.
 * RFC 7616 §3.3 / RFC 3261 §22.4: an absent algorithm means `MD5`.
 * @returns undefined for an algorithm Sipher does not support.
 */
export function parseAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return 'MD5';
  const v = value.toUpperCase();
  return DIGEST_ALGORITHMS.find((a) => a.toUpperCase() === v);
}

/** The algorithm without its `-sess` suffix: the one HA1 is stored under. */
export function baseAlgorithm(alg: DigestAlgorithm): 'MD5' | 'SHA-256' {
  return alg === 'MD5' || alg === 'MD5-sess' ? 'MD5' : 'SHA-256';
}

/** Length in hex characters of a digest made with `alg` (32 for MD5, 64 for SHA-256). */
export function digestHexLength(alg: DigestAlgorithm): number {
  return baseAlgorithm(alg) === 'MD5' ? 32 : 64;
}

/** RFC 7616 §3.4: H(data), lower-case hex. Strings are hashed as UTF-8 (RFC 7616 §3.4.4). */
export function hashHex(alg: DigestAlgorithm, data: string | Buffer): string {
  return createHash(NODE_HASH[alg]).update(data).digest('hex');
}

/**
 * The stored HA1 = H(username ":" realm ":" password), lower-case hex (RFC 7616 §3.4.2).
 * For a `-sess` algorithm this is the same base value; {@link computeResponse} folds in nonce
 * and cnonce, so one stored HA1 per hash function serves both variants.
 */
export function computeHa1(alg: DigestAlgorithm, username: string, realm: string, password: string): string {
  return hashHex(alg, `${username}:${realm}:${password}`);
}

/**
 * Formats a nonce count as RFC 7616 §3.4 `nc`: 8 lower-case hex digits.
 * @throws RangeError if `n` is not an integer in 0..0xffffffff.
 */
export function formatNonceCount(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`nonce count out of range: ${n}`);
  return n.toString(16).padStart(8, '0');
}

/** Inputs of {@link computeResponse}. */
export interface ResponseInput {
  alg: DigestAlgorithm;
  /** The base HA1 (hex) from {@link computeHa1}, for `-sess` too. */
  ha1: string;
  /** The request method, e.g. `REGISTER`. */
  method: string;
  /** The `uri` parameter exactly as the client sent it (RFC 3261 §22.4). */
  uri: string;
  nonce: string;
  /** Omit for the RFC 2069 form. Only then may `nc` and `cnonce` be absent. */
  qop?: DigestQop;
  /** Nonce count: a string is hashed verbatim (as the client sent it); a number is formatted. */
  nc?: string | number;
  cnonce?: string;
  /** The message body for `auth-int`; default empty. */
  body?: string | Buffer;
}

/**
 * The request digest, lower-case hex.
 *
 * - RFC 7616 §3.4.1: with qop, `KD(HA1, nonce:nc:cnonce:qop:HA2)`.
 * - RFC 2617 §3.2.2.1 / RFC 2069: without qop, `KD(HA1, nonce:HA2)`.
 * - RFC 7616 §3.4.2: `-sess` uses `H(HA1:nonce:cnonce)` as HA1.
 * - RFC 7616 §3.4.3: HA2 = `H(method:uri)`, or `H(method:uri:H(body))` for `auth-int`.
 *
 * @throws TypeError if qop is given without nc and cnonce, or a `-sess` algorithm without cnonce.
 */
export function computeResponse(input: ResponseInput): string {
  const { alg, method, uri, nonce, qop } = input;
  const nc = typeof input.nc === 'number' ? formatNonceCount(input.nc) : input.nc;
  const cnonce = input.cnonce;
  if (qop !== undefined && (nc === undefined || cnonce === undefined)) {
    throw new TypeError('qop requires nc and cnonce');
  }
  let ha1 = input.ha1;
  if (alg.endsWith('-sess')) {
    if (cnonce === undefined) throw new TypeError(`${alg} requires cnonce`);
    ha1 = hashHex(alg, `${ha1}:${nonce}:${cnonce}`); // RFC 7616 §3.4.2
  }
  const ha2 =
    qop === 'auth-int'
      ? hashHex(alg, `${method}:${uri}:${hashHex(alg, input.body ?? '')}`)
      : hashHex(alg, `${method}:${uri}`);
  if (qop === undefined) return hashHex(alg, `${ha1}:${nonce}:${ha2}`); // RFC 2069 form
  return hashHex(alg, `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
}

/**
 * Compares two hex digests in constant time (for equal lengths), case-insensitively.
 * A length mismatch returns false at once: lengths are public (fixed per algorithm).
 */
export function timingSafeEqualHex(expected: string, received: string): boolean {
  const a = Buffer.from(expected.toLowerCase(), 'latin1');
  const b = Buffer.from(received.toLowerCase(), 'latin1');
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/**
 * Recomputes the request digest and compares it with the client's `response` in constant time
 * (`crypto.timingSafeEqual`). Returns true when they match.
 */
export function verifyCredentials(input: ResponseInput & { response: string }): boolean {
  return timingSafeEqualHex(computeResponse(input), input.response);
}
