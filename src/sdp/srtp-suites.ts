/**
 * SRTP crypto suites known to the SDES codec (IANA "SRTP Crypto Suite Registrations"): the
 * master key and salt lengths that split an `inline:` key, and whether Sipher negotiates
 * the suite. Suites not listed here are "unknown": parsed generically, never an error, and
 * skipped by an answerer (RFC 4568 §5.1.2: only valid, supported attributes are accepted).
 * @module
 */

/** Names of the suites in {@link SRTP_SUITES}. */
export type SrtpSuiteName =
  | 'AES_CM_128_HMAC_SHA1_80'
  | 'AES_CM_128_HMAC_SHA1_32'
  | 'F8_128_HMAC_SHA1_80'
  | 'AES_192_CM_HMAC_SHA1_80'
  | 'AES_192_CM_HMAC_SHA1_32'
  | 'AES_256_CM_HMAC_SHA1_80'
  | 'AES_256_CM_HMAC_SHA1_32'
  | 'AEAD_AES_128_GCM'
  | 'AEAD_AES_256_GCM';

/** How Sipher treats a known suite when answering. */
export type SrtpSuiteStatus =
  /** Negotiated when the caller's policy lists it. */
  | 'supported'
  /** Never accepted: a weak or deprecated transform. */
  | 'weak'
  /** Well-formed but not implemented by the SRTP layer. */
  | 'unsupported';

/** Parameters of one suite. */
export interface SrtpSuiteInfo {
  name: SrtpSuiteName;
  /** Master key length in bytes. */
  keyLength: number;
  /** Master salt length in bytes. */
  saltLength: number;
  /** Largest key lifetime in packets (`inline:…|lifetime`). */
  maxLifetime: number;
  status: SrtpSuiteStatus;
  /** Where the suite is defined. */
  reference: string;
}

const L48 = 2 ** 48;

/** The known suites. */
export const SRTP_SUITES: Readonly<Record<SrtpSuiteName, Readonly<SrtpSuiteInfo>>> = Object.freeze({
  // RFC 4568 §6.2.1–§6.2.3: 128-bit key, 112-bit salt, 2^48 SRTP packets.
  AES_CM_128_HMAC_SHA1_80: { name: 'AES_CM_128_HMAC_SHA1_80', keyLength: 16, saltLength: 14, maxLifetime: L48, status: 'supported', reference: 'RFC 4568 §6.2.1' },
  AES_CM_128_HMAC_SHA1_32: { name: 'AES_CM_128_HMAC_SHA1_32', keyLength: 16, saltLength: 14, maxLifetime: L48, status: 'supported', reference: 'RFC 4568 §6.2.2' },
  // F8 mode: registered but unsupported by every current SRTP stack; treated as weak.
  F8_128_HMAC_SHA1_80: { name: 'F8_128_HMAC_SHA1_80', keyLength: 16, saltLength: 14, maxLifetime: L48, status: 'weak', reference: 'RFC 4568 §6.2.3' },
  // RFC 6188 §5 (SDES registration): AES-192/256 counter mode, 112-bit salt.
  AES_192_CM_HMAC_SHA1_80: { name: 'AES_192_CM_HMAC_SHA1_80', keyLength: 24, saltLength: 14, maxLifetime: L48, status: 'unsupported', reference: 'RFC 6188 §5' },
  AES_192_CM_HMAC_SHA1_32: { name: 'AES_192_CM_HMAC_SHA1_32', keyLength: 24, saltLength: 14, maxLifetime: L48, status: 'unsupported', reference: 'RFC 6188 §5' },
  AES_256_CM_HMAC_SHA1_80: { name: 'AES_256_CM_HMAC_SHA1_80', keyLength: 32, saltLength: 14, maxLifetime: L48, status: 'unsupported', reference: 'RFC 6188 §5' },
  AES_256_CM_HMAC_SHA1_32: { name: 'AES_256_CM_HMAC_SHA1_32', keyLength: 32, saltLength: 14, maxLifetime: L48, status: 'unsupported', reference: 'RFC 6188 §5' },
  // RFC 7714 §12: AEAD suites carry a 96-bit salt.
  AEAD_AES_128_GCM: { name: 'AEAD_AES_128_GCM', keyLength: 16, saltLength: 12, maxLifetime: L48, status: 'supported', reference: 'RFC 7714 §12, §14.1' },
  AEAD_AES_256_GCM: { name: 'AEAD_AES_256_GCM', keyLength: 32, saltLength: 12, maxLifetime: L48, status: 'supported', reference: 'RFC 7714 §12, §14.1' },
});

/**
 * Suites offered and accepted by default, strongest first (RFC 4568 §5.1.1: the most
 * preferred crypto line is listed first). SPEC PEER-2 requires these three of the SRTP layer;
 * `AEAD_AES_256_GCM` is known and may be enabled through the `suites` option.
 */
export const DEFAULT_SRTP_SUITES: readonly SrtpSuiteName[] = Object.freeze([
  'AEAD_AES_128_GCM',
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
] as const);

/** The suite of that name (case-insensitive, RFC 4568 §4), or `undefined` if unknown. */
export function srtpSuite(name: string): Readonly<SrtpSuiteInfo> | undefined {
  const key = name.toUpperCase();
  return Object.prototype.hasOwnProperty.call(SRTP_SUITES, key) ? SRTP_SUITES[key as SrtpSuiteName] : undefined;
}

/** True if the suite name designates a NULL (unencrypted or unauthenticated) transform. */
export function isNullSuite(name: string): boolean {
  return /NULL/i.test(name);
}
