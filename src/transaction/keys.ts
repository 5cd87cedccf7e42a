/**
 * Transaction keys: the strings the layer's maps are keyed by (RFC 3261 §17.1.3, §17.2.3).
 * Components are joined with a space, which none of them but the last (a Via value) contains.
 * @module
 */
import type { SipRequest } from '../sip/message.js';
import { BRANCH_COOKIE, formatVia } from '../sip/via.js';

/**
 * Client key (RFC 3261 §17.1.3): "the response matches a client transaction [if] the response
 * has the same value of the branch parameter in the top Via header field as the branch
 * parameter in the top Via header field of the request that created the transaction [and] the
 * method parameter in the CSeq header field matches the method of the request".
 */
export function clientKey(branch: string, method: string): string {
  return branch + ' ' + method;
}

/** True when `branch` carries the RFC 3261 §8.1.1.7 magic cookie. */
export function hasCookie(branch: string | null | undefined): branch is string {
  return typeof branch === 'string' && branch.startsWith(BRANCH_COOKIE);
}

/**
 * Server key of `request` looked up as `method` (the request's own method, or INVITE for an
 * ACK or for the INVITE a CANCEL targets).
 *
 * RFC 3261 §17.2.3: with the magic cookie, "the branch parameter in the request is equal to
 * the one in the top Via header field of the request that created the transaction, the
 * sent-by value in the top Via of the request is equal to the one in the request that created
 * the transaction, and the method of the request matches the one that created the
 * transaction, except for ACK, where the method of the request that created the transaction is
 * INVITE." Without it, the RFC 2543 rule applies ({@link rfc2543Key}).
 */
export function serverKey(request: SipRequest, method: string): string {
  const via = request.topVia();
  const branch = via.params.get('branch');
  if (hasCookie(branch)) return branch + ' ' + via.host.toLowerCase() + ':' + (via.port ?? '') + ' ' + method;
  return rfc2543Key(request, method, request.toTag());
}

/**
 * RFC 2543 matching (RFC 3261 §17.2.3): "The INVITE request matches a transaction if the
 * Request-URI, To tag, From tag, Call-ID, CSeq, and top Via header field match those of the
 * INVITE request which created the transaction." An ACK matches with the To tag of the
 * response the transaction sent, which the caller passes as `toTag`.
 */
export function rfc2543Key(request: SipRequest, method: string, toTag: string | undefined): string {
  return '2543 ' + request.uri + ' ' + (toTag ?? '') + ' ' + (request.fromTag() ?? '') + ' ' + request.callId() + ' ' +
    request.cseq().seq + ' ' + method + ' ' + formatVia(request.topVia());
}
