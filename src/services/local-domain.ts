/**
 * Which names and addresses mean "this server" (RFC 3261 §16.4, §10.3 step 1): the served
 * domains, and the server's own addresses, which are aliases of the first domain — a device
 * configured with the server's IP as its domain registers and is reached under the same AOR.
 * One place for the registrar and the proxy.
 * @module
 */
import type { SipRequest } from '../sip/message.js';
import { aorOf, formatUri, normalizeHost, type Uri } from '../sip/uri.js';

/** The served domains and local addresses. */
export class LocalDomain {
  /**
   * @param domains - served domains, lower-case; the first is canonical.
   * @param isLocal - true if host:port is one of this server's own addresses.
   */
  constructor(
    readonly domains: readonly string[],
    readonly isLocal: (host: string, port: number | undefined) => boolean,
  ) {
    if (domains.length === 0) throw new RangeError('at least one domain is required');
  }

  /** True if `host` is a served domain or a local address (port checked for addresses). */
  serves(host: string, port?: number): boolean {
    return this.domains.includes(normalizeHost(host)) || this.isLocal(host, port);
  }

  /** The canonical AOR of a URI: local addresses map to the first domain. */
  canonicalAor(uri: Uri): string {
    if (uri.kind === 'sip' && !this.domains.includes(normalizeHost(uri.host)) && this.isLocal(uri.host, uri.port)) {
      return aorOf({ ...uri, host: this.domains[0]! });
    }
    return aorOf(uri);
  }

  /**
   * RFC 3261 §16.4: removes the Route entries at the top that name this server (two in a row
   * after double record-routing, RFC 5658), and repairs a Request-URI that names this server
   * because the previous hop was a strict router. Idempotent.
   */
  stripOwnRoutes(req: SipRequest): void {
    const ruri = req.requestUri();
    if (ruri.kind === 'sip' && ruri.user === undefined && this.isLocal(ruri.host, ruri.port) && req.has('route')) {
      const routes = req.values('route');
      // The last Route value becomes the Request-URI.
      const last = req.routes()[routes.length - 1]!;
      if (last.uri.kind === 'sip' && !this.isLocal(last.uri.host, last.uri.port)) {
        req.setUri(formatUri(last.uri));
        req.remove('route');
        for (const r of routes.slice(0, -1)) req.append('Route', r);
      }
    }
    for (let i = 0; i < 2; i++) {
      const top = req.routes()[0];
      if (!top || top.uri.kind !== 'sip' || !this.isLocal(top.uri.host, top.uri.port)) break;
      req.removeFirstValue('route');
    }
  }
}
