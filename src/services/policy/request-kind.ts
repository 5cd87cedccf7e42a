/**
 * Which kind of request, for the connection policy (SPEC POL-2), a SIP request is.
 * @module
 */
import { accepts, PKIX_CERT, PUBLIC_KEY } from '../../security/identity/media-types.js';
import type { RequestKind } from './policy-document.js';

/**
 * The policy kind of a request, or `undefined` when the policy does not apply to it:
 * INVITE → `call`; MESSAGE → `message`; SUBSCRIBE, PUBLISH or NOTIFY for the `presence`
 * event package (RFC 3856) → `presence`; OPTIONS whose `Accept` asks for a published key →
 * `key-query`, or for certificates (`application/pkix-cert`, or `application/pkcs7-mime` as
 * the certificate query service also answers) → `certificate-query` (SPEC ID-5, ID-6).
 *
 * `accept` and `event` are header values; several `Accept` values may be given
 * comma-separated. Methods are case-sensitive (RFC 3261 §7.1), event package names are
 * compared without regard to case.
 */
export function requestKind(method: string, accept?: string | undefined, event?: string | undefined): RequestKind | undefined {
  switch (method) {
    case 'INVITE':
      return 'call';
    case 'MESSAGE':
      return 'message';
    case 'SUBSCRIBE':
    case 'PUBLISH':
    case 'NOTIFY':
      return eventPackage(event) === 'presence' ? 'presence' : undefined;
    case 'OPTIONS': {
      if (!accept) return undefined;
      const values = accept.split(',');
      // The same precedence as CertificateQueryService.wants: a key request wins.
      if (accepts(values, PUBLIC_KEY)) return 'key-query';
      if (accepts(values, PKIX_CERT) || accepts(values, 'application/pkcs7-mime')) return 'certificate-query';
      return undefined;
    }
    default:
      return undefined;
  }
}

/** The package of an `Event` header value (RFC 6665 §8.2.1), lower-cased: `presence;id=1` → `presence`. */
function eventPackage(event: string | undefined): string | undefined {
  if (!event) return undefined;
  return event.split(';', 1)[0]!.trim().toLowerCase();
}
