/**
 * The SDES `a=crypto` attribute (RFC 4568 §9.1 grammar, §6.1 SRTP `inline:` keys): tag,
 * crypto-suite, one or more key-params and optional session-params. For a known suite
 * ({@link SRTP_SUITES}) every key is base64-decoded and split into master key and master
 * salt by the suite's lengths; a key of the wrong length, a malformed lifetime or MKI, or
 * several keys without MKIs are errors. An unknown suite is not an error (RFC 4568 §5.1.2: the
 * answerer skips what it does not support); its key-params are kept as written.
 *
 * Error messages name the fault but never echo key material.
 * @module
 */
import { SipParseError } from '../errors.js';
import { srtpSuite, type SrtpSuiteInfo } from './srtp-suites.js';

/** One SRTP master key with its policy (RFC 4568 §6.1). */
export interface SrtpKeyParam {
  /** Master key (length from the suite). */
  key: Buffer;
  /** Master salt (length from the suite). */
  salt: Buffer;
  /** Lifetime as written (`2^20` or decimal), when present. */
  lifetime?: string;
  /** Lifetime in packets, when present. */
  lifetimePackets?: number;
  /** Master Key Identifier and its length in bytes in SRTP packets, when present. */
  mki?: { value: number; length: number };
}

interface CryptoAttributeBase {
  /** Tag (RFC 4568 §4.1): unique per media description, echoed by the answer. */
  tag: number;
  /** Crypto-suite as written (compare case-insensitively, RFC 4568 §4). */
  suite: string;
  /** Session parameters as written (RFC 4568 §6.3), in order. */
  sessionParams: string[];
}

/** A crypto attribute of a known SRTP suite, keys decoded. */
export interface KnownCryptoAttribute extends CryptoAttributeBase {
  known: true;
  /** The suite's parameters. */
  info: Readonly<SrtpSuiteInfo>;
  /** One or more keys (several only with MKIs, RFC 4568 §6.1). */
  keys: SrtpKeyParam[];
}

/** A crypto attribute of a suite this codec does not know: kept, never accepted. */
export interface UnknownCryptoAttribute extends CryptoAttributeBase {
  known: false;
  /** Key-params as written. */
  keyParams: string;
}

/** A parsed `a=crypto` value. */
export type CryptoAttribute = KnownCryptoAttribute | UnknownCryptoAttribute;

const SUITE_RE = /^[A-Za-z0-9_]+$/;
const KEY_PARAM_RE = /^[A-Za-z0-9_]+:[\x21-\x3a\x3c-\x7e]+$/;
const SESSION_PARAM_RE = /^[\x21-\x7e]+$/;
const B64_CHARS_RE = /^[A-Za-z0-9+/]+={0,2}$/;
const LIFETIME_RE = /^(?:2\^(0|[1-9][0-9]?)|([1-9][0-9]{0,14}))$/;
const MKI_RE = /^(0|[1-9][0-9]{0,14}):([1-9][0-9]{0,2})$/;

/** Strict base64 (RFC 4648 §4 alphabet, optional padding); `undefined` if malformed. */
function decodeBase64(s: string): Buffer | undefined {
  if (!B64_CHARS_RE.test(s)) return undefined;
  const body = s.replace(/=+$/, '');
  if (body.length % 4 === 1) return undefined;
  if (body.length !== s.length && s.length % 4 !== 0) return undefined;
  return Buffer.from(body, 'base64');
}

/**
 * Parses SRTP key-params (`inline:<key||salt>[|lifetime][|MKI:length]`, several separated by
 * `;`) for `suite` (RFC 4568 §6.1, §9.2). Also used for `FEC_KEY=` (§6.3.5).
 */
export function parseSrtpKeyParams(keyParams: string, suite: Readonly<SrtpSuiteInfo>): SrtpKeyParam[] {
  const keys: SrtpKeyParam[] = [];
  for (const param of keyParams.split(';')) {
    const colon = param.indexOf(':');
    if (colon <= 0) throw new SipParseError('malformed a=crypto key-param');
    if (param.slice(0, colon).toLowerCase() !== 'inline') {
      // RFC 4568 §6.1: only "inline" is defined for SRTP.
      throw new SipParseError(`a=crypto key method is not "inline" (RFC 4568 §6.1)`);
    }
    const fields = param.slice(colon + 1).split('|');
    if (fields.length > 3) throw new SipParseError('malformed a=crypto inline key (too many "|" fields)');
    const raw = decodeBase64(fields[0]!);
    if (!raw) throw new SipParseError('a=crypto inline key is not valid base64');
    const want = suite.keyLength + suite.saltLength;
    if (raw.length !== want) {
      throw new SipParseError(`a=crypto inline key of ${raw.length} bytes; ${suite.name} needs ${suite.keyLength}+${suite.saltLength}`);
    }
    const k: SrtpKeyParam = { key: Buffer.from(raw.subarray(0, suite.keyLength)), salt: Buffer.from(raw.subarray(suite.keyLength)) };
    let lifetime: string | undefined;
    let mki: string | undefined;
    if (fields.length === 3) [lifetime, mki] = [fields[1], fields[2]];
    else if (fields.length === 2) {
      // The lifetime never contains a colon, the MKI always does (RFC 4568 §6.1).
      if (fields[1]!.includes(':')) mki = fields[1];
      else lifetime = fields[1];
    }
    if (lifetime !== undefined) {
      const lm = LIFETIME_RE.exec(lifetime);
      if (!lm) throw new SipParseError('malformed a=crypto key lifetime');
      const packets = lm[1] !== undefined ? 2 ** Number(lm[1]) : Number(lm[2]);
      if (packets > suite.maxLifetime) throw new SipParseError(`a=crypto key lifetime exceeds the maximum of ${suite.name}`);
      k.lifetime = lifetime;
      k.lifetimePackets = packets;
    }
    if (mki !== undefined) {
      const mm = MKI_RE.exec(mki);
      if (!mm) throw new SipParseError('malformed a=crypto MKI (expected value:length)');
      const value = Number(mm[1]);
      const length = Number(mm[2]);
      if (length > 128) throw new SipParseError('a=crypto MKI length exceeds 128 bytes');
      if (length < 7 && value >= 256 ** length) throw new SipParseError('a=crypto MKI value does not fit its length');
      k.mki = { value, length };
    }
    keys.push(k);
  }
  if (keys.length > 1) {
    // RFC 4568 §6.1: several keys all carry an MKI, all of the same length.
    if (keys.some((k) => !k.mki)) throw new SipParseError('a=crypto has several keys without MKIs');
    if (keys.some((k) => k.mki!.length !== keys[0]!.mki!.length)) throw new SipParseError('a=crypto MKI lengths differ');
    if (new Set(keys.map((k) => k.mki!.value)).size !== keys.length) throw new SipParseError('a=crypto MKI values repeat');
  }
  return keys;
}

