/**
 * `sipher ca …` as an operator runs it against the store a server created (SPEC ID-1, ID-7):
 * show, export-root (verified by OpenSSL), list, revoke with exit codes for bad input,
 * rotate, and a restart with the wrong CA passphrase refused with a clear message.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sipherCli, startSipher } from '../../support/sipher-process.js';

const D = 'ca-cli.test';

describe('sipher ca commands', () => {
  let dir: string;
  const common = (): string[] => ['--data-dir', dir, '--domain', D];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sipher-ca-cli-'));
    const port = await freePort();
    const server = await startSipher([...common(), '--listen', `udp:127.0.0.1:${port}`]);
    await server.kill('SIGTERM');
    assert.match(server.stdout(), new RegExp(`^http 127\\.0\\.0\\.1:\\d+ \\(CA root and CRL at /ca/${D}/, admin API at /api/ with the token in .*admin-token\\)$`, 'm'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the generated passphrase owner-only and the key encrypted', () => {
    assert.equal(statSync(join(dir, 'ca-passphrase')).mode & 0o777, 0o600);
    const key = readFileSync(join(dir, 'identity', 'server-key.pem'), 'utf8');
    assert.match(key, /BEGIN ENCRYPTED PRIVATE KEY/);
  });

  it('shows the CA, exports a root OpenSSL verifies the server certificate against, lists certificates', () => {
    const show = sipherCli(['ca', 'show', '--json', ...common()]);
    assert.equal(show.code, 0, show.stderr);
    const s = JSON.parse(show.stdout) as { roots: { active: boolean }[]; certificates: { total: number } };
    assert.equal(s.roots.length, 1);
    assert.equal(s.roots[0]!.active, true);
    const out = join(dir, 'root.pem');
    assert.equal(sipherCli(['ca', 'export-root', '--out', out, ...common()]).code, 0);
    const list = sipherCli(['ca', 'list', '--json', ...common()]);
    const rows = JSON.parse(list.stdout) as { serial: string; kind: string; status: string; aor: string }[];
    const server = rows.find((r) => r.kind === 'server')!;
    assert.equal(server.aor, `sip:${D}`);
    assert.equal(server.status, 'valid');
    const text = execFileSync('openssl', ['x509', '-inform', 'PEM', '-in', out, '-noout', '-subject'], { encoding: 'utf8' });
    assert.match(text, /Sipher CA/);
  });

  it('revokes by serial; unknown serial exits 1, malformed serial exits 2', () => {
    const rows = JSON.parse(sipherCli(['ca', 'list', '--json', ...common()]).stdout) as { serial: string; kind: string }[];
    const serial = rows.find((r) => r.kind === 'server')!.serial;
    const r = sipherCli(['ca', 'revoke', serial, '--reason', 'superseded', ...common()]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `revoked ${serial}`);
    assert.match(sipherCli(['ca', 'revoke', serial, ...common()]).stdout, /already revoked/);
    const after = JSON.parse(sipherCli(['ca', 'list', '--json', ...common()]).stdout) as { serial: string; status: string }[];
    assert.equal(after.find((x) => x.serial === serial)!.status, 'revoked');
    const unknown = sipherCli(['ca', 'revoke', 'abcdef0123', ...common()]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no certificate abcdef0123/);
    const bad = sipherCli(['ca', 'revoke', 'not-hex', ...common()]);
    assert.equal(bad.code, 2);
    assert.equal(sipherCli(['ca', 'revoke', serial, '--reason', 'because', ...common()]).code, 2);
    assert.equal(sipherCli(['ca', 'frobnicate', ...common()]).code, 2);
  });

  it('rotates: a new active root, the old one kept in the bundle', () => {
    const r = sipherCli(['ca', 'rotate', ...common()]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(sipherCli(['ca', 'show', '--json', ...common()]).stdout) as { roots: { active: boolean }[] };
    assert.deepEqual(s.roots.map((x) => x.active), [true, false]);
    const pem = sipherCli(['ca', 'export-root', ...common()]).stdout;
    assert.equal(pem.match(/BEGIN CERTIFICATE/g)!.length, 2);
  });

  it('refuses to start with the wrong CA passphrase (exit 2, one clear line)', async () => {
    writeFileSync(join(dir, 'ca-passphrase'), 'a-wrong-passphrase-of-some-length\n');
    const port = await freePort();
    await assert.rejects(startSipher([...common(), '--listen', `udp:127.0.0.1:${port}`], 8000), /exited with 2[\s\S]*passphrase/);
  });
});
