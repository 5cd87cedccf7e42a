/**
 * The SA handshake as the registrar's front door (SPEC SA-1; docs/protocol.md §3.1; seed 004
 * FIG. 4: key exchange, then mutual authentication, then the name registered through the
 * channel): step 1 of a REGISTER gets the 401 carrying step 2; step 3 carries the device's
 * real REGISTER, which is authenticated by the handshake (bound digest, enrolment token or
 * enrolled static key) and handed to the registrar.
 * @module
 */
import { HandshakeError } from '../../errors.js';
import { aeadRules } from '../../crypto/aead-rules.js';
import type { NoiseKeyPair } from '../../crypto/noise/index.js';
import {
  findCapability, formatCapability, HANDSHAKE_CONTENT_TYPE, HandshakeResponder, parseRange, RANGE_KINDS, SA_VERSION,
  SecurityAssociation, type SaCapability, type SaEndpoint,
} from '../../security/sa/index.js';
import { parseDatagram, validateMessage, type MessageLimits } from '../../sip/index.js';
import { SipRequest, type SipResponse } from '../../sip/message.js';
import { createResponse } from '../../sip/response-builder.js';
import { formatUri } from '../../sip/uri.js';
import type { Store } from '../../store/store.js';
import type { Inbound, Target } from '../../transport/types.js';
import type { Clock } from '../../util/clock.js';
import type { Random } from '../../util/random.js';
import type { LocalDomain } from '../local-domain.js';
import type { Registrar } from '../registrar.js';
import { authenticateHandshake, base64url, type CertificateProofVerifier, type HandshakeAuthMethod } from './handshake-auth.js';
import type { DeviceAddress } from './setting-sender.js';

/** What the server offers in `Security-Server`: every rule of the registry, every range. */
export const SERVER_CAPABILITY: SaCapability = { version: SA_VERSION, rules: aeadRules().map((r) => r.name), ranges: [...RANGE_KINDS] };

/** A device whose handshake and registration succeeded. */
export interface EstablishedDevice {
  sa: SecurityAssociation;
  deviceId: string;
  capability: SaCapability;
  /** The device's static key, hex. */
  staticKey: string;
  auth: HandshakeAuthMethod;
  address: DeviceAddress;
}

/** Collaborators of {@link RegistrationHandshake}. */
export interface RegistrationHandshakeOptions {
  store: Store;
  clock: Clock;
  random: Random;
  local: LocalDomain;
  realm: string;
  registrar: Registrar;
  endpoint: SaEndpoint;
  staticKey: NoiseKeyPair;
  limits?: MessageLimits | undefined;
  /** Handshakes in progress at most (step 1 seen, step 3 not yet). Default 10 000. */
  maxPending?: number | undefined;
  /** Certificate proofs bound to the handshake (devices authenticating by their certified key). */
  certificateProof?: CertificateProofVerifier | undefined;
}

interface PendingHandshake {
  responder: HandshakeResponder;
  capability: SaCapability;
  expiresAt: number;
}

const HANDSHAKE_TTL_MS = 64_000; // longer than Timer F (32 s): a device retransmitting step 3 still finds it

/** Handshakes in progress and their steps. */
export class RegistrationHandshake {
  private readonly o: RegistrationHandshakeOptions;
  private readonly pending = new Map<string, PendingHandshake>();
  /** Step 1s answered. */
  count = 0;

  constructor(opts: RegistrationHandshakeOptions) {
    this.o = opts;
  }

