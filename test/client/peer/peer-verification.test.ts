/** Unit tests of the data channel's pure parts: fingerprints, addresses, identities, errors. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import {
  checkIdentity, createDataChannelIdentity, DataChannelError, expectedFingerprints, identityFingerprint,
} from '../../../src/client/peer/index.js';
import { canonicalIp, checkTrust, isIpLiteral } from '../../../src/client/peer/peer-verification.js';
import { certificateInfo } from '../../../src/crypto/x509/index.js';
import { InvalidArgumentError } from '../../../src/errors.js';
import { computeFingerprint, formatFingerprint } from '../../../src/sdp/index.js';
import { ManualClock } from '../../../src/util/clock.js';
import { createSeededRandom } from '../../../src/util/random.js';

describe('expectedFingerprints (RFC 8122 §5.1)', () => {
  const der = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]);
  const s256 = computeFingerprint(der, 'sha-256');
  const s1 = computeFingerprint(der, 'sha-1');
  const s512 = computeFingerprint(der, 'sha-512');

  it('accepts the parsed form, the a=fingerprint text and {algorithm, value} (colons optional, any case)', () => {
    const hex = s256.value.toString('hex');
    for (const input of [s256, formatFingerprint(s256), { algorithm: 'SHA-256', value: hex }, { algorithm: 'sha-256', value: hex.toUpperCase().replace(/(..)(?!$)/g, '$1:') }]) {
      const [fp, ...rest] = expectedFingerprints(input);
      assert.equal(rest.length, 0);
      assert.equal(fp!.hash, 'sha-256');
      assert.ok(fp!.value.equals(s256.value));
    }
  });

  it('keeps only the most preferred hash function offered, ignoring MD5 and unknown ones', () => {
    const md5 = 'md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF';
    assert.deepEqual(expectedFingerprints([s1, md5, s256]).map((f) => f.hash), ['sha-256']);
    assert.deepEqual(expectedFingerprints([s1, s512, s256]).map((f) => f.hash), ['sha-512']);
    assert.deepEqual(expectedFingerprints([s1, 'x-new AB:CD']).map((f) => f.hash), ['sha-1']);
    // Several certificates with the preferred hash: all kept (any one may be presented).
    const other = computeFingerprint(new Uint8Array([0x30, 0x00]), 'sha-256');
    assert.equal(expectedFingerprints([s256, other, s1]).length, 2);
  });

  it('refuses what cannot be checked', () => {
    assert.throws(() => expectedFingerprints([]), InvalidArgumentError);
    assert.throws(() => expectedFingerprints('md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF'), InvalidArgumentError);
    assert.throws(() => expectedFingerprints('sha-256 AB:CD'), InvalidArgumentError); // wrong digest length
    assert.throws(() => expectedFingerprints({ algorithm: 'sha-256', value: 'zz' }), InvalidArgumentError);
    assert.throws(() => expectedFingerprints(42 as never), InvalidArgumentError);
  });
});

describe('addresses', () => {
  it('canonicalIp folds IPv4-mapped IPv6 and IPv6 spellings', () => {
    assert.equal(canonicalIp('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(canonicalIp('::FFFF:7f00:2'), '127.0.0.2');
    assert.equal(canonicalIp('0:0:0:0:0:0:0:1'), '::1');
    assert.equal(canonicalIp('[2001:DB8::1]'), '2001:db8::1');
    assert.equal(canonicalIp('192.0.2.1'), '192.0.2.1');
  });

  it('isIpLiteral', () => {
    assert.equal(isIpLiteral('127.0.0.1'), true);
    assert.equal(isIpLiteral('[::1]'), true);
    assert.equal(isIpLiteral('alice.example.com'), false);
  });

  it('checkTrust normalizes the AOR and needs roots', () => {
    assert.equal(checkTrust(undefined), undefined);
    assert.equal(checkTrust({ roots: [new Uint8Array([1])], aor: 'SIP:alice@Example.COM' })!.aor, 'sip:alice@example.com');
    assert.throws(() => checkTrust({ roots: [], aor: 'sip:alice@example.com' }), InvalidArgumentError);
    assert.throws(() => checkTrust({ roots: [new Uint8Array([1])], aor: 'alice@example.com' }), InvalidArgumentError);
  });
});

describe('data channel identity', () => {
  it('is a self-signed ECDSA P-256 certificate valid from a minute ago, with its key', async () => {
    const clock = new ManualClock(Date.parse('2025-06-01T12:00:00Z'));
    const id = await createDataChannelIdentity({ clock, random: createSeededRandom(3), validityDays: 2, commonName: 'dev-1' });
    const x = new X509Certificate(Buffer.from(id.certificate));
    assert.equal(x.subject, 'CN=dev-1');
    assert.equal(x.issuer, 'CN=dev-1');
    assert.ok(x.verify(x.publicKey));
    assert.ok(x.checkPrivateKey(id.privateKey));
    assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const info = certificateInfo(id.certificate);
    assert.equal(info.notBefore.toISOString(), '2025-06-01T11:59:00.000Z');
    assert.equal(info.notAfter.toISOString(), '2025-06-03T12:00:00.000Z');
    assert.equal(info.isCa, false);
    assert.ok(identityFingerprint(id).value.equals(computeFingerprint(id.certificate).value));
    assert.equal(identityFingerprint(id, 'sha-384').value.length, 48);
    assert.equal(checkIdentity(id), id);
  });

  it('checkIdentity refuses a key that is not the certificate\'s, and non-certificates', async () => {
    const [a, b] = await Promise.all([createDataChannelIdentity(), createDataChannelIdentity()]);
    assert.throws(() => checkIdentity({ certificate: a.certificate, privateKey: b.privateKey }), /does not belong/);
    assert.throws(() => checkIdentity({ certificate: new Uint8Array([1, 2, 3]), privateKey: a.privateKey }), InvalidArgumentError);
    assert.throws(() => checkIdentity(undefined), InvalidArgumentError);
    await assert.rejects(createDataChannelIdentity({ validityDays: 0 }), InvalidArgumentError);
  });
});

describe('DataChannelError', () => {
  it('maps certificate refusals to SIPHER_ERR_CERTIFICATE and the rest to SIPHER_ERR_TRANSPORT', () => {
    for (const r of ['fingerprint-mismatch', 'untrusted-certificate'] as const) assert.equal(new DataChannelError(r, 'x').code, 'SIPHER_ERR_CERTIFICATE');
    for (const r of ['wrong-peer', 'timeout', 'connect', 'tls', 'closed'] as const) assert.equal(new DataChannelError(r, 'x').code, 'SIPHER_ERR_TRANSPORT');
    const e = new DataChannelError('tls', 'boom', { detectedBy: 'peer', cause: 1 });
    assert.equal(e.name, 'DataChannelError');
    assert.equal(e.detectedBy, 'peer');
    assert.equal(e.cause, 1);
    assert.equal(new DataChannelError('timeout', 'x').detectedBy, 'local');
  });
});
