/**
 * Key publication (SPEC ID-6, seed 004 second embodiment, FIG. 6–9): a device PUBLISHes
 * (RFC 3903) its public key, as a PKCS#10 request (the key plus proof of possession), with
 * `Event: sipher-key`; the server certifies it and returns the certificate in the `200 OK`.
 * `Expires` sets the certificate's validity; `Expires: 0` with `SIP-If-Match` withdraws the
 * publication (the certificate is revoked as superseded).
 * @module
 */
import type { DigestAuthenticator } from '../../auth/digest-authenticator.js';
import { parseCsr } from '../../crypto/x509/index.js';
import { KEY_EVENT, parseMediaType, PKCS10, PKIX_CERT } from '../../security/identity/index.js';
import type { SipRequest, SipResponse } from '../../sip/message.js';
import { createResponse } from '../../sip/response-builder.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../util/clock.js';
import type { LocalDomain } from '../local-domain.js';
import { answerOrRefuse, authenticateUas } from '../uas-auth.js';
import type { CertificateService } from './certificate-service.js';

/** Counters for metrics. */
export interface PublicationCounters {
  published: number;
  withdrawn: number;
  rejected: number;
}

/** See the module comment. */
export class KeyPublicationService {
  readonly counters: PublicationCounters = { published: 0, withdrawn: 0, rejected: 0 };

  constructor(
    private readonly o: {
      certificates: CertificateService;
      store: Store;
      local: LocalDomain;
      clock: Clock;
      authenticator: DigestAuthenticator | undefined;
      /** Validity when the PUBLISH has no Expires, s. Default 3600. */
      defaultExpires?: number;
      /** Longest validity granted, s. Default 86 400. */
      maxExpires?: number;
    },
  ) {}

  /** Whether `req` is a key publication (`PUBLISH` with `Event: sipher-key`). */
  wants(req: SipRequest): boolean {
    return req.method === 'PUBLISH' && req.values('event').some((e) => e.split(';')[0]!.trim().toLowerCase() === KEY_EVENT);
  }

  /** Handles the PUBLISH; never throws for bad input. */
  async handle(req: SipRequest, toTag: string): Promise<SipResponse> {
    return answerOrRefuse(req, toTag, () => this.process(req, toTag), () => {
      this.counters.rejected++;
    });
  }

  private async process(req: SipRequest, toTag: string): Promise<SipResponse> {
    const uri = req.requestUri();
    if (uri.kind !== 'sip' || uri.user === undefined) return this.reject(req, 404, 'Not Found', toTag);
    const aor = this.o.local.canonicalAor(uri);
    if (this.o.authenticator) {
      const auth = await authenticateUas(this.o.authenticator, this.o.local.domains[0]!, req, toTag);
      if (!auth.ok) return auth.response;
      // RFC 3903 §6 step 2: only the owner publishes for an AOR.
      if (!this.o.local.domains.some((d) => `sip:${auth.username}@${d}` === aor)) return this.reject(req, 403, 'Not Allowed To Publish For This AOR', toTag);
    }
    const now = this.o.clock.now();
    const expiresHeader = req.expires();
    if (expiresHeader === 0) return this.withdraw(req, aor, toTag);
    if (req.body.length === 0) return this.reject(req, 400, 'Missing Key', toTag);
    if (parseMediaType(req.get('content-type'))?.essence !== PKCS10) {
      const r = this.reject(req, 415, 'Unsupported Media Type', toTag);
      r.append('Accept', PKCS10);
      return r;
    }
    const csr = await parseCsr(req.body);
    const expires = Math.min(expiresHeader ?? this.o.defaultExpires ?? 3600, this.o.maxExpires ?? 86_400);
    const record = await this.o.certificates.issue({ aor, csr, kind: 'published', notAfter: now + expires * 1000 });
    await this.o.store.addCertificate(record);
    this.counters.published++;
    const r = createResponse(req, 200, undefined, toTag);
    r.append('SIP-ETag', record.serial); // RFC 3903 §11.3.1
    r.append('Expires', String(expires));
    r.setBody(Buffer.from(record.certificate), PKIX_CERT);
    return r;
  }

  private async withdraw(req: SipRequest, aor: string, toTag: string): Promise<SipResponse> {
    const etag = req.get('sip-if-match')?.trim().toLowerCase();
    const rec = etag ? await this.o.store.getCertificate(etag) : undefined;
    // RFC 3903 §6 step 4: an unknown entity tag is 412.
    if (!rec || rec.aor !== aor || rec.kind !== 'published') return this.reject(req, 412, 'Conditional Request Failed', toTag);
    if (rec.revokedAt === undefined) await this.o.certificates.revoke(rec.serial, 'superseded');
    this.counters.withdrawn++;
    const r = createResponse(req, 200, undefined, toTag);
    r.append('SIP-ETag', rec.serial);
    r.append('Expires', '0');
    return r;
  }

  private reject(req: SipRequest, status: number, reason: string, toTag: string): SipResponse {
    this.counters.rejected++;
    return createResponse(req, status, reason, toTag);
  }
}
