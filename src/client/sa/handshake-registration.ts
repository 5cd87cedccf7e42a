/**
 * The device's side of the SA handshake in the REGISTER exchange (docs/protocol.md §3.1):
 * REGISTER (step 1, anonymous, `Security-Client`) → 401 (step 2) → REGISTER (step 3 carrying
 * the real REGISTER with its credentials) → 200 sealed under the new SA. The client supplies
 * its request building and transactions; this file holds only the sequence.
 * @module
 */
import { RegistrationError } from '../client-errors.js';
import type { RegistrationContext, RegistrationExtension } from '../client-options.js';
import type { DigestClient } from '../digest-client.js';
import type { RequestSpec } from '../request-builder.js';
import { HANDSHAKE_CONTENT_TYPE, tokenProof } from '../../security/sa/index.js';
import type { SipRequest, SipResponse } from '../../sip/message.js';
import { serialize } from '../../sip/serializer.js';
import type { Target } from '../../transport/types.js';
import type { DeviceSa } from './device-sa.js';

/** What the handshake needs from the client. */
export interface HandshakeHost {
  domain: string;
  aor: string;
  contact: string;
  callId: string;
  fromTag: string;
  /** Stream transports add `Supported: outbound, path` (RFC 5626 §4.2.1). */
  stream: boolean;
  target: Target;
  nextCseq(): number;
  build(spec: Omit<RequestSpec, 'from' | 'via' | 'userAgent'>): SipRequest;
  transact(req: SipRequest): Promise<SipResponse>;
  /** Certificate enrolment or presentation (SPEC ID-2, ID-3), carried in the inner REGISTER. */
  extension: RegistrationExtension | undefined;
  /** True when the extension presents a certificate: that proof authenticates the device. */
  presentsCertificate: boolean;
  /** Digest credentials, when the device has a password. */
  digest: DigestClient | undefined;
}

/** How a handshake registration ended. */
export type HandshakeOutcome =
  | { kind: 'registered'; response: SipResponse; ctx: RegistrationContext }
  /** The server answered step 1 without a handshake: it offers no SA (SPEC SA-10). */
  | { kind: 'unavailable'; response: SipResponse };

/** Runs the handshake; `RegistrationError` when the server refuses it. */
export async function registerThroughHandshake(
  sa: DeviceSa,
  host: HandshakeHost,
  attempt: RegistrationContext['attempt'],
  expires: number,
): Promise<HandshakeOutcome> {
  const anonymous = `sip:anonymous@${host.domain}`;
  const from = `<${anonymous}>;tag=${host.fromTag}`;
  const securityClient: [string, string] = ['Security-Client', sa.capabilityValue];
  const first = host.build({
    method: 'REGISTER', uri: `sip:${host.domain}`, to: anonymous, callId: host.callId, fromTag: host.fromTag, cseq: host.nextCseq(),
    headers: [securityClient], body: sa.begin(host.callId), contentType: HANDSHAKE_CONTENT_TYPE,
  });
  first.set('From', from);
  const r1 = await host.transact(first);
  if ((r1.get('content-type') ?? '').toLowerCase() !== HANDSHAKE_CONTENT_TYPE) {
    if (sa.mode === 'required') throw new RegistrationError(r1.status, 'Server Offers No Security Association', r1);
    return { kind: 'unavailable', response: r1 };
  }
  if (r1.status !== 401) throw new RegistrationError(r1.status, r1.reason, r1);
  const hash = sa.second(r1.body);
  const cseq = host.nextCseq();
  const headers: [string, string][] = [['Expires', String(expires)]];
  if (host.stream) headers.push(['Supported', 'outbound, path']);
  const token = sa.tokenHeader(hash, tokenProof);
  if (token) headers.push(token);
  const ctx: RegistrationContext = { callId: host.callId, cseq, expires, aor: host.aor, contact: host.contact, attempt };
  const extra = await host.extension?.prepare({ ...ctx, channelBinding: hash });
  const inner = host.build({
    method: 'REGISTER', uri: `sip:${host.domain}`, to: host.aor, callId: host.callId, fromTag: host.fromTag, cseq, contact: host.contact, headers,
    body: extra?.body, contentType: extra?.contentType,
  });
  // Credentials, in the order the server checks them (docs §3.1): token, digest bound to h,
  // certificate proof bound to h (made by the extension above), else the enrolled static key.
  if (!token && !host.presentsCertificate && host.digest && host.digest.onChallenge(r1) !== 'none') host.digest.authorize(inner);
  const outer = host.build({
    method: 'REGISTER', uri: `sip:${host.domain}`, to: anonymous, callId: host.callId, fromTag: host.fromTag, cseq,
    headers: [securityClient], body: sa.third(serialize(inner), host.target), contentType: HANDSHAKE_CONTENT_TYPE,
  });
  outer.set('From', from);
  outer.set('Via', inner.get('via')!); // same branch: the server checks inner against outer
  const r3 = await host.transact(outer);
  if (r3.status < 200 || r3.status >= 300 || !sa.established) {
    sa.drop(`handshake refused: ${r3.status} ${r3.reason}`);
    throw new RegistrationError(r3.status, r3.reason, r3);
  }
  if (token) sa.tokenUsed();
  sa.confirmed();
  return { kind: 'registered', response: r3, ctx };
}
