/**
 * Encryption ranges (SPEC SA-4; seed 000 FIG. 11/12, claims 3–4): what part of a SIP message
 * an SA seals. `whole` seals the entire message into one binary record; `partial` leaves in
 * clear what a SIP-aware NAT or load balancer must read and seals the body and the other
 * headers; `partial:H1,H2` seals the body and only the headers named.
 * @module
 */
import { SaSettingError } from '../../errors.js';
import { headerKey } from '../../sip/header-names.js';

/** Headers that stay in clear under every partial range (docs/protocol.md §3.3). */
export const CLEAR_HEADERS: ReadonlySet<string> = new Set([
  'via', 'route', 'record-route', 'contact', 'call-id', 'cseq', 'max-forwards', 'content-length',
]);

/** A parsed range. `sealed` undefined = every header outside {@link CLEAR_HEADERS}. */
export type Range =
  | { readonly kind: 'whole' }
  | { readonly kind: 'partial'; readonly sealed: ReadonlySet<string> | undefined };

/** Range names the SA layer implements, advertised in `Security-Client`. */
export const RANGE_KINDS = ['whole', 'partial'] as const;

const TOKEN = /^[A-Za-z0-9!%'*+.`~_-]+$/; // RFC 3261 §25.1 token (header names)

/** Parses a range descriptor; throws {@link SaSettingError} (`invalid`) with the reason. */
export function parseRange(text: string): Range {
  const t = text.trim();
  if (t === 'whole') return WHOLE;
  if (t === 'partial') return PARTIAL;
  if (t.startsWith('partial:')) {
    const names = t.slice(8).split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (names.length === 0) throw new SaSettingError('invalid', 'partial range lists no header');
    const sealed = new Set<string>();
    for (const n of names) {
      if (!TOKEN.test(n)) throw new SaSettingError('invalid', `not a header name: ${n.slice(0, 40)}`);
      const k = headerKey(n);
      if (CLEAR_HEADERS.has(k)) throw new SaSettingError('invalid', `${n} must stay in clear under a partial range`);
      sealed.add(k);
    }
    return { kind: 'partial', sealed };
  }
  throw new SaSettingError('invalid', `unknown range ${JSON.stringify(t.slice(0, 40))} (whole, partial or partial:Header,…)`);
}

/** The canonical text of a range. */
export function formatRange(r: Range): string {
  if (r.kind === 'whole') return 'whole';
  return r.sealed === undefined ? 'partial' : `partial:${[...r.sealed].join(',')}`;
}

/** True if header `key` is sealed under a partial range. */
export function isSealedHeader(r: Extract<Range, { kind: 'partial' }>, key: string): boolean {
  if (CLEAR_HEADERS.has(key)) return false;
  if (key === 'content-type') return true; // the outer Content-Type names the sealed body
  return r.sealed === undefined || r.sealed.has(key);
}

const WHOLE: Range = Object.freeze({ kind: 'whole' });
const PARTIAL: Range = Object.freeze({ kind: 'partial', sealed: undefined });
