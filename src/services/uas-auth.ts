/**
 * What every service that answers requests itself (registrar, certificate queries, key
 * publication) does the same way: authenticate the requester as a UAS (RFC 3261 §22.2, a
 * `401` with one challenge per offered algorithm, RFC 8760), and turn a catalogued error into
 * its SIP response.
 * @module
 */
import type { DigestAuthenticator } from '../auth/digest-authenticator.js';
import { pickCredentials } from '../auth/digest-authenticator.js';
import { SipherError } from '../errors.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import { createResponse } from '../sip/response-builder.js';

/** The authenticated user, or the `401` to send. */
export type UasAuthResult = { ok: true; username: string } | { ok: false; response: SipResponse; failed: boolean };

/** Verifies the request's `Authorization` for `realm`; a missing, wrong or stale one gets the challenge. */
export async function authenticateUas(auth: DigestAuthenticator, realm: string, req: SipRequest, toTag: string): Promise<UasAuthResult> {
  const result = await auth.verify(pickCredentials(req.getAll('authorization'), realm), req.method, realm);
  if (result.ok) return { ok: true, username: result.username };
  const r = createResponse(req, 401, undefined, toTag);
  for (const c of auth.challenge(result.reason === 'stale')) r.append('WWW-Authenticate', c);
  return { ok: false, response: r, failed: result.reason !== 'missing' };
}

/**
 * Runs a service's handler for `req`: a catalogued error with a SIP status becomes that
 * response (and `refused` is called, for the service's counter); anything else propagates as a
 * server fault.
 */
export async function answerOrRefuse(req: SipRequest, toTag: string, run: () => Promise<SipResponse>, refused: () => void): Promise<SipResponse> {
  try {
    return await run();
  } catch (e) {
    const r = errorResponse(req, e, toTag);
    if (!r) throw e;
    refused();
    return r;
  }
}

/**
 * The response for an error thrown while serving `req`: a catalogued error with a SIP status
 * (bad syntax, bad CMS or CSR, refused certificate) becomes that status and reason phrase;
 * `undefined` for anything else (a server fault the caller logs and answers `500`).
 */
export function errorResponse(req: SipRequest, e: unknown, toTag: string): SipResponse | undefined {
  if (e instanceof SipherError && e.sipStatus !== undefined) return createResponse(req, e.sipStatus, e.sipReason, toTag);
  return undefined;
}
