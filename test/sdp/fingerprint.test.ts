/**
 * `a=fingerprint` (RFC 8122 §5): parse/format, and the fingerprint computed from a DER
 * certificate equals OpenSSL's `x509 -fingerprint` for a certificate made by `openssl req`.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  computeFingerprint, fingerprintHex, fingerprintMatches, formatFingerprint, parseFingerprint,
} from '../../src/sdp/index.js';
import { InvalidArgumentError, SipParseError } from '../../src/errors.js';

let dir = '';
let der: Buffer = Buffer.alloc(0);
let pemPath = '';

function opensslFingerprint(alg: string): string {
  // "sha256 Fingerprint=AB:CD:…" (the label's case differs between OpenSSL versions).
  const out = execFileSync('openssl', ['x509', '-in', pemPath, '-noout', '-fingerprint', `-${alg}`], { encoding: 'utf8' });
  return out.trim().split('=')[1]!;
}

describe('RFC 8122 fingerprints', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sipher-sdp-fp-'));
    pemPath = join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', pemPath, '-days', '1', '-subj', '/CN=sipher-sdp-test',
    ], { stdio: 'ignore' });
    execFileSync('openssl', ['x509', '-in', pemPath, '-outform', 'DER', '-out', join(dir, 'cert.der')]);
    der = readFileSync(join(dir, 'cert.der'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [hash, alg] of [['sha-256', 'sha256'], ['sha-1', 'sha1'], ['sha-384', 'sha384'], ['sha-512', 'sha512']] as const) {
    it(`${hash} of the DER certificate matches openssl x509 -fingerprint -${alg}`, () => {
      const fp = computeFingerprint(der, hash);
      assert.equal(fingerprintHex(fp.value), opensslFingerprint(alg));
      assert.equal(formatFingerprint(fp), `${hash} ${opensslFingerprint(alg)}`);
      assert.ok(fingerprintMatches(der, parseFingerprint(formatFingerprint(fp))));
    });
  }

  it('defaults to sha-256 and detects another certificate', () => {
    const fp = computeFingerprint(der);
    assert.equal(fp.hash, 'sha-256');
    const other = Buffer.from(der);
    other[other.length - 1]! ^= 1;
    assert.equal(fingerprintMatches(other, fp), false);
    assert.equal(fingerprintMatches(der, { hash: 'md5', value: Buffer.alloc(16) }), false);
  });

  it('parses case-insensitively and formats upper case with colons', () => {
    const v = 'SHA-256 4a:ad:b9:b1:3f:82:18:3b:54:02:12:df:3e:5d:49:6b:19:e5:7c:ab:3d:45:bf:4e:de:0d:e1:15:44:e5:f9:1a';
    const fp = parseFingerprint(v);
    assert.equal(fp.hash, 'sha-256');
    assert.equal(formatFingerprint(fp), 'sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3D:45:BF:4E:DE:0D:E1:15:44:E5:F9:1A');
    assert.equal(parseFingerprint('x-new-hash AB:CD').hash, 'x-new-hash');
  });

  it('rejects malformed fingerprints', () => {
    for (const v of ['sha-256', 'sha-256 ', 'sha-256 ZZ:00', 'sha-256 A:BC', 'sha-256 AB::CD', 'sha-256 ABCD', 'sha-256 AB:CD:', 'sha-1 AB:CD', ' sha-256 AB']) {
      assert.throws(() => parseFingerprint(v), SipParseError, v);
    }
  });

  it('refuses to compute with an unsupported hash or no certificate', () => {
    assert.throws(() => computeFingerprint(der, 'md5' as 'sha-1'), InvalidArgumentError);
    assert.throws(() => computeFingerprint(Buffer.alloc(0)), InvalidArgumentError);
  });
});
