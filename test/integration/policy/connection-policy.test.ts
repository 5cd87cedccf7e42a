/**
 * The connection policy on real sockets (SPEC POL-2, issue 5 acceptance): the proxy and the
 * certificate query service apply it; a denied caller gets exactly what the caller of a user
 * that does not exist gets (compared response for response); a new version applies to the
 * next request without restart; invalid documents are refused with every problem.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SipherClient } from '../../../src/client/sipher-client.js';
import { PolicyError } from '../../../src/errors.js';
import type { SipResponse } from '../../../src/sip/index.js';
import { startSaServer, stopSaServer, type SaTestServer } from '../../support/sa-server.js';

const D = 'policy.example';
const pw = (u: string): string => `pw-${u}-secret`;

const POLICY = `
version: 1
default: deny
groups:
  sales: [sip:alice@${D}, sip:bob@${D}]
  staff: ["@sales", sip:carol@${D}]
tags:
  sip:dave@${D}: [kiosk]
rules:
  - id: kiosks-message-nobody
    action: deny
    from: { tags: [kiosk] }
    to: { any: true }
  - id: staff-talk
    action: allow
    from: { groups: [staff] }
    to: { groups: [staff] }
    kinds: [call, message, certificate-query]
  - id: anyone-to-carol
    action: allow
    from: { any: true }
    to: { users: [sip:carol@${D}] }
    kinds: [message]
`;

/** What a caller can observe of a response: status, reason, header names and body. */
function observable(r: SipResponse): { status: number; reason: string; headers: string[]; body: string } {
  return { status: r.status, reason: r.reason, headers: r.headers.map((h) => h.key).filter((k) => !['via', 'from', 'to', 'call-id', 'cseq'].includes(k)).sort(), body: r.body.toString() };
}

describe('connection policy (POL-2)', () => {
  let env: SaTestServer;
  const c: Record<string, SipherClient> = {};
  before(async () => {
    env = await startSaServer({ domain: D, users: ['alice', 'bob', 'carol', 'dave', 'erin'], password: pw, env: { SIPHER_SA_ENABLED: 'false' } });
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin']) {
      const x = new SipherClient({ aor: `sip:${u}@${D}`, password: pw(u), server: { host: '127.0.0.1', port: env.port, transport: 'udp' }, local: { host: '127.0.0.1', port: 0 } });
      x.on('request', (r) => r.respond(200));
      await x.start();
      await x.register();
      c[u] = x;
    }
  });
  after(async () => {
    for (const x of Object.values(c)) await x.close();
    await stopSaServer(env);
  });

  const message = (from: string, to: string): Promise<SipResponse> => c[from]!.request('MESSAGE', `sip:${to}@${D}`, { body: Buffer.from('hi'), contentType: 'text/plain' });

  it('allows everything while no policy is stored', async () => {
    assert.equal(env.server.policyService!.version, undefined);
    assert.equal((await message('erin', 'alice')).status, 200);
  });

  it('applies a stored version to the next request, per rule, group, tag, kind and default', async () => {
    const { version } = await env.server.policyService!.update(POLICY, { author: 'test' });
    assert.equal(version, 1);
    const table: [string, string, number][] = [
      ['alice', 'bob', 200], // staff-talk (nested group)
      ['bob', 'carol', 200], // staff-talk
      ['erin', 'carol', 200], // anyone-to-carol
      ['erin', 'alice', 404], // default deny
      ['dave', 'carol', 404], // the kiosk rule comes first
      ['alice', 'erin', 404], // erin is not staff: default deny
    ];
    for (const [from, to, status] of table) assert.equal((await message(from, to)).status, status, `${from} → ${to}`);
    const stats = env.server.stats() as { proxy: { policyDenied: number } };
    assert.equal(stats.proxy.policyDenied, 3);
    // An OPTIONS to a user is judged as a call: it would tell where the callee is.
    assert.equal((await c.erin!.request('OPTIONS', `sip:alice@${D}`)).status, 404);
    assert.equal((await c.alice!.request('OPTIONS', `sip:bob@${D}`)).status, 200);
  });

  it('answers a denied caller exactly as the caller of a user that does not exist', async () => {
    const denied = await message('erin', 'alice');
    const unknown = await message('erin', 'nobody');
    assert.deepEqual(observable(denied), observable(unknown));
    assert.equal(denied.status, 404);
    // The same for a certificate query (OPTIONS Accept: application/pkix-cert).
    const q = (to: string): Promise<SipResponse> => c.erin!.request('OPTIONS', `sip:${to}@${D}`, { headers: [['Accept', 'application/pkix-cert']] });
    const deniedQuery = await q('alice');
    const unknownQuery = await q('nobody');
    assert.deepEqual(observable(deniedQuery), observable(unknownQuery));
    assert.equal(deniedQuery.status, 404);
    // Allowed by staff-talk: alice may query bob (bob has no certificate: 404 No Certificate, not Not Found).
    assert.equal((await c.alice!.request('OPTIONS', `sip:bob@${D}`, { headers: [['Accept', 'application/pkix-cert']] })).reason, 'No Certificate');
  });

  it('refuses an invalid document with every problem, and keeps the version in force', async () => {
    const bad = `version: 1\ndefault: maybe\ngroups:\n  a: ["@b"]\n  b: ["@a"]\nrules:\n  - id: x\n    action: allow\n    from: { groups: [nope] }\n    to: {}\n`;
    await assert.rejects(env.server.policyService!.update(bad), (e: unknown) => e instanceof PolicyError && e.problems.length >= 3);
    assert.equal(env.server.policyService!.version, 1);
    assert.equal((await message('erin', 'alice')).status, 404);
  });

  it('a new version applies at once, without restart', async () => {
    await env.server.policyService!.update(`version: 1\ndefault: allow\n`);
    assert.equal(env.server.policyService!.version, 2);
    assert.equal((await message('erin', 'alice')).status, 200);
    assert.deepEqual((await env.store.listPolicyVersions()).map((v) => v.version), [2, 1]);
  });
});
