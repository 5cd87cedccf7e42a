/**
 * The seed 000 procedures on real UDP/TCP sockets (issue 4 acceptance): rule chosen from the
 * device's list, on→on change of each field, on→off, off→off, off→on (two-step), periodic
 * update, device without capability, device refusing a setting, a lost setting request
 * retransmitted, a device that never answers, token enrolment, plain devices beside SA
 * devices and refused by policy, and the SDK against a server without SAs (SPEC SA-10).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RegistrationError } from '../../../src/client/client-errors.js';
import { SipherClient } from '../../../src/client/sipher-client.js';
import type { SipherClientOptions } from '../../../src/client/client-options.js';
import type { SaEvent } from '../../../src/client/sa/device-sa-options.js';
import { generateNoiseKeyPair } from '../../../src/crypto/noise/index.js';
import type { SettingOutcome } from '../../../src/services/sa/sa-service.js';
import { freePort } from '../../support/sipher-process.js';
import { startSaServer, stopSaServer, waitFor, type SaTestServer } from '../../support/sa-server.js';

const D = 'proc.example';
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hal', 'ivy', 'jay', 'plain'];
const pw = (u: string): string => `pw-${u}-secret`;

type Env = SaTestServer;

async function startServer(env: Record<string, string>, listen = ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0']): Promise<Env> {
  // Timer F = 3.2 s: a device that never answers fails quickly.
  return startSaServer({ domain: D, users: USERS, password: pw, env, listen, tune: (c) => { c.timers.t1Ms = 50; } });
}

const stopServer = stopSaServer;

describe('SA procedures (seed 000 embodiments 11–24)', () => {
  let env: Env;
  const clients: SipherClient[] = [];

  before(async () => {
    env = await startServer({});
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await stopServer(env);
  });

  async function device(user: string, extra: Partial<SipherClientOptions> = {}, e: Env = env, transport: 'udp' | 'tcp' = 'udp'): Promise<{ c: SipherClient; events: SaEvent[] }> {
    const port = transport === 'udp' ? e.port : e.server.listening.find((l) => l.protocol === 'tcp')!.port;
    const c = new SipherClient({
      aor: `sip:${user}@${D}`, password: pw(user), server: { host: '127.0.0.1', port, transport }, local: { host: '127.0.0.1', port: 0 },
      sa: { serverKey: e.server.saService?.fingerprint() }, ...extra,
    });
    const events: SaEvent[] = [];
    c.on('sa', (x) => events.push(x));
    clients.push(c);
    await c.start();
    await c.register();
    return { c, events };
  }

  /** The device id the server knows for a client (its instance URN). */
  async function idOf(user: string): Promise<string> {
    const list = await env.store.listSaDevices(`sip:${user}@${D}`);
    assert.equal(list.length, 1);
    return list[0]!.deviceId;
  }

  async function enabled(user: string): Promise<string> {
    await waitFor(async () => (await env.store.listSaDevices(`sip:${user}@${D}`))[0]?.settingState === 'completed');
    return idOf(user);
  }

  it('first enablement is two-step: the handshake key protects the first setting, then a server-random key follows', async () => {
    const { c, events } = await device('alice');
    await enabled('alice');
    const updates = events.filter((e) => e.state === 'updated').map((e) => e.generation);
    assert.deepEqual(updates, [1, 2]);
    assert.equal(c.sa!.state()!.generation, 2);
  });

  it('selects the rule from the device\'s own list (24th embodiment)', async () => {
    const { c } = await device('bob', { sa: { serverKey: env.server.saService!.fingerprint(), rules: ['chacha20-poly1305', 'aes-128-gcm'] } });
    await enabled('bob');
    assert.equal(c.sa!.state()!.rule, 'chacha20-poly1305');
  });

  it('changes each field on→on, then on→off, off→off and off→on, with the outcome recorded', async () => {
    const { c } = await device('carol');
    const id = await enabled('carol');
    const sa = env.server.saService!;
    let g = c.sa!.state()!.generation!;
    const check = (o: SettingOutcome, want: Partial<SettingOutcome>, steps: number): void => {
      assert.equal(o.state, 'completed', o.detail);
      for (const [k, v] of Object.entries(want)) assert.equal(o[k as keyof SettingOutcome], v, k);
      assert.equal(o.generation, g + steps);
      g += steps;
      assert.equal(c.sa!.state()!.generation, g);
    };
    check(await sa.configureDevice(id, { rule: 'chacha20-poly1305' }), { rule: 'chacha20-poly1305', presence: 'on' }, 1);
    check(await sa.configureDevice(id, { range: 'partial' }), { range: 'partial' }, 1);
    check(await sa.rekey(id), { range: 'partial', rule: 'chacha20-poly1305' }, 1);
    // Messages still flow under the partial range.
    const r1 = await c.request('OPTIONS', `sip:${D}`);
    assert.equal(r1.status, 200);
    check(await sa.configureDevice(id, { presence: 'off' }), { presence: 'off' }, 1);
    assert.equal(c.sa!.state()!.presence, 'off');
    const r2 = await c.request('OPTIONS', `sip:${D}`);
    assert.equal(r2.status, 200);
    check(await sa.configureDevice(id, { range: 'whole' }), { presence: 'off', range: 'whole' }, 1); // off → off
    check(await sa.configureDevice(id, { presence: 'on' }), { presence: 'on', range: 'whole' }, 2); // off → on: two steps
    const rec = (await env.store.getSaDevice(id))!;
    assert.equal(rec.settingState, 'completed');
    assert.equal(rec.generation, g);
    assert.equal(rec.presence, 'on');
  });

  it('runs the periodic update timer (18th/19th embodiments)', async () => {
    const { c } = await device('dave');
    const id = await enabled('dave');
    const o = await env.server.saService!.configureDevice(id, { updateTimerSeconds: 1 });
    assert.equal(o.state, 'completed');
    const g = c.sa!.state()!.generation!;
    await waitFor(() => c.sa!.state()!.generation! >= g + 2, 6000);
    assert.ok((env.server.stats().sa as { periodicUpdates: number }).periodicUpdates >= 2);
    await env.server.saService!.configureDevice(id, { updateTimerSeconds: 0 });
  });

  it('fails a setting for a device without capability: "not capable" (21st embodiment)', async () => {
    const c = new SipherClient({ aor: `sip:plain@${D}`, password: pw('plain'), server: { host: '127.0.0.1', port: env.port, transport: 'udp' }, local: { host: '127.0.0.1', port: 0 } });
    clients.push(c);
    await c.start();
    await c.register();
    const id = await (async () => {
      await waitFor(async () => (await env.store.listSaDevices(`sip:plain@${D}`)).length === 1);
      return idOf('plain');
    })();
    const rec = (await env.store.getSaDevice(id))!;
    assert.equal(rec.capable, false);
    const o = await env.server.saService!.configureDevice(id, { presence: 'on' });
    assert.equal(o.state, 'failed');
    assert.equal(o.reason, 'not-capable');
    assert.match(o.detail!, /not capable/);
    assert.equal((await env.store.getSaDevice(id))!.settingReason, 'not-capable');
    // The plain device keeps working in clear beside the SA devices.
    assert.equal((await c.request('OPTIONS', `sip:${D}`)).status, 200);
  });

  it('records the failure when the device refuses a setting, and stays on the old information', async () => {
    const { c } = await device('erin');
    const id = await enabled('erin');
    const before = c.sa!.state()!;
    const original = c.sa!.onSetting.bind(c.sa!);
    c.sa!.onSetting = (_req, _id, reply) => reply(488, 'Rule Not Supported');
    const o = await env.server.saService!.configureDevice(id, { rule: 'aes-128-gcm' });
    assert.equal(o.state, 'failed');
    assert.equal(o.reason, 'rule-unsupported');
    assert.equal(o.generation, before.generation);
    assert.equal(o.rule, before.rule);
    c.sa!.onSetting = original;
    assert.equal((await c.request('OPTIONS', `sip:${D}`)).status, 200, 'the old information still works');
  });

  it('retransmits a lost setting request (UDP, RFC 3261 §17.1.2) and completes', async () => {
    const { c } = await device('frank');
    const id = await enabled('frank');
    const ep = c.sa!.endpoint;
    const open = ep.openRecord.bind(ep);
    let dropped = 0;
    ep.openRecord = (bytes, source) => {
      if (dropped === 0 && bytes.length > 200) {
        dropped++;
        return undefined; // the first setting request is lost on the way
      }
      return open(bytes, source);
    };
    const retx = (env.server.stats().transactions as { retransmissions: number }).retransmissions;
    const o = await env.server.saService!.rekey(id);
    ep.openRecord = open;
    assert.equal(dropped, 1);
    assert.equal(o.state, 'completed');
    assert.ok((env.server.stats().transactions as { retransmissions: number }).retransmissions > retx);
  });

  it('a device that never answers stays on its old information and the failure is reported', async () => {
    const { c } = await device('gina');
    const id = await enabled('gina');
    const g = c.sa!.state()!.generation;
    const ep = c.sa!.endpoint;
    const open = ep.openRecord.bind(ep);
    ep.openRecord = () => undefined; // everything from the server is lost
    const o = await env.server.saService!.rekey(id);
    ep.openRecord = open;
    assert.equal(o.state, 'failed');
    assert.equal(o.reason, 'no-answer');
    assert.equal(o.generation, g);
    assert.equal(env.server.saService!.liveState(id)!.generation, g);
    assert.equal((await c.request('OPTIONS', `sip:${D}`)).status, 200);
  });

  it('enrols with a one-time token, then authenticates by the enrolled static key; a reused token is refused', async () => {
    const sa = env.server.saService!;
    const t = await sa.createEnrolmentToken(`sip:hal@${D}`, 600);
    const staticKey = generateNoiseKeyPair();
    const { c } = await device('hal', { password: undefined, sa: { serverKey: sa.fingerprint(), token: t.token, staticKey } });
    assert.equal(c.sa!.established, true);
    assert.equal((await env.store.getDeviceKey(staticKey.publicKey.toString('hex')))!.aor, `sip:hal@${D}`);
    // A new device instance with the same key and no token or password: the key is enough.
    const again = await device('hal', { password: undefined, sa: { serverKey: sa.fingerprint(), staticKey } });
    assert.equal(again.c.sa!.established, true);
    // The token is spent: another key cannot use it.
    const other = new SipherClient({
      aor: `sip:hal@${D}`, server: { host: '127.0.0.1', port: env.port, transport: 'udp' }, local: { host: '127.0.0.1', port: 0 },
      sa: { serverKey: sa.fingerprint(), token: t.token },
    });
    clients.push(other);
    await other.start();
    await assert.rejects(other.register(), (e: unknown) => e instanceof RegistrationError && e.status === 403);
  });

  it('rekeys on the device\'s request (SPEC SA-5), and refuses such a request outside an SA', async () => {
    const { c } = await device('ivy');
    await enabled('ivy');
    const g = c.sa!.state()!.generation!;
    const r = await c.requestSaRekey();
    assert.equal(r.status, 202);
    await waitFor(() => c.sa!.state()!.generation! === g + 1);
    assert.equal((env.server.stats().sa as { deviceRequests: number }).deviceRequests, 1);
    const plain = clients.find((x) => !x.sa)!;
    const refused = await plain.request('MESSAGE', `sip:${D}`, { body: Buffer.from('Request: rekey\r\n'), contentType: 'application/sipher-sa-request' });
    assert.equal(refused.status, 403);
  });

  it('works over TCP (records framed on the stream)', async () => {
    const { c } = await device('jay', {}, env, 'tcp');
    await enabled('jay');
    assert.equal((await c.request('OPTIONS', `sip:${D}`)).status, 200);
  });

  it('refuses a device whose pinned server key does not match', async () => {
    const c = new SipherClient({
      aor: `sip:alice@${D}`, password: pw('alice'), server: { host: '127.0.0.1', port: env.port, transport: 'udp' }, local: { host: '127.0.0.1', port: 0 },
      sa: { serverKey: '00'.repeat(32) },
    });
    clients.push(c);
    await c.start();
    await assert.rejects(c.register(), /does not match the pinned key/);
  });
});

