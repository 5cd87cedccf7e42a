/**
 * The Via header (RFC 3261 §20.42, §18.2.1, RFC 3581 rport).
 * @module
 */
import { SipParseError } from '../errors.js';
import { formatParams, parseParams, type Params } from './lexer.js';

/** One Via value. */
export interface Via {
  /** `SIP/2.0` as written (normalized spacing). */
  protocol: string;
  /** Transport, upper-cased (`UDP`, `TCP`, `TLS`, `WS`, `WSS`, `SCTP`, or an extension). */
  transport: string;
  /** sent-by host (IPv6 with brackets). */
  host: string;
  port: number | undefined;
  /** Parameters, names lower-cased (`branch`, `received`, `rport`, `maddr`, `ttl`, …). */
  params: Params;
}

/** The RFC 3261 §8.1.1.7 magic cookie every compliant branch starts with. */
export const BRANCH_COOKIE = 'z9hG4bK';

const VIA_RE = /^([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*\/[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*\/[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]+(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)(?:[ \t]*:[ \t]*([0-9]{1,5}))?[ \t]*((?:;.*)?)$/;

/** Parses one Via value (one element of the comma list). */
export function parseVia(s: string): Via {
  // RFC 2543 allowed a trailing (comment); strip it.
  const v = s.replace(/\s*\([^)]*\)\s*$/, '');
  const m = VIA_RE.exec(v);
  if (!m) throw new SipParseError('Malformed Via header');
  const port = m[5] === undefined ? undefined : Number(m[5]);
  if (port !== undefined && port > 65535) throw new SipParseError('Malformed Via port');
  const params = parseParams(m[6]!, 'Via');
  const branch = params.get('branch');
  if (branch === null || branch === '') throw new SipParseError('Malformed Via branch');
  return { protocol: `${m[1]}/${m[2]}`, transport: m[3]!.toUpperCase(), host: m[4]!, port, params };
}

/** Serializes a Via value. */
export function formatVia(v: Via): string {
  return `${v.protocol}/${v.transport} ${v.host}${v.port === undefined ? '' : ':' + v.port}${formatParams(v.params)}`;
}

/** The branch parameter, or `undefined`. */
export function viaBranch(v: Via): string | undefined {
  return v.params.get('branch') ?? undefined;
}
