/**
 * Certificate and key queries answered by the server for the AORs of its domain (SPEC ID-5,
 * ID-6; seed 001 third embodiment, FIG. 6, 7, 9; seed 004 second embodiment): an OPTIONS to
 * the target AOR whose `Accept` asks for certificates gets a signed list of the certificates
 * valid now; one asking for `application/sipher-public-key` gets the bare published key,
 * for authenticated users of the domain only. Queries for other domains are not handled
 * here: the proxy forwards them by its routes and relays the answer.
 * @module
 */
import type { DigestAuthenticator } from '../../auth/digest-authenticator.js';
import { certificateInfo, verifyCertificate } from '../../crypto/x509/index.js';
import { CertificateError } from '../../errors.js';
import {
  accepts,
  isPkcs7Mime,
  parseMediaType,
  PKIX_CERT,
  PUBLIC_KEY,
  signCertificateAnswer,
  verifyCertificateQuery,
} from '../../security/identity/index.js';
import type { SipRequest, SipResponse } from '../../sip/message.js';
import { createResponse } from '../../sip/response-builder.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../util/clock.js';
import type { LocalDomain } from '../local-domain.js';
import { answerOrRefuse, authenticateUas } from '../uas-auth.js';
import type { CertificateService } from './certificate-service.js';
import type { PolicyGate } from '../policy/policy-service.js';

/** What an OPTIONS asks for. */
export type QueryKind = 'certificates' | 'public-key';

/** Counters for metrics. */
export interface QueryCounters {
  answered: number;
  notFound: number;
  refused: number;
  /** Queries the connection policy denied (answered as for an unknown user). */
  denied: number;
}

/** See the module comment. */
export class CertificateQueryService {
  readonly counters: QueryCounters = { answered: 0, notFound: 0, refused: 0, denied: 0 };

  constructor(
    private readonly o: {
      certificates: CertificateService;
      store: Store;
      local: LocalDomain;
      clock: Clock;
      /** Authenticates key fetches; `undefined` when authentication is off (every requester trusted). */
      authenticator: DigestAuthenticator | undefined;
      /** The connection policy (SPEC POL-2): a denied query is answered as one for an unknown user. */
      policy?: PolicyGate | undefined;
    },
  ) {}

  /** Whether `req` is a query this service answers (`Accept` names a certificate or key type). */
  wants(req: SipRequest): QueryKind | undefined {
    if (req.method !== 'OPTIONS') return undefined;
    const accept = req.values('accept');
    if (accepts(accept, PUBLIC_KEY)) return 'public-key';
    if (accepts(accept, PKIX_CERT) || accepts(accept, 'application/pkcs7-mime')) return 'certificates';
    return undefined;
  }

  /** Answers the query; never throws for bad input (that becomes a 4xx). */
  async handle(req: SipRequest, kind: QueryKind, toTag: string): Promise<SipResponse> {
    return answerOrRefuse(req, toTag, () => (kind === 'public-key' ? this.publicKey(req, toTag) : this.certificatesOf(req, toTag)), () => {
      this.counters.refused++;
    });
  }