  /**
   * Runs one handshake step of a REGISTER carrying `application/sipher-handshake`. Step 1 →
   * the 401 with step 2; step 3 → the registrar's answer for the REGISTER inside, after
   * `establish` was called (so that the 200 leaves sealed under the new SA). Throws
   * `HandshakeError` (answered by the caller) for anything refused.
   */
  async run(req: SipRequest, inbound: Inbound, toTag: string, establish: (d: EstablishedDevice) => void): Promise<SipResponse> {
    const capability = findCapability(req.values('security-client'));
    if (!capability) throw new HandshakeError('handshake without Security-Client sipher-sa');
    const body = req.body;
    const step = body.length > 1 ? body[1] : 0;
    // By Call-ID and address only: step 3 may come over TCP when too large for UDP (RFC 3261 §18.1.1).
    const key = `${req.callId()}|${inbound.source.address}`;
    const now = this.o.clock.now();
    this.expirePending(now);
    if (step === 1) {
      if (this.pending.size >= (this.o.maxPending ?? 10_000)) throw new HandshakeError('too many handshakes in progress', { sipStatus: 503, sipReason: 'Service Unavailable' });
      const responder = HandshakeResponder.answer(body, {
        staticKey: this.o.staticKey, saId: this.o.random.bytes(8), callId: req.callId(),
        securityClient: req.getAll('security-client').join(', '),
        payload: Buffer.from(`Realm: ${this.o.realm}\r\n`),
      });
      this.pending.set(key, { responder, capability, expiresAt: now + HANDSHAKE_TTL_MS });
      this.count++;
      // Docs §3.1: 401 with a digest challenge whose nonce is the handshake hash.
      const r = createResponse(req, 401, undefined, toTag);
      r.append('WWW-Authenticate', `Digest realm="${this.o.realm}", nonce="${base64url(responder.hashAfterSecond)}", algorithm=SHA-256, qop="auth"`);
      r.append('Security-Server', formatCapability(SERVER_CAPABILITY));
      r.setBody(responder.secondBody, HANDSHAKE_CONTENT_TYPE);
      this.o.endpoint.sendInClear(r);
      return r;
    }
    if (step !== 3) throw new HandshakeError('bad handshake step');
    const p = this.pending.get(key);
    if (!p) throw new HandshakeError('no handshake in progress for this Call-ID', { sipStatus: 481, sipReason: 'Handshake Not Found' });
    this.pending.delete(key);
    const { payload, result } = p.responder.third(body);
    const inner = this.innerRegister(payload, req);
    const aor = this.o.local.canonicalAor(inner.to().uri);
    const auth = await authenticateHandshake(inner, {
      aor, realm: this.o.realm, hash: p.responder.hashAfterSecond, remoteStatic: result.remoteStatic, store: this.o.store, now,
      certificateProof: this.o.certificateProof,
    });
    const sa = new SecurityAssociation({ id: result.saId, role: 'responder', generation: result.generation, clock: this.o.clock, range: parseRange('whole') });
    sa.identity = aor;
    const protected_: Inbound = {
      ...inbound, message: inner,
      protection: { saId: sa.idHex, generation: 0, identity: aor, range: 'whole' },
    };
    const r = await this.o.registrar.handle(inner, protected_, toTag, { authenticatedAor: aor });
    if (r.status !== 200) {
      this.o.endpoint.sendInClear(r);
      return r;
    }
    const contact = inner.contacts();
    const first = contact === '*' ? undefined : contact[0];
    if (!first) {
      this.o.endpoint.sendInClear(r);
      return r;
    }
    const deviceId = first.params.get('+sip.instance') ?? `${aor}|${formatUri(first.uri)}`;
    // Established before the 200 leaves, so it is sealed under generation 0 (docs §3.1).
    sa.established = true;
    sa.deviceId = deviceId;
    establish({
      sa, deviceId, capability: p.capability, staticKey: result.remoteStatic.toString('hex'), auth,
      address: { contact: formatUri(first.uri), aor, target: targetOf(inbound) },
    });
    return r;
  }

  /** The REGISTER inside step 3, with the outer Via (stamped with the real source). */
  private innerRegister(payload: Buffer, outer: SipRequest): SipRequest {
    let inner;
    try {
      inner = parseDatagram(payload, this.o.limits);
      validateMessage(inner);
    } catch (e) {
      throw new HandshakeError('the REGISTER inside the handshake does not parse', { cause: e });
    }
    if (!(inner instanceof SipRequest) || inner.method !== 'REGISTER') throw new HandshakeError('the handshake must carry a REGISTER');
    if (inner.callId() !== outer.callId() || inner.cseq().seq !== outer.cseq().seq) throw new HandshakeError('inner REGISTER does not match the outer Call-ID/CSeq');
    if (inner.topVia().params.get('branch') !== outer.topVia().params.get('branch')) throw new HandshakeError('inner REGISTER does not match the outer Via');
    inner.headers = [...outer.headers.filter((h) => h.key === 'via'), ...inner.headers.filter((h) => h.key !== 'via')];
    return inner;
  }

  private expirePending(now: number): void {
    if (this.pending.size === 0) return;
    for (const [k, p] of this.pending) if (p.expiresAt <= now) this.pending.delete(k);
  }
}

function targetOf(inbound: Inbound): Target {
  return { ...inbound.source, connectionId: inbound.connectionId, local: inbound.local };
}