/** Serializes one SRTP key-param (`inline:…`). */
export function formatSrtpKeyParam(k: SrtpKeyParam): string {
  let s = `inline:${Buffer.concat([k.key, k.salt]).toString('base64')}`;
  const lifetime = k.lifetime ?? (k.lifetimePackets === undefined ? undefined : String(k.lifetimePackets));
  if (lifetime !== undefined) s += `|${lifetime}`;
  if (k.mki) s += `|${k.mki.value}:${k.mki.length}`;
  return s;
}

/** Checks the SRTP session parameters whose syntax RFC 4568 §6.3 and §9.2 define. */
function checkSessionParam(p: string, suite: Readonly<SrtpSuiteInfo>): void {
  const eq = p.indexOf('=');
  const name = (eq < 0 ? p : p.slice(0, eq)).toUpperCase();
  const value = eq < 0 ? undefined : p.slice(eq + 1);
  switch (name) {
    case 'KDR':
      // RFC 4568 §6.3.1, §9.2: 1*2DIGIT, a power of two up to 2^24.
      if (value === undefined || !/^(?:0|[1-9][0-9]?)$/.test(value) || Number(value) > 24) throw new SipParseError('malformed a=crypto KDR');
      return;
    case 'UNENCRYPTED_SRTP':
    case 'UNENCRYPTED_SRTCP':
    case 'UNAUTHENTICATED_SRTP':
      if (value !== undefined) throw new SipParseError(`a=crypto ${name} takes no value`);
      return;
    case 'FEC_ORDER':
      if (value === undefined || !/^(?:FEC_SRTP|SRTP_FEC)$/i.test(value)) throw new SipParseError('malformed a=crypto FEC_ORDER');
      return;
    case 'FEC_KEY':
      if (value === undefined || !value.split(';').every((x) => KEY_PARAM_RE.test(x))) throw new SipParseError('malformed a=crypto FEC_KEY');
      parseSrtpKeyParams(value, suite);
      return;
    case 'WSH':
      // RFC 4568 §6.3.6: decimal, minimum 64.
      if (value === undefined || !/^[1-9][0-9]{1,9}$/.test(value) || Number(value) < 64) throw new SipParseError('malformed a=crypto WSH');
      return;
    default:
      // Extensions (RFC 4568 §6.3.7) are syntactically free; the answerer decides.
      return;
  }
}

/** Parses an `a=crypto` value (RFC 4568 §9.1; SRTP rules of §9.2 for known suites). */
export function parseCryptoAttribute(value: string): CryptoAttribute {
  // 1*WSP separates the fields; tolerate trailing whitespace, not leading.
  const parts = value.replace(/[ \t]+$/, '').split(/[ \t]+/);
  if (parts.length < 3) throw new SipParseError('a=crypto needs a tag, a crypto-suite and key-params');
  const [tagText, suite, keyParams] = parts as [string, string, string];
  // RFC 4568 §4.1, §9.1: 1*9DIGIT without leading zeros.
  if (!/^(?:0|[1-9][0-9]{0,8})$/.test(tagText)) throw new SipParseError('malformed a=crypto tag');
  if (!SUITE_RE.test(suite)) throw new SipParseError('malformed a=crypto crypto-suite');
  if (!keyParams.split(';').every((p) => KEY_PARAM_RE.test(p))) throw new SipParseError('malformed a=crypto key-params');
  const sessionParams = parts.slice(3);
  if (!sessionParams.every((p) => SESSION_PARAM_RE.test(p))) throw new SipParseError('malformed a=crypto session-param');
  const tag = Number(tagText);
  const info = srtpSuite(suite);
  if (!info) return { tag, suite, known: false, keyParams, sessionParams };
  const keys = parseSrtpKeyParams(keyParams, info);
  for (const p of sessionParams) checkSessionParam(p, info);
  return { tag, suite, known: true, info, keys, sessionParams };
}

/** Serializes a {@link CryptoAttribute} to an `a=crypto` value. */
export function formatCryptoAttribute(c: CryptoAttribute): string {
  const keyParams = c.known ? c.keys.map(formatSrtpKeyParam).join(';') : c.keyParams;
  return [String(c.tag), c.suite, keyParams, ...c.sessionParams].join(' ');
}
