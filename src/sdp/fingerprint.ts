/**
 * The `a=fingerprint` attribute (RFC 8122 §5): the hash of the certificate an endpoint will
 * present on the TLS connection a media description sets up, written as a hash function name
 * and upper-case hex byte pairs separated by colons. Several fingerprints may be given, one
 * per hash function (RFC 8122 §5.1).
 * @module
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError, SipParseError } from '../errors.js';

/** Hash functions of the RFC 8122 §5 grammar. */
export type FingerprintHashName = 'sha-1' | 'sha-224' | 'sha-256' | 'sha-384' | 'sha-512' | 'md5' | 'md2';

/** Hash functions Sipher computes and accepts from a peer. */
export type AcceptedFingerprintHash = 'sha-1' | 'sha-256' | 'sha-384' | 'sha-512';

/** One certificate fingerprint. */
export interface Fingerprint {
  /** Hash function name, lower-cased (an unknown token is kept). */
  hash: string;
  /** The digest bytes. */
  value: Buffer;
}

/** Digest length in bytes of each named hash function. */
const DIGEST_LENGTHS: Readonly<Record<FingerprintHashName, number>> = {
  'sha-1': 20, 'sha-224': 28, 'sha-256': 32, 'sha-384': 48, 'sha-512': 64, md5: 16, md2: 16,
};

/**
 * Hash functions accepted from a peer by default, strongest first. MD2 and MD5 are refused
 * (RFC 8122 §5: they MUST NOT be used); SHA-1 is still accepted on input for old peers.
 */
export const ACCEPTED_FINGERPRINT_HASHES: readonly AcceptedFingerprintHash[] = Object.freeze(['sha-256', 'sha-384', 'sha-512', 'sha-1'] as const);

const NODE_HASH: Readonly<Record<AcceptedFingerprintHash, string>> = { 'sha-1': 'sha1', 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' };

const FINGERPRINT_RE = /^([A-Za-z0-9!#$%&'*+\-.^_`{|}~]+) ([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})*)$/;

/**
 * Parses an `a=fingerprint` value (RFC 8122 §5). Hex digits are accepted in either case on
 * input (the grammar says upper case; several stacks send lower case); a known hash function
 * must have its digest length.
 */
export function parseFingerprint(value: string): Fingerprint {
  const m = FINGERPRINT_RE.exec(value.replace(/[ \t]+$/, ''));
  if (!m) throw new SipParseError('malformed a=fingerprint (expected hash-func SP XX:XX:…)');
  const hash = m[1]!.toLowerCase();
  const bytes = Buffer.from(m[2]!.replace(/:/g, ''), 'hex');
  const want = (DIGEST_LENGTHS as Record<string, number | undefined>)[hash];
  if (want !== undefined && bytes.length !== want) throw new SipParseError(`a=fingerprint of ${bytes.length} bytes; ${hash} digests are ${want}`);
  return { hash, value: bytes };
}

/** Upper-case hex pairs separated by colons (RFC 8122 §5). */
export function fingerprintHex(value: Uint8Array): string {
  return Buffer.from(value).toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

/** Serializes a {@link Fingerprint} to an `a=fingerprint` value. */
export function formatFingerprint(fp: Fingerprint): string {
  return `${fp.hash} ${fingerprintHex(fp.value)}`;
}

/**
 * The fingerprint of a DER-encoded certificate (RFC 8122 §5: the hash over the DER form of
 * the certificate). SHA-256 by default (RFC 8122 §5: the one every endpoint must support).
 */
export function computeFingerprint(der: Uint8Array, hash: AcceptedFingerprintHash = 'sha-256'): Fingerprint {
  const alg = (NODE_HASH as Record<string, string | undefined>)[hash];
  if (alg === undefined) throw new InvalidArgumentError(`unsupported fingerprint hash ${String(hash)}`);
  if (!(der instanceof Uint8Array) || der.length === 0) throw new InvalidArgumentError('certificate must be non-empty DER bytes');
  return { hash, value: createHash(alg).update(der).digest() };
}

/** True if `fp` is the fingerprint of the DER certificate `der` (false for a hash Sipher does not compute). */
export function fingerprintMatches(der: Uint8Array, fp: Fingerprint): boolean {
  const alg = (NODE_HASH as Record<string, string | undefined>)[fp.hash];
  if (alg === undefined) return false;
  return createHash(alg).update(der).digest().equals(fp.value);
}

/** True if `hash` is one of `accepted` (default {@link ACCEPTED_FINGERPRINT_HASHES}). */
export function isAcceptedFingerprintHash(hash: string, accepted: readonly string[] = ACCEPTED_FINGERPRINT_HASHES): boolean {
  return accepted.includes(hash);
}
