/**
 * Which offered `a=crypto` lines an answerer may accept (RFC 4568 §5.1.2, §7.1.2): only valid
 * lines of a suite the local policy allows, without session parameters that weaken SRTP or
 * that Sipher does not implement. The first acceptable line in the offer's order wins.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import type { CryptoAttribute } from './crypto-attribute.js';
import { isNullSuite, SRTP_SUITES, srtpSuite, type SrtpSuiteName } from './srtp-suites.js';

/** The verdict on one offered crypto line. */
export type CryptoVerdict = { ok: true; suite: SrtpSuiteName } | { ok: false; reason: string };

/** Checks a policy list: every name must be a known, supported suite, without repeats. */
export function checkSuitePolicy(suites: readonly string[]): SrtpSuiteName[] {
  if (!Array.isArray(suites) || suites.length === 0) throw new InvalidArgumentError('suites must list at least one SRTP crypto suite');
  const out: SrtpSuiteName[] = [];
  for (const s of suites) {
    const info = typeof s === 'string' ? srtpSuite(s) : undefined;
    if (!info || info.name !== s) throw new InvalidArgumentError(`unknown SRTP crypto suite ${JSON.stringify(s)}`);
    if (info.status !== 'supported') throw new InvalidArgumentError(`SRTP crypto suite ${s} is ${info.status} and cannot be negotiated`);
    if (out.includes(info.name)) throw new InvalidArgumentError(`SRTP crypto suite ${s} listed twice`);
    out.push(info.name);
  }
  return out;
}

/** Session parameters that switch SRTP protection off (RFC 4568 §6.3.2, §6.3.3). */
const WEAKENING = new Set(['UNENCRYPTED_SRTP', 'UNENCRYPTED_SRTCP', 'UNAUTHENTICATED_SRTP']);

/** Judges one offered crypto line against the allowed suites. */
export function assessCrypto(c: CryptoAttribute, allowed: readonly SrtpSuiteName[]): CryptoVerdict {
  const label = `tag ${c.tag} ${c.suite}`;
  if (!c.known) return { ok: false, reason: `${label}: ${isNullSuite(c.suite) ? 'weak (NULL transform)' : 'unknown suite'}` };
  const info = SRTP_SUITES[c.info.name];
  if (info.status === 'weak') return { ok: false, reason: `${label}: weak suite` };
  if (!allowed.includes(info.name)) {
    return { ok: false, reason: `${label}: ${info.status === 'unsupported' ? 'not supported' : 'not allowed by policy'}` };
  }
  for (const p of c.sessionParams) {
    const name = p.split('=')[0]!.toUpperCase().slice(0, 32);
    if (WEAKENING.has(name)) return { ok: false, reason: `${label}: weak (${name})` };
    // Key derivation rates and separately keyed FEC are not implemented by the SRTP layer
    // (RFC 4568 §7.1.2: a policy that prohibits a session parameter rejects the line).
    if (name === 'KDR' || name === 'FEC_KEY') return { ok: false, reason: `${label}: ${name} not supported` };
    // FEC_ORDER and WSH are declarative hints; "-" marks an optional extension (RFC 4568 §6.3.7).
    if (name === 'FEC_ORDER' || name === 'WSH' || p.startsWith('-')) continue;
    return { ok: false, reason: `${label}: unknown mandatory session parameter ${name} (RFC 4568 §6.3.7)` };
  }
  return { ok: true, suite: info.name };
}