  private async certificatesOf(req: SipRequest, toTag: string): Promise<SipResponse> {
    const certs = this.o.certificates;
    const now = this.o.clock.now();
    const target = this.targetAor(req);
    if (req.body.length > 0 && isPkcs7Mime(parseMediaType(req.get('content-type')))) {
      // Seed 001 FIG. 6: a signed query. The signature must hold; a requester of this domain
      // must also chain to its root.
      const q = verifyCertificateQuery(req.body, { target: target ?? `sip:${certs.domain}`, callId: req.callId() });
      if (q.info.aor !== undefined && this.o.local.serves(hostOf(q.info.aor), undefined)) {
        await verifyCertificate(q.requester, { roots: certs.trustBundle(), now: new Date(now) });
      }
    }
    const server = { certificate: certs.serverCertificate(), privateKey: certs.serverPrivateKey(), chain: certs.trustBundle() };
    if (target === undefined) {
      // The server's own certificate: what a device encrypts its enrolment request to.
      const info = certificateInfo(certs.serverCertificate());
      return this.answer(req, toTag, signCertificateAnswer(
        { aor: `sip:${certs.domain}`, certificates: [{ certificate: server.certificate, serial: info.serialHex, notAfter: info.notAfter }], date: new Date(now) },
        server,
      ));
    }
    if (!(await this.userExists(target)) || this.denied(req, target, 'certificate-query')) return this.notFound(req, toTag, 'Not Found');
    const { valid, state } = await certs.validCertificates(target);
    if (state !== 'ok') return this.notFound(req, toTag, state === 'none' ? 'No Certificate' : state === 'expired' ? 'Certificate Expired' : 'Certificate Revoked');
    const body = signCertificateAnswer(
      { aor: target, certificates: valid.map((c) => ({ certificate: c.certificate, serial: c.serial, notAfter: new Date(c.notAfter) })), date: new Date(now) },
      server,
    );
    return this.answer(req, toTag, body);
  }

  private async publicKey(req: SipRequest, toTag: string): Promise<SipResponse> {
    // Seed 004 [0066]: only devices the server trusts fetch raw keys — here, authenticated
    // users of the domain (the connection policy refines this, POL-2).
    if (this.o.authenticator) {
      const auth = await authenticateUas(this.o.authenticator, this.o.local.domains[0]!, req, toTag);
      if (!auth.ok) return auth.response;
    }
    const target = this.targetAor(req);
    if (target === undefined || !(await this.userExists(target)) || this.denied(req, target, 'key-query')) return this.notFound(req, toTag, 'Not Found');
    const { valid, state } = await this.o.certificates.validCertificates(target, ['published', 'enrolled', 'presented']);
    const newest = valid[0];
    if (!newest) return this.notFound(req, toTag, state === 'expired' ? 'Key Expired' : state === 'revoked' ? 'Key Revoked' : 'No Published Key');
    const info = certificateInfo(newest.certificate);
    this.counters.answered++;
    const r = createResponse(req, 200, undefined, toTag);
    r.append('Expires', String(Math.max(0, Math.floor((newest.notAfter - this.o.clock.now()) / 1000))));
    r.setBody(Buffer.from(info.publicKey), PUBLIC_KEY);
    return r;
  }

  private answer(req: SipRequest, toTag: string, body: { contentType: string; body: Uint8Array }): SipResponse {
    this.counters.answered++;
    const r = createResponse(req, 200, undefined, toTag);
    r.setBody(Buffer.from(body.body), body.contentType);
    return r;
  }

  /** SPEC POL-2: whether the policy denies this requester (its From AOR) the query of `target`. */
  private denied(req: SipRequest, target: string, kind: 'certificate-query' | 'key-query'): boolean {
    const policy = this.o.policy;
    if (!policy) return false;
    let from: string;
    try {
      const u = req.from().uri;
      if (u.kind !== 'sip') return true;
      from = this.o.local.canonicalAor(u);
    } catch {
      return true;
    }
    if (policy.decide({ from, to: target, kind }).action === 'allow') return false;
    this.counters.denied++;
    return true;
  }

  private notFound(req: SipRequest, toTag: string, reason: string): SipResponse {
    this.counters.notFound++;
    return createResponse(req, 404, reason, toTag);
  }

  /** The canonical AOR of the Request-URI, or `undefined` for the domain itself. */
  private targetAor(req: SipRequest): string | undefined {
    const uri = req.requestUri();
    if (uri.kind !== 'sip') throw new CertificateError('malformed', 'query target is not a SIP URI');
    return uri.user === undefined ? undefined : this.o.local.canonicalAor(uri);
  }

  private async userExists(aor: string): Promise<boolean> {
    const m = /^sips?:([^@]+)@(.+)$/.exec(aor);
    return m ? (await this.o.store.getUser(m[2]!, m[1]!)) !== undefined : false;
  }
}

function hostOf(aor: string): string {
  return aor.slice(aor.indexOf('@') + 1);
}
