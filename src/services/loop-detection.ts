/**
 * Loop detection (RFC 3261 §16.3 item 4, §16.6 step 8): the branch a proxy puts in its Via
 * carries a hash of the fields that identify the request as received; a request that comes
 * back with one of our Vias carrying the same hash has looped (482), otherwise it spirals.
 * @module
 */
import { createHash } from 'node:crypto';
import type { SipRequest } from '../sip/message.js';

/**
 * The loop hash: RFC 3261 §16.6 step 8 — "the To tag, From tag, Call-ID header field,
 * the Request-URI of the request received (before translation), the topmost Via header, and
 * the sequence number from the CSeq header field, in addition to any Proxy-Require and
 * Proxy-Authorization header fields". The topmost Via is left out deliberately: on a loop it
 * is our own Via, which differs on every pass. 10 hex chars.
 */
export function loopHash(req: SipRequest): string {
  const h = createHash('sha1');
  h.update(req.uri);
  h.update('\0');
  h.update(req.fromTag() ?? '');
  h.update('\0');
  h.update(req.toTag() ?? '');
  h.update('\0');
  h.update(req.callId());
  h.update('\0');
  h.update(String(req.cseq().seq));
  h.update('\0');
  h.update(req.getAll('proxy-require').join(','));
  return h.digest('hex').slice(0, 10);
}

/** True if a Via sent by us (per `isOurs`) carries the same loop hash in its branch (`…-<hash>`). */
export function isLoop(req: SipRequest, hash: string, isOurs: (host: string, port: number | undefined) => boolean): boolean {
  const vias = req.vias();
  for (let i = 0; i < vias.length; i++) {
    const v = vias[i]!;
    if (!isOurs(v.host, v.port)) continue;
    const b = v.params.get('branch');
    if (b && b.endsWith('-' + hash)) return true;
  }
  return false;
}
