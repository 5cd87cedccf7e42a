/**
 * Load under key rotation (issue 4 acceptance): 200 SDK devices make the SA handshake, then
 * refresh their registrations and send MESSAGEs to each other while the server rotates
 * every device's key every 2 s. Zero transactions may be lost (SPEC SA-7: no message lost to a
 * key change, even under load).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SipherClient } from '../../../src/client/sipher-client.js';
import type { SipServer } from '../../../src/server/sip-server.js';
import { startSaServer, stopSaServer, type SaTestServer } from '../../support/sa-server.js';

const D = 'load.example';
const N = 200;
const ROUNDS = 4;
const pw = (i: number): string => `pw-${i}-secret`;

describe(`${N} SA devices under key rotation every 2 s`, () => {
  let env: SaTestServer;
  let server: SipServer;
  let port: number;
  const clients: SipherClient[] = [];

  before(async () => {
    const users = Array.from({ length: N }, (_, i) => `u${i}`);
    env = await startSaServer({ domain: D, users, password: (u) => pw(Number(u.slice(1))), env: { SIPHER_SA_UPDATE_TIMER: '2', SIPHER_SA_GRACE: '30' } });
    ({ server, port } = env);
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await stopSaServer(env);
  });

  it('loses no transaction: every REGISTER refresh and MESSAGE gets its 2xx', async () => {
    const key = server.saService!.fingerprint();
    for (let i = 0; i < N; i++) {
      const c = new SipherClient({
        aor: `sip:u${i}@${D}`, password: pw(i), server: { host: '127.0.0.1', port, transport: 'udp' }, local: { host: '127.0.0.1', port: 0 },
        sa: { serverKey: key },
      });
      c.on('request', (r) => r.respond(200));
      clients.push(c);
    }
    await Promise.all(clients.map((c) => c.start()));
    for (let i = 0; i < N; i += 50) await Promise.all(clients.slice(i, i + 50).map((c) => c.register()));
    assert.ok(clients.every((c) => c.sa!.established));
    const failures: string[] = [];
    let ok = 0;
    const started = Date.now();
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(clients.map(async (c, i) => {
        try {
          await c.register();
          const r = await c.request('MESSAGE', `sip:u${(i + 1 + round) % N}@${D}`, { body: Buffer.from(`round ${round} from ${i}`), contentType: 'text/plain' });
          if (r.status !== 200) failures.push(`u${i} round ${round}: MESSAGE ${r.status}`);
          else ok++;
        } catch (e) {
          failures.push(`u${i} round ${round}: ${(e as Error).message}`);
        }
      }));
      await new Promise((r) => setTimeout(r, 1000)); // let rotations happen between rounds
    }
    const elapsed = Date.now() - started;
    const stats = server.stats().sa as { periodicUpdates: number; settingsFailed: number; records: { faults: Record<string, number> } };
    assert.deepEqual(failures, []);
    assert.equal(ok, N * ROUNDS);
    // Keys did rotate during the run: at least one periodic update per device on average.
    assert.ok(stats.periodicUpdates >= N, `only ${stats.periodicUpdates} periodic updates in ${elapsed} ms`);
    const gens = clients.map((c) => c.sa!.state()!.generation!);
    assert.ok(Math.min(...gens) >= 3, `lowest generation ${Math.min(...gens)}`);
    assert.equal(stats.records.faults.decrypt, 0);
    assert.equal(stats.records.faults.replay, 0);
    assert.equal(stats.settingsFailed, 0, 'every rotation completed');
  });
});
