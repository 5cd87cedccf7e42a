/**
 * `sipher ca show|export-root|list|revoke SERIAL` (SPEC ID-7): operator commands over the
 * domain CA's records in the store. They need no key: revocation is a store record, and the
 * running server signs the next CRL with it.
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateAuthority, certificateInfo, createCaRoot, toPem } from '../crypto/x509/index.js';
import { createCryptoRandom } from '../util/random.js';
import { ConfigError, NotFoundError } from '../errors.js';
import type { SipherConfig } from '../server/config.js';
import type { CertificateRecord, RevocationReason, Store } from '../store/store.js';
import type { ParsedArgs } from './args.js';

const REASONS: readonly RevocationReason[] = ['unspecified', 'keyCompromise', 'superseded', 'cessationOfOperation'];

/** Output sink, so tests and the console can capture it. */
export interface CommandOutput {
  out(text: string): void;
}

/** Runs one `ca` sub-command; resolves with the exit code. */
export async function caCommand(
  sub: string | undefined,
  a: ParsedArgs,
  config: SipherConfig,
  withStore: <T>(fn: (s: Store) => Promise<T>) => Promise<T>,
  io: CommandOutput,
  now: () => number = Date.now,
): Promise<number> {
  const domain = config.domain;
  switch (sub) {
    case 'show': {
      const { roots, certs } = await withStore(async (s) => ({ roots: await s.listCaRoots(domain), certs: await s.listCertificates({ domain }) }));
      if (roots.length === 0) throw new NotFoundError(`no CA for ${domain} yet: it is created when the server first starts`);
      const t = now();
      const summary = {
        domain,
        roots: roots.map((r) => {
          const i = certificateInfo(r.certificate);
          return { fingerprint: r.fingerprint, active: r.active, subject: i.subject, notBefore: i.notBefore.toISOString(), notAfter: i.notAfter.toISOString() };
        }),
        certificates: {
          total: certs.length,
          valid: certs.filter((c) => c.revokedAt === undefined && c.notAfter > t).length,
          revoked: certs.filter((c) => c.revokedAt !== undefined).length,
          expired: certs.filter((c) => c.revokedAt === undefined && c.notAfter <= t).length,
        },
      };
      if (a.booleans.has('json')) io.out(JSON.stringify(summary) + '\n');
      else {
        io.out(`CA of ${domain}\n`);
        for (const r of summary.roots) io.out(`  root ${r.active ? '(active) ' : ''}${r.fingerprint}\n    ${r.subject}, valid ${r.notBefore} .. ${r.notAfter}\n`);
        const c = summary.certificates;
        io.out(`  certificates: ${c.total} (${c.valid} valid, ${c.revoked} revoked, ${c.expired} expired)\n`);
      }
      return 0;
    }
    case 'export-root': {
      const roots = await withStore((s) => s.listCaRoots(domain));
      if (roots.length === 0) throw new NotFoundError(`no CA for ${domain} yet: it is created when the server first starts`);
      const pem = roots.map((r) => toPem(r.certificate, 'CERTIFICATE')).join('');
      const file = a.values.get('out');
      if (file) writeFileSync(file, pem);
      else io.out(pem);
      return 0;
    }
    case 'export-server': {
      // The server's identity certificate (S/MIME, Route-Security signatures): what peer servers
      // list in routeSecurity.trust to verify this server's entries (SPEC POL-4).
      const t = now();
      const certs = (await withStore((s) => s.listCertificates({ domain, kind: 'server' }))).filter((c) => c.revokedAt === undefined && c.notAfter > t);
      const newest = certs.sort((x, y) => y.issuedAt - x.issuedAt)[0];
      if (!newest) throw new NotFoundError(`no server certificate for ${domain} yet: it is issued when the server first starts`);
      const pem = toPem(newest.certificate, 'CERTIFICATE');
      const file = a.values.get('out');
      if (file) writeFileSync(file, pem);
      else io.out(pem);
      return 0;
    }
    case 'list': {
      const aor = a.values.get('aor');
      const certs = await withStore((s) => s.listCertificates({ domain, ...(aor ? { aor } : {}) }));
      const t = now();
      const rows = certs.map((c) => ({ serial: c.serial, aor: c.aor, kind: c.kind, status: status(c, t), notAfter: new Date(c.notAfter).toISOString(), parent: c.parentSerial ?? null }));
      if (a.booleans.has('json')) io.out(JSON.stringify(rows) + '\n');
      else for (const r of rows) io.out(`${r.serial}  ${r.status.padEnd(7)}  ${r.kind.padEnd(9)}  ${r.notAfter}  ${r.aor}${r.parent ? `  (renews ${r.parent})` : ''}\n`);
      return 0;
    }
    case 'revoke': {
      const serial = a.positionals[0]?.toLowerCase().replace(/:/g, '');
      if (!serial || !/^[0-9a-f]{1,64}$/.test(serial)) throw new ConfigError('sipher ca revoke: a hexadecimal SERIAL is required');
      const reason = (a.values.get('reason') ?? 'unspecified') as RevocationReason;
      if (!REASONS.includes(reason)) throw new ConfigError(`--reason must be one of ${REASONS.join(', ')}`);
      const revoked = await withStore(async (s) => {
        const c = await s.getCertificate(serial);
        if (!c || c.domain !== domain) throw new NotFoundError(`no certificate ${serial} in the CA of ${domain}`);
        return s.revokeCertificate(serial, now(), reason);
      });
      if (revoked.length === 0) io.out(`certificate ${serial} was already revoked\n`);
      else io.out(`revoked ${revoked.join(', ')}\n`);
      return 0;
    }
    case 'rotate': {
      // SPEC ID-1: a new active root; the old ones stay in the trust bundle so that
      // certificates they issued keep verifying until they expire.
      const passphrase = config.ca.passphrase || process.env.SIPHER_CA_PASSPHRASE || readPassphraseFile(config.dataDir);
      const fingerprint = await withStore(async (s) => {
        const roots = await s.listCaRoots(domain);
        if (roots.length === 0) throw new NotFoundError(`no CA for ${domain} yet: it is created when the server first starts`);
        await CertificateAuthority.load(domain, roots, passphrase); // proves the passphrase before adding a root
        const t = now();
        const material = await createCaRoot({ domain, passphrase, now: new Date(t), random: createCryptoRandom(), validityDays: config.ca.rootValidityDays });
        const fp = certificateInfo(material.certificate).fingerprint;
        await s.addCaRoot({ domain, fingerprint: fp, certificate: material.certificate, encryptedKeyPem: material.encryptedKeyPem, active: true, createdAt: t });
        return fp;
      });
      io.out(`new active root ${fingerprint}; restart the server to issue with it (older roots stay trusted)\n`);
      return 0;
    }
    default:
      throw new ConfigError(`unknown ca command "${sub ?? ''}" (show, export-root, export-server, list, revoke, rotate)`);
  }
}

function status(c: CertificateRecord, now: number): string {
  if (c.revokedAt !== undefined) return 'revoked';
  return c.notAfter <= now ? 'expired' : 'valid';
}

function readPassphraseFile(dataDir: string): string {
  try {
    return readFileSync(join(dataDir, 'ca-passphrase'), 'utf8').trim();
  } catch {
    throw new ConfigError('the CA passphrase is needed: set SIPHER_CA_PASSPHRASE (or ca.passphrase)');
  }
}
