/**
 * Whole-message checks a server makes before acting on a message (RFC 3261 §8.2, §16.3):
 * the mandatory headers exist and parse. Throws {@link SipParseError} naming the first fault,
 * which becomes the `400` reason phrase.
 * @module
 */
import { SipParseError } from '../errors.js';
import type { SipMessage, SipRequest } from './message.js';

const DATE_RE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$/;

/** Checks Via, From, To, Call-ID, CSeq (and for requests the Request-URI and CSeq method). */
export function validateMessage(m: SipMessage): void {
  const vias = m.vias();
  if (vias.length === 0) throw new SipParseError('Missing Via header');
  m.from();
  m.to();
  m.callId();
  const cseq = m.cseq();
  m.maxForwards();
  // RFC 3261 §20.17: Date is an RFC 1123 date and MUST be in GMT (RFC 4475 baddate).
  const date = m.get('date');
  if (date !== undefined && !DATE_RE.test(date)) throw new SipParseError('Malformed Date header');
  if (m.isRequest) {
    const req = m as SipRequest;
    const ruri = req.requestUri();
    // RFC 3261 §19.1.5: headers are not allowed in a Request-URI (RFC 4475 escruri).
    if (ruri.kind === 'sip' && ruri.headers !== undefined) throw new SipParseError('Request-URI contains headers');
    // RFC 3261 §10.3: REGISTER contacts are interpreted by the registrar; check them here (RFC 4475 regbadct).
    if (req.method === 'REGISTER') req.contacts();
    // RFC 3261 §8.1.1.5: the CSeq method MUST match the request method (RFC 4475 mismatch01).
    if (cseq.method !== req.method) throw new SipParseError('CSeq method does not match request method');
  }
}
