/**
 * Whole-message checks a server makes before acting on a message (RFC 3261 §8.2, §16.3):
 * the mandatory headers exist and parse. Throws {@link SipParseError} naming the first fault,
 * which becomes the `400` reason phrase.
 * @module
 */
import { SipParseError } from '../errors.js';
import type { SipMessage, SipRequest } from './message.js';

/** Checks Via, From, To, Call-ID, CSeq (and for requests the Request-URI and CSeq method). */
export function validateMessage(m: SipMessage): void {
  const vias = m.vias();
  if (vias.length === 0) throw new SipParseError('Missing Via header');
  m.from();
  m.to();
  m.callId();
  const cseq = m.cseq();
  m.maxForwards();
  if (m.isRequest) {
    const req = m as SipRequest;
    req.requestUri();
    // RFC 3261 §8.1.1.5: the CSeq method MUST match the request method (RFC 4475 mismatch01).
    if (cseq.method !== req.method) throw new SipParseError('CSeq method does not match request method');
  }
}
