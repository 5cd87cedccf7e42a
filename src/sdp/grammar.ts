/**
 * Lexical rules of the RFC 8866 §9 grammar and the parsers of the structured session-level
 * and media-level fields (`o=`, `c=`, `b=`, `t=`, `r=`, `z=`, `k=`, `m=`). Each parser
 * throws a {@link SipParseError} describing the fault; the line number is added by the
 * caller ({@link lineError}).
 * @module
 */
import { isIPv4, isIPv6 } from 'node:net';
import { SipParseError } from '../errors.js';
import type { Bandwidth, Connection, Origin } from './model.js';

/** RFC 8866 §9 `token`. */
const TOKEN_RE = /^[A-Za-z0-9!#$%&'*+\-.^_`{|}~]+$/;
/** RFC 8866 §9 `time`: POS-DIGIT 9*DIGIT, or `0` for start/stop. */
const TIME_RE = /^(?:0|[1-9][0-9]{9,})$/;
const REPEAT_INTERVAL_RE = /^[1-9][0-9]*[dhms]?$/;
const TYPED_TIME_RE = /^[0-9]+[dhms]?$/;
const ZONE_OFFSET_RE = /^-?[0-9]+[dhms]?$/;
const ZONE_TIME_RE = /^[1-9][0-9]{9,}$/;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** RFC 8866 §9 `FQDN`: 4*(alpha-numeric / "-" / "."). */
const FQDN_RE = /^[A-Za-z0-9.-]{4,255}$/;

/**
 * A {@link SipParseError} naming the SDP line and the fault.
 * @internal
 */
export function lineError(line: number, fault: string): SipParseError {
  return new SipParseError(`SDP line ${line}: ${fault}`);
}

/** True if `s` is an RFC 8866 `token`. */
export function isSdpToken(s: string): boolean {
  return TOKEN_RE.test(s);
}

/** True if `s` is an RFC 8866 `non-ws-string`. */
export function isNonWsString(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return false;
  }
  return true;
}

/**
 * Splits on single spaces and requires every field to be non-empty: the structured SDP
 * lines use exactly one SP between fields (RFC 8866 §5).
 * @internal
 */
export function splitFields(value: string, what: string): string[] {
  const f = value.split(' ');
  if (f.some((x) => x.length === 0)) throw new SipParseError(`malformed ${what} (fields are separated by single spaces)`);
  return f;
}

/** Parses the value of `o=` (RFC 8866 §5.2). */
export function parseOrigin(value: string): Origin {
  const f = splitFields(value, 'o= line');
  if (f.length !== 6) throw new SipParseError('malformed o= line (expected username sess-id sess-version nettype addrtype address)');
  const [username, sessionId, sessionVersion, netType, addrType, address] = f as [string, string, string, string, string, string];
  if (!isNonWsString(username)) throw new SipParseError('malformed o= username');
  if (!/^[0-9]+$/.test(sessionId)) throw new SipParseError('o= sess-id is not numeric');
  if (!/^[0-9]+$/.test(sessionVersion)) throw new SipParseError('o= sess-version is not numeric');
  if (!isSdpToken(netType) || !isSdpToken(addrType)) throw new SipParseError('malformed o= nettype or addrtype');
  if (!isNonWsString(address)) throw new SipParseError('malformed o= address');
  return { username, sessionId, sessionVersion, netType, addrType, address };
}

/** Serializes an {@link Origin}. */
export function formatOrigin(o: Origin): string {
  return `${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`;
}

function isIp4Multicast(a: string): boolean {
  const first = Number(a.slice(0, a.indexOf('.')));
  return first >= 224 && first <= 239;
}

function checkHost(host: string, addrType: 'IP4' | 'IP6'): void {
  if (addrType === 'IP4') {
    // Anything made of digits and dots must be a valid dotted quad, not an FQDN.
    if (/^[0-9.]+$/.test(host) ? !isIPv4(host) : !FQDN_RE.test(host)) throw new SipParseError('malformed IP4 connection address');
  } else if (host.includes(':') ? !isIPv6(host) : !FQDN_RE.test(host)) {
    throw new SipParseError('malformed IP6 connection address');
  }
}

function parseSmallUint(s: string, max: number, what: string): number {
  if (!/^[0-9]{1,10}$/.test(s)) throw new SipParseError(`malformed ${what}`);
  const n = Number(s);
  if (n > max) throw new SipParseError(`${what} out of range`);
  return n;
}

/**
 * Parses the value of `c=` (RFC 8866 §5.7). For `IN IP4` the address may carry `/ttl` and
 * `/count`; an IPv4 multicast address without a TTL is refused. A TTL on a unicast IPv4
 * address is tolerated (RFC 4568 §4.5 prints one). For `IN IP6` only `/count` exists.
 * Other network and address types are kept as written.
 */
