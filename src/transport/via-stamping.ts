/**
 * Stamping of the top Via of a received request with the address it really came from:
 * RFC 3261 §18.2.1 (`received`) and RFC 3581 §4 (`rport`).
 * @module
 */
import { formatVia, type SipMessage } from '../sip/index.js';
import { sameAddress, unbracket } from './address.js';
import type { Endpoint } from './types.js';

/**
 * Adds `received=<source address>` and fills an empty `rport` in the top Via of `req`.
 * The message must have passed `validateMessage` (its top Via parses). Returns true when the
 * Via was changed.
 */
export function stampTopVia(req: SipMessage, source: Endpoint): boolean {
  const top = req.topVia();
  // RFC 3581 §4: the server fills an rport parameter that has no value with the source port.
  const fillRport = top.params.has('rport') && top.params.get('rport') === null;
  // RFC 3261 §18.2.1: "If the host portion of the "sent-by" field contains a domain name, or
  // if it contains an IP address that differs from the packet source address, the server
  // MUST add a "received" parameter". RFC 3581 §4: with rport present, received is added
  // "even if it is identical to the value of the sent-by component".
  const addReceived = fillRport || !sameAddress(unbracket(top.host), source.address);
  if (!addReceived) return false;
  const params = new Map(top.params);
  // RFC 3261 §20.42 ABNF: received is an IPv4address / IPv6address, without brackets.
  params.set('received', source.address);
  if (fillRport) params.set('rport', String(source.port));
  req.removeFirstValue('via');
  req.prepend('Via', formatVia({ ...top, params }));
  return true;
}
