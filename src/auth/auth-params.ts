/**
 * The text form of Digest challenges and credentials: parsing a `WWW-Authenticate`,
 * `Proxy-Authenticate`, `Authorization` or `Proxy-Authorization` value into a scheme and its
 * parameters, and building those values back (RFC 3261 §20.27, §20.28, §20.7, §20.44,
 * §25.1; RFC 7616 §3.3, §3.4).
 * @module
 */
import { InvalidArgumentError, SipParseError } from '../errors.js';
import { isToken, isWsp, readQuoted } from '../sip/lexer.js';
import { formatNonceCount, type DigestAlgorithm } from './digest.js';

/** A parsed challenge or credentials value: the auth scheme and its parameters. */
export interface AuthHeaderValue {
  /** The auth scheme as written (e.g. `Digest`); compare it case-insensitively. */
  scheme: string;
  /** Parameters in order of appearance: lower-cased name → unquoted, unescaped value. */
  params: Map<string, string>;
}

const WHAT = 'auth header';

/** SP, HTAB, CR, LF: header values may still carry folded LWS (RFC 3261 §25.1 `LWS`). */
function isLws(c: number): boolean {
  return isWsp(c) || c === 0x0d || c === 0x0a;
}

function skipLws(s: string, i: number): number {
  while (i < s.length && isLws(s.charCodeAt(i))) i++;
  return i;
}

/**
 * Reads a run of characters up to LWS, `,` or `"` (and `=` unless `allowEquals`): a name, or an
 * unquoted value.
 */
function readWord(s: string, i: number, allowEquals = false): { word: string; end: number } {
  let j = i;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (isLws(c) || c === 0x2c || c === 0x22 || (c === 0x3d && !allowEquals)) break;
    j++;
  }
  return { word: s.slice(i, j), end: j };
}

/**
 * Parses a challenge or credentials value such as
 * `Digest username="bob", realm="x", nonce="…", uri="sip:x", response="…", qop=auth, nc=00000001`.
 *
 * RFC 3261 §25.1 grammar (`challenge`, `credentials`, `auth-param`): the scheme is a token
 * followed by LWS and a comma-separated list of `name = (token / quoted-string)`. Parameter
 * names are lower-cased; quoted strings are unquoted and their quoted-pairs unescaped. LWS
 * (including folded CRLF + whitespace) is accepted around every separator, and empty list
 * elements (`a=1, , b=2`) are skipped as RFC 7230 §7 asks of recipients.
 *
 * Only one challenge or credentials per value is supported: SIP carries each in its own
 * header field (RFC 3261 §20.27).
 *
 * @throws SipParseError on an empty value, a scheme without parameters, a missing `=`, a
 *   missing value, an unterminated quoted string, a bad name, or a duplicated parameter
 *   (RFC 7235 §2.1: each parameter name occurs once).
 */
export function parseAuthValue(value: string): AuthHeaderValue {
  let i = skipLws(value, 0);
  const scheme = readWord(value, i);
  if (scheme.word.length === 0) throw new SipParseError(`Empty ${WHAT}`);
  if (!isToken(scheme.word)) throw new SipParseError(`Bad auth scheme in ${WHAT}`);
  i = scheme.end;
  if (i < value.length && !isLws(value.charCodeAt(i))) throw new SipParseError(`Bad auth scheme in ${WHAT}`);

  const params = new Map<string, string>();
  for (;;) {
    i = skipLws(value, i);
    if (i >= value.length) break;
    if (value.charCodeAt(i) === 0x2c) {
      i++; // empty list element
      continue;
    }
    const name = readWord(value, i);
    if (!isToken(name.word)) throw new SipParseError(`Bad parameter name in ${WHAT}`);
    i = skipLws(value, name.end);
    if (value.charCodeAt(i) !== 0x3d) throw new SipParseError(`Missing '=' after ${name.word} in ${WHAT}`);
    i = skipLws(value, i + 1);
    let v: string;
    if (value.charCodeAt(i) === 0x22) {
      const q = readQuoted(value, i, WHAT); // RFC 3261 §25.1 quoted-pair unescaped here
      v = q.text;
      i = q.end;
    } else {
      // Tolerant: old UAs send unquoted values that are not strict tokens (`uri=sip:x`, base64).
      const w = readWord(value, i, true);
      if (w.word.length === 0) throw new SipParseError(`Missing value for ${name.word} in ${WHAT}`);
      v = w.word;
      i = w.end;
    }
    const key = name.word.toLowerCase();
    // RFC 7235 §2.1: a parameter name occurs only once; refuse rather than guess which wins.
    if (params.has(key)) throw new SipParseError(`Duplicate parameter ${key} in ${WHAT}`);
    params.set(key, v);
    i = skipLws(value, i);
    if (i < value.length && value.charCodeAt(i) !== 0x2c) {
      throw new SipParseError(`Expected ',' after ${name.word} in ${WHAT}`);
    }
    i++;
  }
  if (params.size === 0) throw new SipParseError(`No parameters in ${WHAT}`);
  return { scheme: scheme.word, params };
}