describe('SA policy for plain devices, and servers without SAs (SPEC SA-9, SA-10)', () => {
  it('a domain requiring SAs answers 494 to a plain REGISTER and 421 to a plain request; SA devices work', async () => {
    const env = await startServer({ SIPHER_SA_PLAIN_DEVICES: 'reject' });
    const plain = new SipherClient({ aor: `sip:plain@${D}`, password: pw('plain'), server: { host: '127.0.0.1', port: env.port, transport: 'udp' }, local: { host: '127.0.0.1', port: 0 } });
    const sa = new SipherClient({
      aor: `sip:alice@${D}`, password: pw('alice'), server: { host: '127.0.0.1', port: env.port, transport: 'udp' }, local: { host: '127.0.0.1', port: 0 },
      sa: { serverKey: env.server.saService!.fingerprint(), mode: 'required' },
    });
    try {
      await plain.start();
      await assert.rejects(plain.register(), (e: unknown) => e instanceof RegistrationError && e.status === 494);
      const r = await plain.request('MESSAGE', `sip:alice@${D}`, { body: Buffer.from('hi'), contentType: 'text/plain' });
      assert.equal(r.status, 421);
      assert.equal(r.get('require'), 'sec-agree');
      await sa.start();
      await sa.register();
      assert.equal(sa.sa!.established, true);
    } finally {
      await plain.close();
      await sa.close();
      await stopServer(env);
    }
  });

  it('the SDK runs in clear with a server that offers no SA, or refuses when it requires one', async () => {
    const env = await startServer({ SIPHER_SA_ENABLED: 'false' });
    const mk = (mode: 'required' | 'preferred'): SipherClient => new SipherClient({
      aor: `sip:alice@${D}`, password: pw('alice'), server: { host: '127.0.0.1', port: env.port, transport: 'udp' }, local: { host: '127.0.0.1', port: 0 }, sa: { mode },
    });
    const req = mk('required');
    const pref = mk('preferred');
    const events: SaEvent[] = [];
    pref.on('sa', (e) => events.push(e));
    try {
      await req.start();
      await assert.rejects(req.register(), /Server Offers No Security Association/);
      await pref.start();
      await pref.register();
      assert.equal(pref.sa!.established, false);
      assert.equal(events[0]!.state, 'unavailable');
    } finally {
      await req.close();
      await pref.close();
      await stopServer(env);
    }
  });
});

