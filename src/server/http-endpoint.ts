/**
 * The server's HTTP endpoint (SPEC ID-7): publishes each served domain's CA root and CRL.
 *
 * - `GET /ca/{domain}/crl` — the current CRL, DER, `application/pkix-crl` (RFC 2585 §4.2)
 * - `GET /ca/{domain}/root.pem` — the trust bundle, PEM (active root first)
 * - `GET /ca/{domain}/root.der` — the active root, DER, `application/pkix-cert`
 *
 * Errors are RFC 9457 `application/problem+json`. The admin API (`/api/…`, admin-api.ts)
 * is served here too.
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toPem } from '../crypto/x509/index.js';
import type { CertificateService } from '../services/identity/certificate-service.js';
import { PKIX_CERT, PKIX_CRL } from '../security/identity/index.js';
import type { Logger } from '../util/logger.js';
import { handleAdmin, type AdminApiContext } from './admin-api.js';
import { problem } from './http-problem.js';

/** A running HTTP endpoint. */
export interface HttpEndpoint {
  /** The bound address and port. */
  address: AddressInfo;
  close(): Promise<void>;
}

/** Starts the endpoint on `address:port`. */
export async function startHttpEndpoint(opts: {
  address: string;
  port: number;
  certificates: ReadonlyMap<string, CertificateService>;
  logger: Logger;
  /** The admin API (`/api/…`), when SAs are enabled. */
  admin?: AdminApiContext | undefined;
}): Promise<HttpEndpoint> {
  const server: Server = createServer((req, res) => {
    handle(req, res, opts.certificates, opts.admin).catch((e: unknown) => {
      opts.logger.error('http request failed', { error: e as Error, path: req.url });
      if (!res.headersSent) problem(res, 500, 'Internal Server Error', 'the request could not be completed');
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const ROUTE = /^\/ca\/([a-z0-9.-]+)\/(crl|root\.pem|root\.der)$/;

async function handle(req: IncomingMessage, res: ServerResponse, certificates: ReadonlyMap<string, CertificateService>, admin: AdminApiContext | undefined): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  if (admin && (await handleAdmin(req, res, path, admin))) return;
  const m = ROUTE.exec(path);
  if (!m) return problem(res, 404, 'Not Found', `no resource at ${path.slice(0, 100)}`);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return problem(res, 405, 'Method Not Allowed', `${req.method ?? ''} is not allowed here`);
  }
  const ca = certificates.get(m[1]!);
  if (!ca) return problem(res, 404, 'Not Found', `domain ${m[1]!} is not served here`);
  switch (m[2]) {
    case 'crl':
      return send(res, req, PKIX_CRL, Buffer.from(await ca.crl()), 'max-age=300');
    case 'root.der':
      return send(res, req, PKIX_CERT, Buffer.from(ca.trustBundle()[0]!), 'max-age=3600');
    default:
      return send(res, req, 'application/x-pem-file', Buffer.from(ca.trustBundle().map((r) => toPem(r, 'CERTIFICATE')).join('')), 'max-age=3600');
  }
}

function send(res: ServerResponse, req: IncomingMessage, type: string, body: Buffer, cache: string): void {
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': cache });
  res.end(req.method === 'HEAD' ? undefined : body);
}