/**
 * Quotes `s` as an RFC 3261 §25.1 quoted-string, escaping `"` and `\` as quoted-pairs.
 * @throws InvalidArgumentError if `s` contains CR, LF or NUL (they cannot be carried and would
 *   allow header injection).
 */
export function quoteString(s: string): string {
  if (/[\r\n\0]/.test(s)) throw new InvalidArgumentError('CR, LF or NUL in a quoted auth parameter');
  return '"' + s.replace(/(["\\])/g, '\\$1') + '"';
}

function tokenValue(name: string, v: string): string {
  if (!isToken(v)) throw new InvalidArgumentError(`${name} must be a token`);
  return v;
}

/** The parameters of a Digest challenge (`WWW-Authenticate` / `Proxy-Authenticate`). */
export interface DigestChallengeParams {
  realm: string;
  nonce: string;
  /** Sent unquoted (RFC 7616 §3.3). Omitted when undefined (the peer then assumes MD5). */
  algorithm?: DigestAlgorithm;
  /** qop-options, sent quoted, e.g. `["auth"]` → `qop="auth"` (RFC 3261 §25.1 `qop-options`). */
  qop?: readonly string[];
  /** When true, `stale=true` is sent unquoted (RFC 7616 §3.3); false or undefined omits it. */
  stale?: boolean;
  /** Sent quoted. */
  opaque?: string;
  /** Space-separated URIs, sent quoted (RFC 7616 §3.3 `domain`). */
  domain?: string;
}

/**
 * Builds a `WWW-Authenticate` or `Proxy-Authenticate` value (without the header name):
 * `Digest realm="…", nonce="…", algorithm=SHA-256, qop="auth"` (+ `stale=true`).
 *
 * RFC 7616 §3.3: realm, domain, nonce, opaque and qop are quoted strings; algorithm and stale
 * are tokens.
 */
export function formatChallenge(c: DigestChallengeParams): string {
  const parts = [`realm=${quoteString(c.realm)}`];
  if (c.domain !== undefined) parts.push(`domain=${quoteString(c.domain)}`);
  parts.push(`nonce=${quoteString(c.nonce)}`);
  if (c.opaque !== undefined) parts.push(`opaque=${quoteString(c.opaque)}`);
  if (c.stale) parts.push('stale=true');
  if (c.algorithm !== undefined) parts.push(`algorithm=${tokenValue('algorithm', c.algorithm)}`);
  if (c.qop !== undefined && c.qop.length > 0) {
    parts.push(`qop=${quoteString(c.qop.map((q) => tokenValue('qop', q)).join(','))}`);
  }
  return 'Digest ' + parts.join(', ');
}

/** The parameters of Digest credentials (`Authorization` / `Proxy-Authorization`). */
export interface DigestCredentialsParams {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  /** Hex digest. */
  response: string;
  algorithm?: DigestAlgorithm;
  /** `auth` or `auth-int`; omitted for the RFC 2069 form. */
  qop?: string;
  /** Nonce count; a number is written as 8 lower-case hex digits. */
  nc?: string | number;
  cnonce?: string;
  opaque?: string;
}

/**
 * Builds an `Authorization` or `Proxy-Authorization` value (without the header name), for the
 * client side of the stack and for tests.
 *
 * RFC 7616 §3.4: a sender MUST NOT quote `algorithm`, `qop` and `nc`; username, realm, nonce,
 * uri, response, cnonce and opaque are quoted.
 */
export function formatCredentials(c: DigestCredentialsParams): string {
  const parts = [
    `username=${quoteString(c.username)}`,
    `realm=${quoteString(c.realm)}`,
    `nonce=${quoteString(c.nonce)}`,
    `uri=${quoteString(c.uri)}`,
    `response=${quoteString(c.response)}`,
  ];
  if (c.algorithm !== undefined) parts.push(`algorithm=${tokenValue('algorithm', c.algorithm)}`);
  if (c.cnonce !== undefined) parts.push(`cnonce=${quoteString(c.cnonce)}`);
  if (c.opaque !== undefined) parts.push(`opaque=${quoteString(c.opaque)}`);
  if (c.qop !== undefined) parts.push(`qop=${tokenValue('qop', c.qop)}`);
  if (c.nc !== undefined) {
    const nc = typeof c.nc === 'number' ? formatNonceCount(c.nc) : c.nc;
    parts.push(`nc=${tokenValue('nc', nc)}`);
  }
  return 'Digest ' + parts.join(', ');
}
