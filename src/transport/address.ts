/**
 * IP literal helpers shared by the transport adapters.
 * @module
 */
import { isIP } from 'node:net';

/** 4 or 6 for an IP literal (brackets allowed), 0 otherwise. */
export function ipFamily(address: string): 0 | 4 | 6 {
  return isIP(unbracket(address)) as 0 | 4 | 6;
}

/** `[::1]` → `::1`; anything else unchanged. */
export function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * The canonical text of an IP literal (RFC 5952 for IPv6: lower case, `::` compression), so
 * that `0:0:0:0:0:0:0:1` and `::1` compare equal. Non-IP input is returned lower-cased.
 */
export function normalizeAddress(address: string): string {
  const a = unbracket(address);
  if (isIP(a) !== 6) return a.toLowerCase();
  if (a.indexOf('%') >= 0) return a.toLowerCase(); // link-local with zone id: keep as given
  if (a === '::1') return a; // fast path for the common loopback
  return new URL(`http://[${a}]/`).hostname.slice(1, -1);
}

/** True when both are IP literals naming the same address. */
export function sameAddress(a: string, b: string): boolean {
  if (ipFamily(a) === 0 || ipFamily(b) === 0) return false;
  return normalizeAddress(a) === normalizeAddress(b);
}
