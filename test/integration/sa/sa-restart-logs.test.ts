/**
 * Two promises of docs/protocol.md §3.8 and the quality bar: after a server restart
 * (SA keys only in memory) a device's next refresh times out and it makes a new handshake on
 * its own; and no log line — server or SDK, at debug level — carries a key, a token secret
 * or a password.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeHa1 } from '../../../src/auth/digest.js';
import { SipherClient } from '../../../src/client/sipher-client.js';
import type { SaEvent } from '../../../src/client/sa/device-sa-options.js';
import { loadConfig } from '../../../src/server/config.js';
import { SipServer } from '../../../src/server/sip-server.js';
import { openStore } from '../../../src/store/open-store.js';
import { createJsonLogger } from '../../../src/util/logger.js';
import { freePort } from '../../support/sipher-process.js';
import { waitFor } from '../../support/sa-server.js';

const D = 'restart.example';
const PASSWORD = 'restart-test-password-Zq7';

describe('SA across a server restart, and logs without secrets', () => {
  it('re-handshakes after a restart and never logs keys, token secrets or passwords', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sipher-sa-restart-'));
    const store = await openStore('', dir);
    const lines: string[] = [];
    const logger = createJsonLogger({ level: 'debug', sink: { write: (l) => lines.push(l) } });
    const now = Date.now();
    for (const u of ['alice', 'bob']) {
      await store.addUser({ domain: D, username: u, ha1Md5: computeHa1('MD5', u, D, PASSWORD), ha1Sha256: computeHa1('SHA-256', u, D, PASSWORD), createdAt: now, updatedAt: now });
    }
    const port = await freePort();
    const config = loadConfig({ env: { SIPHER_HTTP_LISTEN: '', SIPHER_CA_PASSPHRASE: 'restart-passphrase' }, overrides: { dataDir: dir, domain: D, listen: [`udp:127.0.0.1:${port}`] } });
    let server = new SipServer(config, { store, logger });
    await server.start();
    const fingerprint = server.saService!.fingerprint();
    const token = await server.saService!.createEnrolmentToken(`sip:bob@${D}`, 600);
    const events: SaEvent[] = [];
    const mk = (user: string, extra: object): SipherClient => new SipherClient({
      aor: `sip:${user}@${D}`, server: { host: '127.0.0.1', port, transport: 'udp' }, local: { host: '127.0.0.1', port: 0 },
      timers: { t1: 50 }, logger: logger.child({ device: user }), ...extra,
    });
    const alice = mk('alice', { password: PASSWORD, sa: { serverKey: fingerprint } });
    const bob = mk('bob', { sa: { serverKey: fingerprint, token: token.token } });
    alice.on('sa', (e) => events.push(e));
    try {
      await alice.start();
      await bob.start();
      await alice.register();
      await bob.register();
      await waitFor(() => (alice.sa!.state()?.generation ?? 0) >= 2 && (bob.sa!.state()?.generation ?? 0) >= 2);
      const before = alice.sa!.state()!.saId;
      // Restart: same data (same SA static key), new process state: every SA is gone.
      await server.stop();
      server = new SipServer(config, { store, logger });
      await server.start();
      assert.equal(server.saService!.fingerprint(), fingerprint, 'the static key survives the restart');
      await alice.register(); // times out under the old SA, then makes a new handshake
      assert.equal(alice.sa!.established, true);
      assert.notEqual(alice.sa!.state()!.saId, before);
      assert.deepEqual(events.map((e) => e.state).filter((s) => s !== 'updated'), ['established', 'lost', 'established']);
      // Bob's token is spent; his enrolled static key is enough after the restart.
      await bob.register();
      assert.equal(bob.sa!.established, true);
      const r = await alice.request('MESSAGE', `sip:bob@${D}`, { body: Buffer.from('after restart'), contentType: 'text/plain' });
      assert.equal(r.status, 501, 'routed to bob over both new SAs; his SDK has no request listener, so 501');
    } finally {
      await alice.close();
      await bob.close();
      await server.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const all = lines.join('');
    assert.ok(lines.length > 20, 'debug logging was on');
    assert.ok(all.includes('SA record dropped'), 'the old SA\'s records were dropped and logged');
    const secret = token.token.split('.')[1]!;
    for (const s of [PASSWORD, secret, 'Key-Source', 'Key: ', 'Sipher-Token']) assert.ok(!all.includes(s), `a log line contains ${s}`);
  });
});
