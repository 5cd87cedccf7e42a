/**
 * The ACK an INVITE client transaction generates for a 300-699 response (RFC 3261 §17.1.1.3).
 * The ACK for a 2xx is not built here: it belongs to the TU (RFC 3261 §13.2.2.4).
 * @module
 */
import { splitList } from '../sip/lexer.js';
import { field, SipRequest, type HeaderField, type SipResponse } from '../sip/message.js';

/**
 * Builds the ACK for a non-2xx final `response` to `invite`, per RFC 3261 §17.1.1.3: "The
 * ACK request constructed by the client transaction MUST contain values for the Call-ID,
 * From, and Request-URI that are equal to the values of those header fields in the request
 * passed to the transport by the client transaction (call this the 'original request'). The
 * To header field in the ACK MUST equal the To header field in the response being
 * acknowledged [...]. The ACK MUST contain a single Via header field, and this MUST be equal
 * to the top Via header field of the original request. The CSeq header field in the ACK MUST
 * contain the same value for the sequence number as was present in the original request, but
 * the method parameter MUST be equal to 'ACK'. If the INVITE request whose response is being
 * acknowledged had Route header fields, those header fields MUST appear in the ACK."
 * Max-Forwards is copied too (70 when absent), since every request carries one (§8.1.1.6).
 * Header fields keep the original order and, where unchanged, their exact bytes.
 */
export function buildAckForNon2xx(invite: SipRequest, response: SipResponse): SipRequest {
  const headers: HeaderField[] = [];
  let sawVia = false;
  let sawMaxForwards = false;
  for (const h of invite.headers) {
    switch (h.key) {
      case 'via':
        if (sawVia) break;
        sawVia = true;
        // A field may hold several comma-separated values; only the first is the top Via.
        headers.push(h.value.indexOf(',') < 0 ? h : field('Via', splitList(h.value, 'Via')[0]!));
        break;
      case 'max-forwards':
        sawMaxForwards = true;
        headers.push(h);
        break;
      case 'route':
      case 'from':
      case 'call-id':
        headers.push(h);
        break;
      case 'to': {
        const to = response.headers.find((r) => r.key === 'to');
        headers.push(to ?? h);
        break;
      }
      case 'cseq':
        headers.push(field('CSeq', `${invite.cseq().seq} ACK`));
        break;
      default:
        break;
    }
  }
  if (!sawMaxForwards) headers.push(field('Max-Forwards', '70'));
  return new SipRequest('ACK', invite.uri, headers);
}