describe('RFC 3261 §18.1.1 with an SA over UDP', () => {
  it('sends a request too large for UDP over TCP to the same port, sealed under the same SA', async () => {
    const port = await freePort();
    const env = await startSaServer({ domain: D, users: ['alice', 'bob'], password: pw, listen: [`udp:127.0.0.1:${port}`, `tcp:127.0.0.1:${port}`] });
    const server = env.server;
    const mk = (u: string): SipherClient => new SipherClient({
      aor: `sip:${u}@${D}`, password: pw(u), server: { host: '127.0.0.1', port, transport: 'udp' }, local: { host: '127.0.0.1', port: 0 },
      sa: { serverKey: server.saService!.fingerprint() },
    });
    const alice = mk('alice');
    const bob = mk('bob');
    let got = 0;
    bob.on('request', (r) => {
      got = r.request.body.length;
      r.respond(200);
    });
    try {
      await alice.start();
      await bob.start();
      await alice.register();
      await bob.register();
      const tcpBefore = (server.stats().transport as { received: { tcp: number } }).received.tcp;
      const challenged = (server.stats().proxy as { challenged: number }).challenged;
      const opened = (server.stats().sa as { records: { opened: number } }).records.opened;
      const big = Buffer.alloc(3000, 0x61);
      const r = await alice.request('MESSAGE', `sip:bob@${D}`, { body: big, contentType: 'text/plain' });
      assert.equal(r.status, 200);
      assert.equal(got, 3000);
      const t = server.stats().transport as { received: { tcp: number } };
      assert.ok(t.received.tcp > tcpBefore, 'the large request came over TCP');
      // Sealed under the SA (a clear one would have been challenged with 407 by the proxy).
      assert.equal((server.stats().proxy as { challenged: number }).challenged, challenged);
      assert.ok((server.stats().sa as { records: { opened: number } }).records.opened > opened);
      const f = (server.stats().sa as { records: { faults: Record<string, number> } }).records.faults;
      assert.equal(f['clear-from-protected'], 0);
      // A small one still goes over UDP.
      assert.equal((await alice.request('OPTIONS', `sip:${D}`)).status, 200);
    } finally {
      await alice.close();
      await bob.close();
      await stopSaServer(env);
    }
  });
});
