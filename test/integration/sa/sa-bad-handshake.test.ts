/**
 * Bad handshakes at the server (issue 4 §Bad input): malformed, out of order, without
 * capability, replayed, with a wrong credential — each answered 4xx with a reason phrase and
 * counted, never a crash; a flood of garbage records is dropped and counted before any AEAD.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateNoiseKeyPair } from '../../../src/crypto/noise/index.js';
import { HandshakeInitiator } from '../../../src/security/sa/index.js';
import { RawUa } from '../../support/raw-ua.js';
import { startSaServer, stopSaServer, waitFor, type SaTestServer } from '../../support/sa-server.js';

const D = 'bad-hs.example';
const SC = 'sipher-sa;v=1;rules="aes-256-gcm";ranges="whole"';

function register(ua: RawUa, o: { callId: string; cseq: number; branch: string; body?: Buffer; securityClient?: string | undefined; extra?: string[] }): Buffer {
  const head = [
    `REGISTER sip:${D} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${ua.port};branch=${o.branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:anonymous@${D}>;tag=t1`,
    `To: <sip:anonymous@${D}>`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq} REGISTER`,
    ...(o.securityClient === undefined ? [] : [`Security-Client: ${o.securityClient}`]),
    ...(o.extra ?? []),
    ...(o.body ? ['Content-Type: application/sipher-handshake'] : []),
    `Content-Length: ${o.body?.length ?? 0}`,
    '', '',
  ].join('\r\n');
  return o.body ? Buffer.concat([Buffer.from(head, 'latin1'), o.body]) : Buffer.from(head, 'latin1');
}

describe('bad SA handshakes at the server', () => {
  let env: SaTestServer;
  let ua: RawUa;
  let n = 0;
  before(async () => {
    env = await startSaServer({ domain: D, users: ['alice'], password: () => 'alice-pw' });
    ua = await RawUa.open({ address: '127.0.0.1', port: env.port });
  });
  after(async () => {
    ua.close();
    await stopSaServer(env);
  });
  const failures = (): number => (env.server.stats().sa as { handshakeFailures: number }).handshakeFailures;
  const branch = (): string => `z9hG4bKbad${++n}`;

  async function expect(bytes: Buffer, status: number, reason: RegExp): Promise<void> {
    const before = failures();
    ua.send(bytes);
    const r = await ua.response(status, 'REGISTER');
    assert.match(r.reason, reason);
    assert.equal(failures(), before + 1);
  }

  it('answers malformed handshake bodies 400 Bad Handshake', async () => {
    for (const body of [Buffer.alloc(5), Buffer.alloc(60, 0xff), Buffer.concat([Buffer.from([1, 1, 9]), Buffer.alloc(50)]), Buffer.concat([Buffer.from([1, 1, 1]), Buffer.alloc(8), Buffer.alloc(10)])]) {
      await expect(register(ua, { callId: `m${n}`, cseq: 1, branch: branch(), body, securityClient: SC }), 400, /Bad Handshake/);
    }
  });

  it('answers a handshake without Security-Client 400', async () => {
    const init = new HandshakeInitiator({ staticKey: generateNoiseKeyPair(), callId: 'nosc', securityClient: SC });
    await expect(register(ua, { callId: 'nosc', cseq: 1, branch: branch(), body: init.first() }), 400, /Bad Handshake/);
  });

  it('answers step 3 without step 1 with 481, and a forged step 3 with 400', async () => {
    const init = new HandshakeInitiator({ staticKey: generateNoiseKeyPair(), callId: 'c3', securityClient: SC });
    init.first();
    const fake = Buffer.concat([Buffer.from([1, 3, 1]), Buffer.alloc(8), Buffer.alloc(96)]);
    await expect(register(ua, { callId: 'c3', cseq: 2, branch: branch(), body: fake, securityClient: SC }), 481, /Handshake Not Found/);
    // A proper step 1, then a step 3 that is not the peer's Noise message (fails to decrypt).
    ua.send(register(ua, { callId: 'c4', cseq: 1, branch: branch(), body: new HandshakeInitiator({ staticKey: generateNoiseKeyPair(), callId: 'c4', securityClient: SC }).first(), securityClient: SC }));
    const r401 = await ua.response(401, 'REGISTER');
    assert.equal(r401.get('content-type'), 'application/sipher-handshake');
    await expect(register(ua, { callId: 'c4', cseq: 2, branch: branch(), body: Buffer.concat([r401.body.subarray(0, 11).fill(3, 1, 2), Buffer.alloc(64)]), securityClient: SC }), 400, /Bad Handshake/);
  });

  it('refuses a device without credentials (403) and a replayed step 3 (481)', async () => {
    const init = new HandshakeInitiator({ staticKey: generateNoiseKeyPair(), callId: 'c5', securityClient: SC });
    ua.send(register(ua, { callId: 'c5', cseq: 1, branch: branch(), body: init.first(), securityClient: SC }));
    const r401 = await ua.response(401, 'REGISTER');
    init.second(r401.body);
    const b = branch();
    const inner = register(ua, { callId: 'c5', cseq: 2, branch: b, extra: [`Contact: <sip:alice@127.0.0.1:${ua.port}>`] }).toString('latin1')
      .replace(/anonymous/g, 'alice');
    const step3 = init.third(Buffer.from(inner, 'latin1'));
    const outer = register(ua, { callId: 'c5', cseq: 2, branch: b, body: step3.body, securityClient: SC });
    await expect(outer, 403, /Handshake Not Accepted/);
    await expect(register(ua, { callId: 'c5', cseq: 3, branch: branch(), body: step3.body, securityClient: SC }), 481, /Handshake Not Found/);
    assert.equal((await env.store.getBindings(`sip:alice@${D}`)).length, 0);
  });

  it('drops a flood of garbage records and partial-range messages, counted, and stays up', async () => {
    const faults = (): Record<string, number> => ({ ...(env.server.stats().sa as { records: { faults: Record<string, number> } }).records.faults });
    const before = faults();
    for (let i = 0; i < 500; i++) {
      const rec = Buffer.alloc(24 + 16 + (i % 200));
      rec[0] = 0xd3;
      rec[1] = 0x11;
      rec.writeUInt16BE(rec.length - 24, 22);
      rec.writeUInt32BE(i, 2); // unknown SA ids
      ua.send(rec);
    }
    const partial = register(ua, { callId: 'p1', cseq: 1, branch: branch(), extra: ['Sipher-SA: id=0011223344556677;gen=0;seq=1'] });
    ua.send(partial);
    await waitFor(() => faults()['unknown-sa']! - before['unknown-sa']! >= 501, 10_000);
    const after = faults();
    assert.equal(after['unknown-sa']! - before['unknown-sa']!, 501);
    assert.equal(after.decrypt, before.decrypt, 'no AEAD was tried');
    // Still serving.
    ua.send(register(ua, { callId: 'alive', cseq: 1, branch: branch() }));
    await ua.response(401, 'REGISTER');
  });
});

