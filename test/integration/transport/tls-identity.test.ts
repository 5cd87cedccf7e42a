import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateTlsIdentity } from '../../../src/server/tls-identity.js';

describe('TLS identity', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sipher-tls-id-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('generates a self-signed ECDSA P-256 certificate with SANs, stored with safe modes', async () => {
    const id = await loadOrCreateTlsIdentity(dir, ['sip.example.com', 'localhost', '192.0.2.7']);
    assert.equal(id.generated, true);
    const x = new X509Certificate(id.cert);
    assert.equal(x.subject, 'CN=sip.example.com');
    assert.equal(x.subjectAltName, 'DNS:sip.example.com, DNS:localhost, IP Address:192.0.2.7, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.equal(x.publicKey.asymmetricKeyType, 'ec');
    assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(x.verify(x.publicKey), true, 'self-signed');
    assert.equal(x.ca, false);
    const days = (Date.parse(x.validTo) - Date.parse(x.validFrom)) / 86_400_000;
    assert.ok(days > 364 && days < 366, `validity ${days} days`);
    assert.match(x.serialNumber, /^[0-9A-F]{32}$/);
    assert.equal(id.fingerprint256, x.fingerprint256);
    assert.equal((await stat(join(dir, 'tls'))).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, 'tls', 'key.pem'))).mode & 0o777, 0o600);
  });

  it('loads the stored identity on the next start', async () => {
    const first = await loadOrCreateTlsIdentity(dir, ['sip.example.com']);
    const again = await loadOrCreateTlsIdentity(dir, ['other.example.com']);
    assert.equal(first.generated, false);
    assert.equal(again.generated, false);
    assert.equal(again.cert, first.cert);
    assert.equal(again.key, first.key);
  });

  it('uses distinct random serials', async () => {
    const other = await mkdtemp(join(tmpdir(), 'sipher-tls-id2-'));
    try {
      const a = await loadOrCreateTlsIdentity(dir, ['x']);
      const b = await loadOrCreateTlsIdentity(other, ['x']);
      assert.notEqual(new X509Certificate(a.cert).serialNumber, new X509Certificate(b.cert).serialNumber);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('explicit certFile/keyFile override the data directory', async () => {
    const other = await mkdtemp(join(tmpdir(), 'sipher-tls-id3-'));
    try {
      const made = await loadOrCreateTlsIdentity(other, ['explicit.example.com']);
      const got = await loadOrCreateTlsIdentity(dir, [], { certFile: join(other, 'tls', 'cert.pem'), keyFile: join(other, 'tls', 'key.pem') });
      assert.equal(got.generated, false);
      assert.equal(got.cert, made.cert);
      await assert.rejects(loadOrCreateTlsIdentity(dir, [], { certFile: join(other, 'tls', 'cert.pem') }), { name: 'ConfigError' });
      // A key that does not belong to the certificate is refused.
      await assert.rejects(
        loadOrCreateTlsIdentity(dir, [], { certFile: join(other, 'tls', 'cert.pem'), keyFile: join(dir, 'tls', 'key.pem') }),
        { name: 'ConfigError', message: /does not match/ },
      );
      await assert.rejects(loadOrCreateTlsIdentity(dir, [], { certFile: join(other, 'nope.pem'), keyFile: join(other, 'nope.key') }), { name: 'ConfigError' });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('refuses a directory holding only one of the two files', async () => {
    const other = await mkdtemp(join(tmpdir(), 'sipher-tls-id4-'));
    try {
      await mkdir(join(other, 'tls'));
      await writeFile(join(other, 'tls', 'cert.pem'), 'x');
      await assert.rejects(loadOrCreateTlsIdentity(other, ['x']), { name: 'ConfigError', message: /incomplete/ });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
