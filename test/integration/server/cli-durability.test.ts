/**
 * The `sipher` command as an operator uses it: users managed from the CLI while the server
 * runs (honoured at once), SIGKILL and restart losing nothing, bad config → exit code 2.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDatagram, type SipRequest, type SipResponse } from '../../../src/sip/index.js';
import { openStore } from '../../../src/store/open-store.js';
import { RawUa } from '../../support/raw-ua.js';
import { answerChallenge } from '../../support/sip-builders.js';
import { freePort, sipherCli, startSipher, type SipherProcess } from '../../support/sipher-process.js';

const D = 'durable.test';

describe('sipher CLI and durability', () => {
  let dir: string;
  let port: number;
  let server: SipherProcess | undefined;
  const uas: RawUa[] = [];
  const common = (): string[] => ['--data-dir', dir, '--domain', D];
  const serverArgs = (): string[] => [...common(), '--listen', `udp:127.0.0.1:${port}`, '--listen', `tcp:127.0.0.1:${port}`];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sipher-cli-'));
    port = await freePort();
  });
  after(async () => {
    for (const u of uas) u.close();
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  let seq = 0;
  async function register(u: RawUa, user: string, password: string): Promise<number> {
    const callId = `cli-${user}-${u.port}`;
    const text = (cseq: number, extra: string[]): string =>
      [`REGISTER sip:${D} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${u.port};branch=z9hG4bKcli${++seq};rport`, 'Max-Forwards: 70',
        `From: <sip:${user}@${D}>;tag=a${seq}`, `To: <sip:${user}@${D}>`, `Call-ID: ${callId}`, `CSeq: ${cseq} REGISTER`,
        `Contact: <sip:${user}@127.0.0.1:${u.port}>`, 'Expires: 600', ...extra, 'Content-Length: 0', '', ''].join('\r\n');
    const first = text(++seq, []);
    u.send(first);
    const ch = await u.waitFor((m) => !m.isRequest && m.cseq().method === 'REGISTER');
    if ((ch as SipResponse).status !== 401) return (ch as SipResponse).status;
    const auth = answerChallenge(ch as SipResponse, parseDatagram(Buffer.from(first, 'latin1')) as SipRequest, user, password, 'SHA-256');
    u.send(text(++seq, [`Authorization: ${auth}`]));
    const r = await u.waitFor((m) => !m.isRequest && m.cseq().method === 'REGISTER');
    return (r as SipResponse).status;
  }

  it('rejects bad configuration with one line and exit code 2', () => {
    const bad = sipherCli(['server', '--listen', 'bogus']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.match(bad.stderr, /invalid listen "bogus"/);
    const cfg = join(dir, 'bad.yaml');
    writeFileSync(cfg, 'registrar:\n  minExpires: "soon"\n');
    const r = sipherCli(['server', '--config', cfg]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /"registrar\.minExpires" must be a number/);
    assert.equal(sipherCli(['server', '--frobnicate']).code, 2);
    assert.equal(sipherCli(['user', 'add', 'x', '--data-dir', dir, '--domain', D]).code, 2, 'missing password');
  });

  it('adds users while the server runs and the server honours them at once', async () => {
    server = await startSipher(serverArgs());
    assert.match(server.stdout(), new RegExp(`listening udp 127\\.0\\.0\\.1:${port}`));
    const add = sipherCli(['user', 'add', 'alice', '--password', 'first-pw', ...common()]);
    assert.equal(add.code, 0, add.stderr);
    assert.equal(sipherCli(['user', 'add', 'bob', '--password', 'bob-pw', ...common()]).code, 0);
    assert.equal(sipherCli(['user', 'add', 'alice', '--password', 'again', ...common()]).code, 1, 'duplicate user');
    const list = sipherCli(['user', 'list', ...common()]);
    assert.deepEqual(list.stdout.trim().split('\n'), [`sip:alice@${D}`, `sip:bob@${D}`]);
    const a = await RawUa.open({ address: '127.0.0.1', port });
    uas.push(a);
    assert.equal(await register(a, 'alice', 'first-pw'), 200);
    assert.equal(sipherCli(['user', 'passwd', 'alice', '--password', 'second-pw', ...common()]).code, 0);
    assert.equal(await register(a, 'alice', 'first-pw'), 401, 'old password refused at once');
    assert.equal(await register(a, 'alice', 'second-pw'), 200);
    const b = await RawUa.open({ address: '127.0.0.1', port });
    uas.push(b);
    assert.equal(await register(b, 'bob', 'bob-pw'), 200);
  });

  it('loses no registration, user or device on SIGKILL and restart', async () => {
    await server!.kill('SIGKILL');
    server = await startSipher(serverArgs());
    const store = await openStore('', dir);
    try {
      assert.equal((await store.listUsers(D)).length, 2);
      assert.equal((await store.getBindings(`sip:alice@${D}`)).length, 1);
      assert.equal((await store.getBindings(`sip:bob@${D}`)).length, 1);
      assert.equal((await store.listDevices()).length, 2);
    } finally {
      await store.close();
    }
    // The restarted server routes to the binding it loaded: an in-dialog style request via its Route.
    const caller = await RawUa.open({ address: '127.0.0.1', port });
    uas.push(caller);
    caller.send([`OPTIONS sip:alice@${D} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=z9hG4bKrestart1`, 'Max-Forwards: 70',
      `From: <sip:peer@other.test>;tag=r1`, `To: <sip:alice@${D}>`, 'Call-ID: restart-1', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'));
    const alice = uas[0]!;
    const opt = await alice.request('OPTIONS');
    alice.reply(opt, 200);
    await caller.response(200, 'OPTIONS');
  });

  it('a user removed while running is unreachable at once', async () => {
    assert.equal(sipherCli(['user', 'remove', 'alice', ...common()]).code, 0);
    assert.equal(sipherCli(['user', 'remove', 'alice', ...common()]).code, 1);
    const caller = await RawUa.open({ address: '127.0.0.1', port });
    uas.push(caller);
    caller.send([`OPTIONS sip:alice@${D} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=z9hG4bKremoved1`, 'Max-Forwards: 70',
      `From: <sip:peer@other.test>;tag=r2`, `To: <sip:alice@${D}>`, 'Call-ID: removed-1', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'));
    await caller.response(404, 'OPTIONS');
  });
});
