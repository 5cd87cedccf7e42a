/**
 * `sipher server --store postgres://…`: the real command on a real PostgreSQL server from
 * Debian's package; users added with the CLI, registrations and devices survive a SIGKILL
 * and restart. Under CI=true missing PostgreSQL binaries fail the test.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDatagram, type SipRequest, type SipResponse } from '../../../src/sip/index.js';
import { PostgresStore } from '../../../src/store/postgres/postgres-store.js';
import { findPostgresBin, startPostgres, type TestPostgres } from '../../support/postgres.js';
import { RawUa } from '../../support/raw-ua.js';
import { answerChallenge } from '../../support/sip-builders.js';
import { freePort, sipherCli, startSipher, type SipherProcess } from '../../support/sipher-process.js';

const D = 'pg.test';
const bin = findPostgresBin();
if (!bin && process.env.CI === 'true') throw new Error('PostgreSQL (Debian postgresql) is required under CI=true');

describe('sipher server on PostgreSQL', { skip: bin ? false : 'PostgreSQL binaries not installed' }, () => {
  let pg: TestPostgres;
  let url: string;
  let dir: string;
  let port: number;
  let server: SipherProcess | undefined;
  let ua: RawUa;

  before(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase();
    dir = mkdtempSync(join(tmpdir(), 'sipher-pgsrv-'));
    port = await freePort();
  });
  after(async () => {
    ua?.close();
    await server?.kill();
    await pg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const args = (): string[] => ['--data-dir', dir, '--domain', D, '--store', url, '--listen', `udp:127.0.0.1:${port}`];

  it('registers a CLI-added user and keeps everything across SIGKILL', async () => {
    server = await startSipher(args());
    assert.match(server.stdout(), /store postgres/);
    const add = sipherCli(['user', 'add', 'pat', '--password', 'pat-secret', '--domain', D, '--store', url, '--data-dir', dir]);
    assert.equal(add.code, 0, add.stderr);
    ua = await RawUa.open({ address: '127.0.0.1', port });
    const text = (cseq: number, extra: string[]): string =>
      [`REGISTER sip:${D} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${ua.port};branch=z9hG4bKpg${cseq}`, 'Max-Forwards: 70',
        `From: <sip:pat@${D}>;tag=p1`, `To: <sip:pat@${D}>`, 'Call-ID: pg-reg', `CSeq: ${cseq} REGISTER`,
        `Contact: <sip:pat@127.0.0.1:${ua.port}>;+sip.instance="<urn:uuid:11111111-2222-3333-4444-555555555555>"`, 'Expires: 600', ...extra, 'Content-Length: 0', '', ''].join('\r\n');
    ua.send(text(1, []));
    const ch = await ua.response(401, 'REGISTER');
    ua.send(text(2, [`Authorization: ${answerChallenge(ch, parseDatagram(Buffer.from(text(1, []), 'latin1')) as SipRequest, 'pat', 'pat-secret', 'SHA-256')}`]));
    await ua.response(200, 'REGISTER');

    await server.kill('SIGKILL');
    server = await startSipher(args());
    const store = new PostgresStore(url);
    await store.open();
    try {
      assert.equal((await store.listUsers(D)).length, 1);
      assert.equal((await store.getBindings(`sip:pat@${D}`)).length, 1);
      assert.equal((await store.getDevice('<urn:uuid:11111111-2222-3333-4444-555555555555>'))?.aor, `sip:pat@${D}`);
    } finally {
      await store.close();
    }
    // The restarted node routes to the binding it loaded from PostgreSQL.
    const peer = await RawUa.open({ address: '127.0.0.1', port });
    try {
      peer.send([`OPTIONS sip:pat@${D} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKpgopt`, 'Max-Forwards: 70',
        'From: <sip:x@elsewhere.test>;tag=x', `To: <sip:pat@${D}>`, 'Call-ID: pg-opt', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'));
      const opt = await ua.request('OPTIONS');
      ua.reply(opt, 200);
      const ok = (await peer.response(200, 'OPTIONS')) as SipResponse;
      assert.equal(ok.callId(), 'pg-opt');
    } finally {
      peer.close();
    }
  });
});
