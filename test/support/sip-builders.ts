/**
 * Helpers for tests: build SIP requests as text and digest credentials like a UA would.
 */
import { computeHa1, computeResponse, type DigestAlgorithm } from '../../src/auth/digest.js';
import { parseAuthValue, formatCredentials } from '../../src/auth/auth-params.js';
import { parseDatagram, type SipRequest, type SipResponse } from '../../src/sip/index.js';

let counter = 0;

/** A REGISTER as a parsed request. */
export function register(opts: {
  user: string; domain: string; contact?: string; expires?: number; callId?: string; cseq?: number; extra?: string[];
}): SipRequest {
  counter++;
  const lines = [
    `REGISTER sip:${opts.domain} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKtest${counter};rport`,
    'Max-Forwards: 70',
    `From: <sip:${opts.user}@${opts.domain}>;tag=f${counter}`,
    `To: <sip:${opts.user}@${opts.domain}>`,
    `Call-ID: ${opts.callId ?? `reg-${opts.user}@test`}`,
    `CSeq: ${opts.cseq ?? counter} REGISTER`,
    ...(opts.contact === undefined ? [] : [`Contact: ${opts.contact}`]),
    ...(opts.expires === undefined ? [] : [`Expires: ${opts.expires}`]),
    ...(opts.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ];
  return parseDatagram(Buffer.from(lines.join('\r\n'), 'latin1')) as SipRequest;
}

/** The Authorization value answering the challenge of `resp` with algorithm `alg`. */
export function answerChallenge(resp: SipResponse, req: SipRequest, user: string, password: string, alg: DigestAlgorithm, header = 'www-authenticate'): string {
  const ch = resp.getAll(header).map(parseAuthValue).find((c) => (c.params.get('algorithm') ?? 'MD5') === alg);
  if (!ch) throw new Error(`no ${alg} challenge`);
  const realm = ch.params.get('realm')!;
  const nonce = ch.params.get('nonce')!;
  const ha1 = computeHa1(alg, user, realm, password);
  const cnonce = 'c0ffee' + String(counter++);
  const response = computeResponse({ alg, ha1, method: req.method, uri: req.uri, nonce, qop: 'auth', nc: 1, cnonce });
  return formatCredentials({ username: user, realm, nonce, uri: req.uri, response, algorithm: alg, qop: 'auth', nc: 1, cnonce });
}
