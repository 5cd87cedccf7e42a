/**
 * Signalling SAs end to end on real UDP sockets: an SDK device makes the Noise handshake in
 * its REGISTER exchange, the server runs the first (two-step) enablement, and messages
 * between two SA devices travel sealed.
 */
import { describe, it, before, after } from 'node:test';
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
import type { Store } from '../../../src/store/store.js';

const D = 'sa.example';
const pw = (u: string): string => `pw-${u}-secret`;

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('SA handshake and first enablement', () => {
  let dir: string;
  let store: Store;
  let server: SipServer;
  let port: number;
  const clients: SipherClient[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sipher-sa-'));
    store = await openStore('', dir);
    const now = Date.now();
    for (const u of ['alice', 'bob']) {
      await store.addUser({ domain: D, username: u, ha1Md5: computeHa1('MD5', u, D, pw(u)), ha1Sha256: computeHa1('SHA-256', u, D, pw(u)), createdAt: now, updatedAt: now });
    }
    const config = loadConfig({ env: { SIPHER_HTTP_LISTEN: '', SIPHER_CA_PASSPHRASE: 'pp' }, overrides: { dataDir: dir, domain: D, listen: ['udp:127.0.0.1:0'] } });
    server = new SipServer(config, { store });
    port = (await server.start())[0]!.port;
  });

  after(async () => {
    for (const c of clients) await c.close();
    await server.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function client(user: string, events: SaEvent[]): SipherClient {
    const c = new SipherClient({
      aor: `sip:${user}@${D}`, password: pw(user), server: { host: '127.0.0.1', port, transport: 'udp' },
      local: { host: '127.0.0.1', port: 0 }, sa: { serverKey: server.saService!.fingerprint() },
    });
    c.on('sa', (e) => events.push(e));
    clients.push(c);
    return c;
  }

  it('registers through the handshake and completes the two-step enablement', async () => {
    const events: SaEvent[] = [];
    const alice = client('alice', events);
    await alice.start();
    await alice.register();
    assert.equal(alice.sa!.established, true);
    assert.equal(events[0]!.state, 'established');
    await waitFor(() => (alice.sa!.state()?.generation ?? 0) >= 2);
    const st = alice.sa!.state()!;
    assert.equal(st.presence, 'on');
    assert.equal(st.rule, 'aes-256-gcm');
    assert.equal(st.range, 'whole');
    const stats = server.stats().sa as { established: number; settingsCompleted: number };
    assert.equal(stats.established, 1);
    await waitFor(() => (server.stats().sa as { settingsCompleted: number }).settingsCompleted === 1);
    const rec = await store.listSaDevices(`sip:alice@${D}`);
    assert.equal(rec.length, 1);
    assert.equal(rec[0]!.settingState, 'completed');
    assert.equal(rec[0]!.generation, 2);
    // A refresh goes sealed and is authenticated by the SA.
    await alice.register();
    const after = server.stats().sa as { records: { opened: number } };
    assert.ok(after.records.opened >= 3);
  });

  it('carries a MESSAGE between two SA devices sealed on both legs', async () => {
    const bobEvents: SaEvent[] = [];
    const bob = client('bob', bobEvents);
    await bob.start();
    await bob.register();
    let got: string | undefined;
    bob.on('request', (r) => {
      got = r.request.body.toString();
      r.respond(200);
    });
    const alice = clients[0]!;
    const resp = await alice.request('MESSAGE', `sip:bob@${D}`, { body: Buffer.from('hello over SAs'), contentType: 'text/plain' });
    assert.equal(resp.status, 200);
    assert.equal(got, 'hello over SAs');
  });
});
