/**
 * Signalling SAs end to end on real UDP sockets: an SDK device makes the Noise handshake in
 * its REGISTER exchange, the server runs the first (two-step) enablement, and messages
 * between two SA devices travel sealed.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SipherClient } from '../../../src/client/sipher-client.js';
import type { SaEvent } from '../../../src/client/sa/device-sa-options.js';
import type { SipServer } from '../../../src/server/sip-server.js';
import type { Store } from '../../../src/store/store.js';
import { startSaServer, stopSaServer, waitFor, type SaTestServer } from '../../support/sa-server.js';

const D = 'sa.example';
const pw = (u: string): string => `pw-${u}-secret`;

describe('SA handshake and first enablement', () => {
  let env: SaTestServer;
  let server: SipServer;
  let store: Store;
  let port: number;
  const clients: SipherClient[] = [];

  before(async () => {
    env = await startSaServer({ domain: D, users: ['alice', 'bob'], password: pw });
    ({ server, store, port } = env);
  });

  after(async () => {
    for (const c of clients) await c.close();
    await stopSaServer(env);
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

describe('certificate enrolment inside the SA handshake (SPEC ID-2 with SA-1)', () => {
  it('the first registration through the handshake enrols a certificate', async () => {
    const env = await startSaServer({ domain: D, users: ['carol'], password: pw });
    const c = new SipherClient({
      aor: `sip:carol@${D}`, password: pw('carol'), server: { host: '127.0.0.1', port: env.port, transport: 'udp' }, local: { host: '127.0.0.1', port: 0 },
      sa: { serverKey: env.server.saService!.fingerprint() },
      identity: { trustRoots: [env.server.certificateService!.trustBundle()[0]!] },
    });
    const certs: boolean[] = [];
    c.on('certificate', (e) => certs.push(e.renewed));
    try {
      await c.start();
      await c.register();
      assert.equal(c.sa!.established, true);
      assert.deepEqual(certs, [false]);
      assert.equal(c.identity!.certificateInfo!.aor, `sip:carol@${D}`);
      const rec = await env.store.listCertificates({ aor: `sip:carol@${D}` });
      assert.equal(rec.length, 1);
      // The refresh goes sealed and renews the certificate.
      await c.register();
      assert.deepEqual(certs, [false, true]);
      // Another instance with that certificate and key, and no password: authenticated by the
      // certified key, its proof bound to the handshake (SPEC SA-1).
      const holder = new SipherClient({
        aor: `sip:carol@${D}`, server: { host: '127.0.0.1', port: env.port, transport: 'udp' }, local: { host: '127.0.0.1', port: 0 },
        sa: { serverKey: env.server.saService!.fingerprint() },
        identity: { trustRoots: [env.server.certificateService!.trustBundle()[0]!], mode: 'present', keyPair: c.identity!.keyPair, certificate: c.identity!.certificate! },
      });
      try {
        await holder.start();
        await holder.register();
        assert.equal(holder.sa!.established, true);
        // The device record is written by the first setting, just after the 200.
        const byCertificate = async (): Promise<boolean> =>
          (await env.store.listSaDevices(`sip:carol@${D}`)).some((d) => env.server.saService!.liveState(d.deviceId)?.auth === 'certificate');
        await waitFor(byCertificate);
        // Revoked: the handshake is refused with the reason.
        await env.server.certificateService!.revoke(c.identity!.certificateInfo!.serialHex, 'keyCompromise');
        const again = new SipherClient({
          aor: `sip:carol@${D}`, server: { host: '127.0.0.1', port: env.port, transport: 'udp' }, local: { host: '127.0.0.1', port: 0 },
          sa: { serverKey: env.server.saService!.fingerprint() },
          identity: { trustRoots: [env.server.certificateService!.trustBundle()[0]!], mode: 'present', keyPair: c.identity!.keyPair, certificate: c.identity!.certificate! },
        });
        try {
          await again.start();
          await assert.rejects(again.register(), (e: unknown) => (e as { status?: number; reason?: string }).status === 403 && (e as { reason: string }).reason === 'Certificate Revoked');
        } finally {
          await again.close();
        }
      } finally {
        await holder.close();
      }
    } finally {
      await c.close();
      await stopSaServer(env);
    }
  });
});
