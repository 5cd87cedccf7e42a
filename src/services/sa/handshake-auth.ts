/**
 * How a device proves who it is inside the SA handshake (SPEC SA-1), checked on the REGISTER
 * carried in the handshake's step 3 (docs/protocol.md §3.1):
 *
 * - **digest bound to the handshake**: an ordinary `Authorization: Digest …` (RFC 7616,
 *   qop=auth) whose nonce is base64url(h) — the Noise handshake hash after step 2, which the
 *   401 offers as its nonce. The response thus covers this very handshake (both ephemerals and
 *   the server's static key), cannot be replayed into another one, and travels encrypted;
 * - **enrolment token** (`sipher device token`): `Sipher-Token: id=<id>;proof=<base64url
 *   HMAC-SHA-256(SHA-256(secret), h)>`; one use, after which the device's static key is
 *   accepted for the token's AOR;
 * - **certificate** (Identity issue): the REGISTER presents a certificate of the domain CA with
 *   a signed proof (docs/protocol.md §2.3) whose `Channel-Binding` field is base64url(h);
 * - **enrolled static key**: no header; the Noise static key the device proved in step 3 is
 *   on record for the AOR.
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import { parseAuthValue } from '../../auth/auth-params.js';
import { baseAlgorithm, parseAlgorithm, verifyCredentials } from '../../auth/digest.js';
import { HandshakeError } from '../../errors.js';
import type { SipRequest } from '../../sip/message.js';
import { TOKEN_HEADER, tokenProof } from '../../security/sa/index.js';
import type { Store } from '../../store/store.js';
import { isRegistrationProof, verifyRegistrationProof } from '../../security/identity/index.js';
import type { Clock } from '../../util/clock.js';
import type { CertificateService } from '../identity/certificate-service.js';

/** How the device was authenticated. */
export type HandshakeAuthMethod = 'digest' | 'token' | 'static-key' | 'certificate';

/** base64url without padding (RFC 4648 §5). */
export function base64url(b: Buffer): string {
  return b.toString('base64url');
}

const REFUSED = { sipStatus: 403, sipReason: 'Handshake Not Accepted' } as const;

/**
 * Authenticates the step-3 REGISTER for `aor`. Resolves with the method used; rejects with
 * {@link HandshakeError} (403) when no credential is acceptable.
 */
export async function authenticateHandshake(
  req: SipRequest,
  ctx: {
    aor: string; realm: string; hash: Buffer; remoteStatic: Buffer; store: Store; now: number;
    /** Verifies a certificate proof bound to the handshake (SPEC SA-1 "its certified key"); absent: not offered. */
    certificateProof?: CertificateProofVerifier | undefined;
  },
): Promise<HandshakeAuthMethod> {
  const staticHex = ctx.remoteStatic.toString('hex');
  const token = req.get(TOKEN_HEADER);
  if (token !== undefined) {
    const m = /^\s*id=([A-Za-z0-9_-]{1,64})\s*;\s*proof=([A-Za-z0-9_-]{43})\s*$/.exec(token);
    if (!m) throw new HandshakeError('malformed Sipher-Token');
    const rec = await ctx.store.getEnrolmentToken(m[1]!);
    if (!rec || rec.aor !== ctx.aor) throw new HandshakeError('unknown enrolment token', REFUSED);
    const want = tokenProof(Buffer.from(rec.secretHash, 'hex'), ctx.hash);
    const got = Buffer.from(m[2]!, 'base64url');
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw new HandshakeError('wrong enrolment token proof', REFUSED);
    let used;
    try {
      used = await ctx.store.consumeEnrolmentToken(rec.id, ctx.now, staticHex);
    } catch {
      used = undefined; // the key is already on record (perhaps revoked): refuse
    }
    if (!used) throw new HandshakeError('enrolment token used, expired or key already enrolled', REFUSED);
    return 'token';
  }
  const auth = req.getAll('authorization');
  if (auth.length > 0) {
    if (await digestBound(auth, req, ctx)) return 'digest';
    throw new HandshakeError('digest credentials not accepted', REFUSED);
  }
  if (ctx.certificateProof && (await ctx.certificateProof(req, { aor: ctx.aor, hash: ctx.hash }))) return 'certificate';
  const key = await ctx.store.getDeviceKey(staticHex);
  if (key && key.revokedAt === undefined && key.aor === ctx.aor) return 'static-key';
  throw new HandshakeError('no credentials for this handshake', REFUSED);
}

async function digestBound(values: readonly string[], req: SipRequest, ctx: { aor: string; realm: string; hash: Buffer; store: Store }): Promise<boolean> {
  for (const v of values) {
    let p;
    try {
      p = parseAuthValue(v);
    } catch {
      continue;
    }
    if (p.scheme.toLowerCase() !== 'digest') continue;
    const get = (k: string): string | undefined => p.params.get(k);
    const alg = parseAlgorithm(get('algorithm'));
    const username = get('username');
    const response = get('response');
    const uri = get('uri');
    if (!alg || !username || !response || !uri || get('realm') !== ctx.realm) continue;
    // The channel binding: the nonce must be this handshake's hash (docs/protocol.md §3.1).
    if (get('nonce') !== base64url(ctx.hash) || get('qop') !== 'auth' || !get('cnonce') || !get('nc')) continue;
    if (`sip:${username}@${ctx.realm}` !== ctx.aor) continue;
    const user = await ctx.store.getUser(ctx.realm, username);
    if (!user) continue;
    const ha1 = baseAlgorithm(alg) === 'MD5' ? user.ha1Md5 : user.ha1Sha256;
    if (verifyCredentials({ alg, ha1, method: req.method, uri, nonce: get('nonce')!, qop: 'auth', nc: get('nc')!, cnonce: get('cnonce')!, response })) return true;
  }
  return false;
}

/** Verifies certificate proofs bound to a handshake with the domain CA (revoked → `403 Certificate Revoked`). */
export type CertificateProofVerifier = (req: SipRequest, binding: { aor: string; hash: Buffer }) => Promise<boolean>;

/**
 * The certificate proof check of the handshake: a signed registration proof (docs/protocol.md
 * §2.3) whose `Channel-Binding` is this handshake's hash, by a certificate of the domain CA for
 * the AOR that is not revoked. `false` when the REGISTER presents no certificate.
 */
export function certificateProofVerifier(certificates: CertificateService, clock: Clock): CertificateProofVerifier {
  return async (req, b) => {
    if (!isRegistrationProof(req.get('content-type'))) return false;
    const proof = await verifyRegistrationProof(
      req.body,
      { aor: b.aor, callId: req.callId(), cseq: req.cseq().seq, channelBinding: b.hash },
      { roots: certificates.trustBundle(), now: new Date(clock.now()) },
    );
    await certificates.checkPresented(proof.certificate, b.aor, undefined); // throws for a revoked one
    return true;
  };
}
