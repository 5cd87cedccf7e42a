/**
 * Header names: compact forms (RFC 3261 §7.3.3, plus registered extensions) and the
 * canonical spelling used when Sipher writes a header itself. Names compare
 * case-insensitively (RFC 3261 §7.3.1); the model keys headers by the lower-case long name.
 * @module
 */

/** Compact form → lower-case long name. */
const COMPACT: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event', // RFC 6665
  r: 'refer-to', // RFC 3515
  b: 'referred-by', // RFC 3892
  u: 'allow-events', // RFC 6665
  x: 'session-expires', // RFC 4028
  y: 'identity', // RFC 8224
  a: 'accept-contact', // RFC 3841
  j: 'reject-contact', // RFC 3841
  d: 'request-disposition', // RFC 3841
};

const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  'record-route': 'Record-Route',
  'p-asserted-identity': 'P-Asserted-Identity',
  'content-id': 'Content-ID',
};

const lowerCache = new Map<string, string>();

/** Lower-case long name of a header name as written on the wire (compact forms expanded). */
export function headerKey(name: string): string {
  let k = lowerCache.get(name);
  if (k !== undefined) return k;
  const lower = name.toLowerCase();
  k = lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
  if (lowerCache.size < 4096) lowerCache.set(name, k);
  return k;
}

/** The conventional spelling of a header from its lower-case key (`call-id` → `Call-ID`). */
export function canonicalName(key: string): string {
  const c = CANONICAL[key];
  if (c) return c;
  return key.replace(/(^|-)([a-z])/g, (_m, d: string, ch: string) => d + ch.toUpperCase());
}

/**
 * Headers whose value is a comma-separated list that may be split into several header
 * fields and back (RFC 3261 §7.3.1). Headers not listed are never split by Sipher.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via', 'contact', 'route', 'record-route', 'path', 'allow', 'supported', 'require',
  'proxy-require', 'unsupported', 'accept', 'accept-encoding', 'accept-language',
  'content-encoding', 'allow-events', 'security-client', 'security-server', 'security-verify',
  'service-route', 'p-asserted-identity', 'route-security',
]);
