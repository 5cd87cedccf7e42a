/**
 * Caller identity (SPEC POL-3, issue 5 acceptance "Spoofed From → 403, shown with SIPp and with
 * an SDK device"): a From that does not match the identity bound to the SA, or to the digest
 * credentials, is refused with 403 and a reason; an asserted identity from an untrusted source
 * is removed.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SipherClient } from '../../../src/client/sipher-client.js';
import { parseDatagram, SipResponse, type SipRequest } from '../../../src/sip/index.js';
import { freePort } from '../../support/sipher-process.js';
import { runSipp, scenario, sippAvailability } from '../../support/sipp.js';
import { startSaServer, stopSaServer, type SaTestServer } from '../../support/sa-server.js';

const D = 'callerid.example';
const pw = (u: string): string => `pw-${u}-secret`;

describe('caller identity (POL-3)', () => {
  let env: SaTestServer;
  const clients: SipherClient[] = [];
  before(async () => {
    const port = await freePort();
    env = await startSaServer({
      domain: D, users: ['alice', 'bob', 'carol', 'user0', 'user1'], password: pw,
      env: { SIPHER_AUTH_ALGORITHMS: 'MD5,SHA-256' }, listen: [`udp:127.0.0.1:${port}`],
    });
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await stopSaServer(env);
  });

  it('refuses a From other than the SA\'s identity (SDK device)', async () => {
    const alice = new SipherClient({
      aor: `sip:alice@${D}`, password: pw('alice'), server: { host: '127.0.0.1', port: env.port, transport: 'udp' }, local: { host: '127.0.0.1', port: 0 },
      sa: { serverKey: env.server.saService!.fingerprint() },
    });
    const carol = new SipherClient({
      aor: `sip:carol@${D}`, password: pw('carol'), server: { host: '127.0.0.1', port: env.port, transport: 'udp' }, local: { host: '127.0.0.1', port: 0 },
      sa: { serverKey: env.server.saService!.fingerprint() },
    });
    clients.push(alice, carol);
    const got: SipRequest[] = [];
    carol.on('request', (r) => {
      got.push(r.request);
      r.respond(200);
    });
    await alice.start();
    await carol.start();
    await alice.register();
    await carol.register();
    // An honest MESSAGE passes.
    assert.equal((await alice.request('MESSAGE', `sip:carol@${D}`, { body: Buffer.from('hi'), contentType: 'text/plain', headers: [['P-Asserted-Identity', '<sip:bob@callerid.example>']] })).status, 200);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.get('p-asserted-identity'), undefined, 'an asserted identity from a device is removed');
    // The same device, through its SA, claiming to be bob: sealed by alice's own SA, sent raw.
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    try {
      const lport = sock.address().port;
      const spoof = parseDatagram(Buffer.from([
        `MESSAGE sip:carol@${D} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=z9hG4bKspoof1;rport`, 'Max-Forwards: 70',
        `From: <sip:bob@${D}>;tag=sp1`, `To: <sip:carol@${D}>`, 'Call-ID: spoof-1', 'CSeq: 1 MESSAGE', 'Content-Type: text/plain', 'Content-Length: 5', '', 'hello',
      ].join('\r\n'), 'latin1'));
      const server = { protocol: 'udp' as const, address: '127.0.0.1', port: env.port };
      const wire = alice.sa!.endpoint.protect(spoof, server);
      assert.equal(wire[0], 0xd3, 'sealed');
      const answer = new Promise<Buffer>((resolve) => sock.once('message', (m) => resolve(m)));
      sock.send(wire, env.port, '127.0.0.1');
      const bytes = await answer;
      const opened = alice.sa!.endpoint.openRecord(bytes, server);
      assert.ok(opened, 'the answer is sealed under alice\'s SA');
      const r = parseDatagram(opened.plaintext) as SipResponse;
      assert.equal(r.status, 403);
      assert.equal(r.reason, 'From Does Not Match Security Association');
      assert.equal(got.length, 1, 'carol never saw the spoofed message');
    } finally {
      sock.close();
    }
  });

  it('refuses a From other than the digest user (SIPp)', { skip: sippAvailability() }, async () => {
    const inf = join(env.dir, 'spoof.csv');
    writeFileSync(inf, `SEQUENTIAL\nuser1;[authentication username=user0 password=${pw('user0')}];bob;${D}\n`);
    const r = await runSipp(env.dir, 'spoof', ['-sf', scenario('message-spoof.xml'), '-inf', inf, `127.0.0.1:${env.port}`, '-i', '127.0.0.1', '-p', String(await freePort()), '-m', '1', '-timeout', '20s']);
    assert.equal(r.failed, 0, r.errors);
    assert.equal(r.successful, 1, r.errors);
  });
});
