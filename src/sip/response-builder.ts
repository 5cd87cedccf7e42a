/**
 * Construction of responses to a request (RFC 3261 §8.2.6).
 * @module
 */
import { SipResponse, type HeaderField, type SipRequest } from './message.js';
import { reasonPhrase } from './status.js';

const COPIED = new Set(['via', 'from', 'to', 'call-id', 'cseq']);

/**
 * A response to `req`: RFC 3261 §8.2.6.2 — Via (all values, same order), From, Call-ID and
 * CSeq copied; To copied with `toTag` added when it has none (not for 100, §8.2.6.2); a 100
 * Trying also echoes Timestamp (§8.2.6.1).
 */
export function createResponse(req: SipRequest, status: number, reason?: string, toTag?: string): SipResponse {
  const headers: HeaderField[] = [];
  for (const h of req.headers) {
    if (COPIED.has(h.key) || (status === 100 && h.key === 'timestamp')) {
      if (h.key === 'to' && toTag !== undefined && status !== 100 && !/;[ \t]*tag[ \t]*=/i.test(h.value)) {
        headers.push({ name: h.name, key: 'to', value: `${h.value};tag=${toTag}`, raw: undefined });
      } else headers.push(h);
    }
  }
  return new SipResponse(status, reason ?? reasonPhrase(status), headers);
}