export function parseConnection(value: string): Connection {
  const f = splitFields(value, 'c= line');
  if (f.length !== 3) throw new SipParseError('malformed c= line (expected nettype addrtype address)');
  const [netType, addrType, addr] = f as [string, string, string];
  if (!isSdpToken(netType) || !isSdpToken(addrType)) throw new SipParseError('malformed c= nettype or addrtype');
  if (!isNonWsString(addr)) throw new SipParseError('malformed c= address');
  if (netType !== 'IN' || (addrType !== 'IP4' && addrType !== 'IP6')) return { netType, addrType, address: addr };
  const parts = addr.split('/');
  const host = parts[0]!;
  checkHost(host, addrType);
  const c: Connection = { netType, addrType, address: host };
  if (addrType === 'IP4') {
    if (parts.length > 3) throw new SipParseError('malformed c= address suffix');
    if (parts.length === 1 && isIPv4(host) && isIp4Multicast(host)) throw new SipParseError('IPv4 multicast connection address without TTL');
    if (parts.length >= 2) c.ttl = parseSmallUint(parts[1]!, 255, 'c= TTL');
    if (parts.length === 3) c.count = parseSmallUint(parts[2]!, 65_535, 'c= address count');
  } else {
    if (parts.length > 2) throw new SipParseError('malformed c= address suffix');
    if (parts.length === 2) c.count = parseSmallUint(parts[1]!, 65_535, 'c= address count');
  }
  if (c.count === 0) throw new SipParseError('c= address count out of range');
  return c;
}

/** Serializes a {@link Connection}. */
export function formatConnection(c: Connection): string {
  let a = c.address;
  if (c.ttl !== undefined) a += `/${c.ttl}`;
  if (c.count !== undefined) a += `/${c.count}`;
  return `${c.netType} ${c.addrType} ${a}`;
}

/** Parses the value of `b=` (RFC 8866 §5.8). */
export function parseBandwidth(value: string): Bandwidth {
  const m = /^([^:]+):([0-9]+)$/.exec(value);
  if (!m || !isSdpToken(m[1]!)) throw new SipParseError('malformed b= line (expected bwtype:bandwidth)');
  if (m[2]!.length > 15) throw new SipParseError('b= bandwidth too large');
  return { type: m[1]!, value: Number(m[2]) };
}

/** Parses the value of `t=` (RFC 8866 §5.9). */
export function parseTiming(value: string): { start: string; stop: string } {
  const f = splitFields(value, 't= line');
  if (f.length !== 2 || !TIME_RE.test(f[0]!) || !TIME_RE.test(f[1]!)) {
    throw new SipParseError('malformed t= line (expected start-time stop-time, each 0 or at least 10 digits)');
  }
  return { start: f[0]!, stop: f[1]! };
}

/** Checks the value of `r=` (RFC 8866 §5.10). */
export function checkRepeat(value: string): void {
  const f = splitFields(value, 'r= line');
  if (f.length < 3 || !REPEAT_INTERVAL_RE.test(f[0]!) || !f.slice(1).every((x) => TYPED_TIME_RE.test(x))) {
    throw new SipParseError('malformed r= line (expected repeat-interval active-duration offsets…)');
  }
}

/** Checks the value of `z=` (RFC 8866 §5.11). */
export function checkZone(value: string): void {
  const f = splitFields(value, 'z= line');
  if (f.length % 2 !== 0) throw new SipParseError('malformed z= line (expected time offset pairs)');
  for (let i = 0; i < f.length; i += 2) {
    if (!ZONE_TIME_RE.test(f[i]!) || !ZONE_OFFSET_RE.test(f[i + 1]!)) throw new SipParseError('malformed z= line (expected time offset pairs)');
  }
}

/** Checks the value of `k=` (RFC 8866 §5.12, obsolete but still parsed). */
export function checkKey(value: string): void {
  if (value === 'prompt') return;
  if (value.startsWith('clear:') && value.length > 6) return;
  if (value.startsWith('base64:') && BASE64_RE.test(value.slice(7))) return;
  if (value.startsWith('uri:') && isNonWsString(value.slice(4))) return;
  throw new SipParseError('malformed k= line');
}

/** A parsed `m=` line (RFC 8866 §5.14). */
export interface MediaLine {
  media: string;
  port: number;
  portCount?: number;
  proto: string;
  formats: string[];
}

/** Parses the value of `m=` (RFC 8866 §5.14). */
export function parseMediaLine(value: string): MediaLine {
  const f = splitFields(value, 'm= line');
  if (f.length < 4) throw new SipParseError('malformed m= line (expected media port proto fmt…)');
  const [media, portField, proto] = f as [string, string, string];
  if (!isSdpToken(media)) throw new SipParseError('malformed m= media type');
  const pm = /^([0-9]{1,5})(?:\/([0-9]{1,5}))?$/.exec(portField);
  if (!pm) throw new SipParseError('m= port is not a number');
  const port = Number(pm[1]);
  if (port > 65_535) throw new SipParseError('m= port out of range');
  let portCount: number | undefined;
  if (pm[2] !== undefined) {
    portCount = Number(pm[2]);
    if (portCount < 1 || port + portCount > 65_536) throw new SipParseError('m= port count out of range');
  }
  if (!proto.split('/').every(isSdpToken)) throw new SipParseError('malformed m= proto');
  const formats = f.slice(3);
  if (!formats.every(isSdpToken)) throw new SipParseError('malformed m= fmt');
  return portCount === undefined ? { media, port, proto, formats } : { media, port, portCount, proto, formats };
}

/** Serializes the value of an `m=` line. */
export function formatMediaLine(m: MediaLine): string {
  const port = m.portCount === undefined ? `${m.port}` : `${m.port}/${m.portCount}`;
  return `${m.media} ${port} ${m.proto} ${m.formats.join(' ')}`;
}
