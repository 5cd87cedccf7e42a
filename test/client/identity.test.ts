/**
 * The SDK's identity services against two real Sipher servers of different domains (SPEC
 * ID-2 … ID-8, issue 3 acceptance): enrolment (password and server-certificate protection),
 * renewal with every refresh and lineage, revocation cascading and blocking renewal,
 * presenting a held certificate, certificate queries across domains (revoked and expired never
 * returned), signed queries, key publication and raw key fetch, the CRL over HTTP, and a
 * registration certificate used for ordinary TLS trusting only the domain root.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeHa1 } from '../../src/auth/digest.js';
import { RegistrationError } from '../../src/client/client-errors.js';
import type { CertificateEvent } from '../../src/client/identity/device-identity.js';
import { SipherClient } from '../../src/client/sipher-client.js';
import type { SipherClientOptions } from '../../src/client/client-options.js';
import { certificateInfo, createCaRoot, CertificateAuthority, toPem } from '../../src/crypto/x509/index.js';
import { loadConfig } from '../../src/server/config.js';
import { SipServer } from '../../src/server/sip-server.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { ManualClock } from '../../src/util/clock.js';
import { createSeededRandom } from '../../src/util/random.js';

const A = 'a.example';
const B = 'b.example';
const pw = (u: string): string => `pw-${u}-secret`;

interface Domain {
  dir: string;
  store: Store;
  server: SipServer;
  port: number;
  root: Uint8Array;
}

async function startDomain(domain: string, users: string[], routes: Record<string, string> = {}): Promise<Domain> {
  const dir = mkdtempSync(join(tmpdir(), `sipher-id-${domain}-`));
  const store = await openStore('', dir);
  const now = Date.now();
  for (const u of users) {
    await store.addUser({ domain, username: u, ha1Md5: computeHa1('MD5', u, domain, pw(u)), ha1Sha256: computeHa1('SHA-256', u, domain, pw(u)), createdAt: now, updatedAt: now });
  }
  const config = loadConfig({ env: { SIPHER_HTTP_LISTEN: '127.0.0.1:0', SIPHER_CA_PASSPHRASE: `passphrase-of-${domain}` }, overrides: { dataDir: dir, domain, listen: ['udp:127.0.0.1:0'] } });
  config.routes = routes;
  const server = new SipServer(config, { store });
  const port = (await server.start())[0]!.port;
  return { dir, store, server, port, root: server.certificateService!.trustBundle()[0]! };
}

describe('SDK identity against two Sipher domains', () => {
  let a: Domain;
  let b: Domain;
  const clients: SipherClient[] = [];

  before(async () => {
    a = await startDomain(A, ['alice', 'carol', 'dave', 'erin', 'frank']);
    // Domain B routes a.example to A's server (static routes, SIP-6).
    b = await startDomain(B, ['bob'], { [A]: `127.0.0.1:${a.port}` });
  });

  after(async () => {
    for (const c of clients) await c.close();
    for (const d of [a, b]) {
      await d.server.stop();
      await d.store.close();
      rmSync(d.dir, { recursive: true, force: true });
    }
  });

  async function client(user: string, d: Domain, domain: string, extra: Partial<SipherClientOptions> = {}): Promise<SipherClient> {
    const c = new SipherClient({
      aor: `sip:${user}@${domain}`, password: pw(user), expires: 300,
      server: { host: '127.0.0.1', port: d.port, transport: 'udp' },
      identity: { trustRoots: [d.root] },
      ...extra,
    });
    clients.push(c);
    await c.start();
    return c;
  }

  it('enrols with a password recipient: certificate until the registration expires, stored with the binding', async () => {
    const c = await client('alice', a, A);
    const events: CertificateEvent[] = [];
    c.on('certificate', (e) => events.push(e));
    const reg = await c.register();
    assert.equal(events.length, 1);
    assert.equal(events[0]!.renewed, false);
    const info = c.identity!.certificateInfo!;
    assert.equal(info.aor, `sip:alice@${A}`);
    assert.equal(info.notAfter.getTime(), (await a.store.getBindings(`sip:alice@${A}`))[0]!.expiresAt);
    assert.ok(Math.abs(info.notAfter.getTime() - reg.expiresAt) < 2000);
    const rec = (await a.store.listCertificates({ aor: `sip:alice@${A}` }))[0]!;
    assert.equal(rec.serial, info.serialHex);
    assert.equal(rec.kind, 'enrolled');
  });

  it('enrols encrypted to the server certificate (fetched by OPTIONS, checked against the pinned root)', async () => {
    const c = await client('carol', a, A, { identity: { trustRoots: [a.root], protection: 'server-certificate' } });
    await c.register();
    assert.equal(c.identity!.certificateInfo!.aor, `sip:carol@${A}`);
  });

  it('refuses an answer signed under a root it does not trust', async () => {
    const other = await createCaRoot({ domain: A, passphrase: 'x-passphrase-0000', now: new Date(), random: createSeededRandom(7) });
    const c = await client('dave', a, A, { identity: { trustRoots: [other.certificate] } });
    await assert.rejects(c.register(), (e: unknown) => (e as { problem?: string }).problem === 'untrusted');
  });

  it('renews with every refresh (lineage recorded); revoking cascades and blocks renewal of the key', async () => {
    const clock = new ManualClock(Date.now());
    const c = await client('erin', a, A, { clock, refreshMargin: 60 });
    const events: CertificateEvent[] = [];
    c.on('certificate', (e) => events.push(e));
    const failed: number[] = [];
    c.on('registration-failed', (e) => failed.push(e.status ?? 0));
    await c.register();
    const first = c.identity!.certificateInfo!.serialHex;
    const renewed = new Promise<void>((resolve) => c.once('certificate', () => resolve()));
    clock.advance(240_000); // refresh at max(300/2, 300-60) = 240 s
    await renewed;
    // The certificate event comes before the refresh timer is re-armed: let that finish.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(events.length, 2);
    assert.equal(events[1]!.renewed, true);
    const second = c.identity!.certificateInfo!.serialHex;
    assert.notEqual(second, first);
    const rec = await a.store.getCertificate(second);
    assert.equal(rec!.parentSerial, first, 'lineage: the renewal names its parent');
    // Revoking the first certificate revokes the one renewed from it.
    const revoked = await a.server.certificateService!.revoke(first, 'keyCompromise');
    assert.deepEqual(revoked.sort(), [first, second].sort());
    // The next renewal for the same key is refused.
    const refused = new Promise<void>((resolve) => c.once('registration-failed', () => resolve()));
    clock.advance(240_000);
    await refused;
    assert.deepEqual(failed, [403]);
    // The CRL over HTTP lists both, and OpenSSL verifies it against the root.
    const http = a.server.httpAddress!;
    const res = await fetch(`http://127.0.0.1:${http.port}/ca/${A}/crl`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/pkix-crl');
    const work = mkdtempSync(join(tmpdir(), 'sipher-crl-'));
    try {
      writeFileSync(join(work, 'crl.der'), Buffer.from(await res.arrayBuffer()));
      writeFileSync(join(work, 'root.pem'), toPem(a.root, 'CERTIFICATE'));
      const text = execFileSync('openssl', ['crl', '-inform', 'DER', '-in', 'crl.der', '-CAfile', 'root.pem', '-noout', '-text'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
      for (const s of [first, second]) assert.match(text.toLowerCase(), new RegExp(`serial number: ${s}`));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    const bad = await fetch(`http://127.0.0.1:${http.port}/ca/nowhere.example/crl`);
    assert.equal(bad.status, 404);
    assert.equal(bad.headers.get('content-type'), 'application/problem+json');
  });

  it('registers a certificate the device already holds; a revoked one is refused with the reason', async () => {
    const alice = clients[0]!;
    const keyPair = alice.identity!.keyPair;
    const cert = alice.identity!.certificate!;
    const c = await client('alice', a, A, { identity: { trustRoots: [a.root], mode: 'present', keyPair, certificate: cert } });
    const events: CertificateEvent[] = [];
    c.on('certificate', (e) => events.push(e));
    await c.register();
    assert.equal(events[0]!.info.serialHex, certificateInfo(cert).serialHex);
    // A certificate of the same AOR signed by a foreign CA is not trusted.
    const foreign = await createCaRoot({ domain: A, passphrase: 'foreign-passphrase', now: new Date(), random: createSeededRandom(3) });
    const fca = await CertificateAuthority.load(A, [foreign], 'foreign-passphrase');
    const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const fake = await fca.issue({ aor: `sip:alice@${A}`, publicKey: new Uint8Array(kp.publicKey.export({ type: 'spki', format: 'der' })), notBefore: new Date(Date.now() - 1000), notAfter: new Date(Date.now() + 600_000), random: createSeededRandom(4) });
    const f = await client('alice', a, A, { identity: { trustRoots: [a.root], mode: 'present', keyPair: kp, certificate: fake } });
    await assert.rejects(f.register(), (e: unknown) => e instanceof RegistrationError && e.status === 403 && e.reason === 'Certificate Not Trusted');
  });

  it('a device of domain B gets the certificate of a device of domain A through its own server; revoked and expired never returned', async () => {
    const bob = await client('bob', b, B);
    await bob.register();
    const alice = clients[0]!;
    const answer = await bob.identity!.queryCertificates(`sip:alice@${A}`);
    assert.ok(answer.certificates.some((x) => x.info.serialHex === alice.identity!.certificateInfo!.serialHex));
    assert.equal(answer.signerTrusted, false, 'A is not in B\'s trust roots');
    const trusted = await bob.identity!.queryCertificates(`sip:alice@${A}`, { extraRoots: [a.root] });
    assert.equal(trusted.signerTrusted, true);
    // erin's certificates are all revoked: never returned.
    await assert.rejects(bob.identity!.queryCertificates(`sip:erin@${A}`), (e: unknown) => e instanceof RegistrationError && e.status === 404 && e.reason === 'Certificate Revoked');
    // frank has only an expired certificate.
    await a.store.addCertificate({
      serial: 'dead01', domain: A, aor: `sip:frank@${A}`, kind: 'enrolled', certificate: a.root, spkiFingerprint: 'x'.repeat(64),
      notBefore: Date.now() - 7_200_000, notAfter: Date.now() - 3_600_000, issuedAt: Date.now() - 7_200_000,
    });
    await assert.rejects(bob.identity!.queryCertificates(`sip:frank@${A}`), (e: unknown) => e instanceof RegistrationError && e.status === 404 && e.reason === 'Certificate Expired');
    await assert.rejects(bob.identity!.queryCertificates(`sip:nobody@${A}`), (e: unknown) => e instanceof RegistrationError && e.status === 404 && e.reason === 'Not Found');
    // A signed query (seed 001 FIG. 6) within domain A.
    const signed = await alice.identity!.queryCertificates(`sip:carol@${A}`, { sign: true });
    assert.equal(signed.certificates.length, 1);
    assert.equal(signed.signerTrusted, true);
  });

  it('publishes a key (PUBLISH → certificate); a trusted device fetches the raw key; withdrawal revokes', async () => {
    const carol = clients[1]!;
    const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pub = await carol.identity!.publishKey({ keyPair: kp, expires: 600 });
    assert.equal(pub.info.aor, `sip:carol@${A}`);
    assert.equal(pub.expires, 600);
    const alice = clients[0]!;
    const fetched = await alice.identity!.fetchPublicKey(`sip:carol@${A}`);
    assert.deepEqual(Buffer.from(fetched.publicKey), kp.publicKey.export({ type: 'spki', format: 'der' }));
    assert.ok(createPublicKey({ key: Buffer.from(fetched.publicKey), format: 'der', type: 'spki' }));
    await carol.identity!.withdrawKey(pub.etag);
    assert.notEqual((await a.store.getCertificate(pub.etag))?.revokedAt, undefined);
  });

  it('a registration certificate serves ordinary TLS for a client trusting only the domain root', async () => {
    const alice = clients[0]!;
    const cert = toPem(alice.identity!.certificate!, 'CERTIFICATE');
    const key = alice.identity!.keyPair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const srv = createTlsServer({ cert, key }, (s) => s.end('hello over tls'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    try {
      const got = await new Promise<string>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port, ca: toPem(a.root, 'CERTIFICATE'), checkServerIdentity: () => undefined }, () => undefined);
        let data = '';
        s.on('data', (d) => (data += d.toString()));
        s.on('end', () => resolve(data));
        s.on('error', reject);
      });
      assert.equal(got, 'hello over tls');
      await assert.rejects(
        new Promise((resolve, reject) => {
          const s = connect({ host: '127.0.0.1', port, ca: toPem(b.root, 'CERTIFICATE'), checkServerIdentity: () => undefined }, () => resolve(undefined));
          s.on('error', reject);
        }),
      );
    } finally {
      srv.close();
    }
  });
});
