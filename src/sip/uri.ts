/**
 * SIP and SIPS URIs (RFC 3261 §19.1) and other absolute URIs (kept opaque, e.g. `tel:`,
 * unknown schemes: RFC 4475 §3.1.1.6 `unksm2`/`novelsc` must be accepted).
 * @module
 */
import { SipParseError } from '../errors.js';
import { formatParams, parseParams, unescapePercent, type Params } from './lexer.js';

/** A parsed `sip:` or `sips:` URI. Strings are as written (escapes kept) unless noted. */
export interface SipUri {
  readonly kind: 'sip';
  scheme: 'sip' | 'sips';
  /** User part as written (may hold `%HH` escapes); `undefined` when absent. */
  user: string | undefined;
  password: string | undefined;
  /** Host: a hostname, an IPv4 address, or an IPv6 reference with its brackets. */
  host: string;
  port: number | undefined;
  /** URI parameters, names lower-cased. */
  params: Params;
  /** The `?headers` part as written (without `?`), or `undefined`. */
  headers: string | undefined;
}

/** Any other absolute URI, kept byte for byte. */
export interface OpaqueUri {
  readonly kind: 'opaque';
  scheme: string;
  raw: string;
}

/** A URI in a request line, name-addr or addr-spec. */
export type Uri = SipUri | OpaqueUri;

const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*$/;
const HOSTNAME_RE = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;
const IPV6_RE = /^\[[0-9A-Fa-f:.]+\]$/;
const USER_RE = /^[A-Za-z0-9\-_.!~*'()%&=+$,;?/]+$/;
const PASSWORD_RE = /^[A-Za-z0-9\-_.!~*'()%&=+$,]*$/;
const URI_HEADERS_RE = /^[A-Za-z0-9\-_.!~*'()%[\]/?:+$&=]*$/;

/** Parses a URI. Throws {@link SipParseError} naming the fault. */
export function parseUri(s: string): Uri {
  const colon = s.indexOf(':');
  if (colon <= 0) throw new SipParseError('Malformed URI: missing scheme');
  const scheme = s.slice(0, colon);
  if (!SCHEME_RE.test(scheme)) throw new SipParseError('Malformed URI scheme');
  const lower = scheme.toLowerCase();
  if (lower !== 'sip' && lower !== 'sips') {
    if (/[\s<>"]/.test(s)) throw new SipParseError('Malformed URI: illegal character');
    return { kind: 'opaque', scheme: lower, raw: s };
  }
  return parseSipUri(lower, s.slice(colon + 1));
}

function parseSipUri(scheme: 'sip' | 'sips', rest: string): SipUri {
  if (/[\s<>"]/.test(rest)) throw new SipParseError('Malformed SIP URI: illegal character');
  let user: string | undefined;
  let password: string | undefined;
  const at = rest.indexOf('@');
  let hostPart = rest;
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    hostPart = rest.slice(at + 1);
    const pc = userinfo.indexOf(':');
    user = pc >= 0 ? userinfo.slice(0, pc) : userinfo;
    if (pc >= 0) password = userinfo.slice(pc + 1);
    if (user.length === 0 || !USER_RE.test(user)) throw new SipParseError('Malformed SIP URI user part');
    if (password !== undefined && !PASSWORD_RE.test(password)) throw new SipParseError('Malformed SIP URI password');
    unescapePercent(user, 'SIP URI user part');
  }
  let headers: string | undefined;
  const q = hostPart.indexOf('?');
  if (q >= 0) {
    headers = hostPart.slice(q + 1);
    hostPart = hostPart.slice(0, q);
    if (!URI_HEADERS_RE.test(headers)) throw new SipParseError('Malformed SIP URI headers');
  }
  let host: string;
  let i: number;
  if (hostPart.startsWith('[')) {
    const close = hostPart.indexOf(']');
    if (close < 0) throw new SipParseError('Malformed IPv6 reference in SIP URI');
    host = hostPart.slice(0, close + 1);
    if (!IPV6_RE.test(host)) throw new SipParseError('Malformed IPv6 reference in SIP URI');
    i = close + 1;
  } else {
    i = 0;
    while (i < hostPart.length && hostPart[i] !== ':' && hostPart[i] !== ';') i++;
    host = hostPart.slice(0, i);
    if (!HOSTNAME_RE.test(host)) throw new SipParseError('Malformed host in SIP URI');
  }
  let port: number | undefined;
  if (hostPart[i] === ':') {
    let j = i + 1;
    while (j < hostPart.length && hostPart[j] !== ';') j++;
    const ps = hostPart.slice(i + 1, j);
    if (!/^[0-9]{1,5}$/.test(ps) || Number(ps) > 65535) throw new SipParseError('Malformed port in SIP URI');
    port = Number(ps);
    i = j;
  }
  const params = parseParams(hostPart.slice(i), 'SIP URI parameters');
  return { kind: 'sip', scheme, user, password, host, port, params, headers };
}

/** Serializes a URI (the exact form for opaque URIs). */
export function formatUri(u: Uri): string {
  if (u.kind === 'opaque') return u.raw;
  let s = u.scheme + ':';
  if (u.user !== undefined) {
    s += u.user;
    if (u.password !== undefined) s += ':' + u.password;
    s += '@';
  }
  s += u.host;
  if (u.port !== undefined) s += ':' + u.port;
  s += formatParams(u.params);
  if (u.headers !== undefined) s += '?' + u.headers;
  return s;
}

/** Creates a SIP URI from parts. */
export function sipUri(parts: { scheme?: 'sip' | 'sips'; user?: string; host: string; port?: number; params?: Record<string, string | null> }): SipUri {
  return {
    kind: 'sip',
    scheme: parts.scheme ?? 'sip',
    user: parts.user,
    password: undefined,
    host: parts.host,
    port: parts.port,
    params: new Map(Object.entries(parts.params ?? {})),
    headers: undefined,
  };
}

/** Lower-cases a host and strips a trailing dot (case-insensitive comparison, RFC 3261 §19.1.4). */
export function normalizeHost(host: string): string {
  const h = host.toLowerCase();
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/**
 * The canonical address of record of a URI: `sip:user@host` with escapes resolved and the
 * host lower-cased; no port or parameters (RFC 3261 §10.3 step 5). Opaque URIs map to
 * their lower-cased text.
 */
export function aorOf(u: Uri): string {
  if (u.kind === 'opaque') return u.raw.toLowerCase();
  const user = u.user === undefined ? '' : unescapePercent(u.user, 'user') + '@';
  return `${u.scheme === 'sips' ? 'sip' : 'sip'}:${user}${normalizeHost(u.host)}`;
}

/**
 * A comparison key implementing RFC 3261 §19.1.4 closely enough for binding and loop
 * matching: scheme, unescaped user and password (case-sensitive), host (case-insensitive),
 * port, and the `transport`, `user`, `method`, `ttl`, `maddr` parameters.
 */
export function uriKey(u: Uri): string {
  if (u.kind === 'opaque') return u.raw;
  const user = u.user === undefined ? '' : unescapePercent(u.user, 'user');
  const pw = u.password === undefined ? '' : ':' + unescapePercent(u.password, 'password');
  let k = `${u.scheme}:${user}${pw}@${normalizeHost(u.host)}:${u.port ?? ''}`;
  for (const p of ['transport', 'user', 'method', 'ttl', 'maddr']) {
    const v = u.params.get(p);
    if (v !== undefined) k += `;${p}=${(v ?? '').toLowerCase()}`;
  }
  return k;
}
