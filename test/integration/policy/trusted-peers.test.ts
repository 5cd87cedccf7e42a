/**
 * P-Asserted-Identity (SPEC POL-3, RFC 3325 §5): honoured only from a trusted peer
 * (`proxy.trustedPeers`), where it is the caller the connection policy sees; removed from
 * anyone else.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { SipherClient } from '../../../src/client/sipher-client.js';
import { parseDatagram, type SipRequest, type SipResponse } from '../../../src/sip/index.js';
import { startSaServer, stopSaServer } from '../../support/sa-server.js';

const D = 'pai.example';
const pw = (u: string): string => `pw-${u}-secret`;

async function send(bindAddress: string, port: number, callId: string): Promise<SipResponse> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, bindAddress, () => r()));
  try {
    const lport = sock.address().port;
    const msg = [
      `MESSAGE sip:carol@${D} SIP/2.0`, `Via: SIP/2.0/UDP ${bindAddress}:${lport};branch=z9hG4bK${callId};rport`, 'Max-Forwards: 70',
      `From: <sip:bob@${D}>;tag=t${callId}`, `To: <sip:carol@${D}>`, `Call-ID: ${callId}`, 'CSeq: 1 MESSAGE',
      `P-Asserted-Identity: <sip:alice@${D}>`, 'Content-Type: text/plain', 'Content-Length: 2', '', 'hi',
    ].join('\r\n');
    const answer = new Promise<SipResponse>((resolve) => sock.on('message', (m) => {
      const r = parseDatagram(m) as SipResponse;
      if (r.status >= 200) resolve(r);
    }));
    sock.send(Buffer.from(msg, 'latin1'), port, '127.0.0.1');
    return await answer;
  } finally {
    sock.close();
  }
}

describe('P-Asserted-Identity from trusted peers only', () => {
  it('keeps and uses it from a trusted peer, removes it from others', async () => {
    const env = await startSaServer({
      domain: D, users: ['alice', 'bob', 'carol'], password: pw,
      env: { SIPHER_PROXY_TRUSTED_PEERS: '127.0.0.2', SIPHER_AUTH_PROXY: 'false', SIPHER_SA_ENABLED: 'false' },
    });
    const carol = new SipherClient({ aor: `sip:carol@${D}`, password: pw('carol'), server: { host: '127.0.0.1', port: env.port, transport: 'udp' }, local: { host: '127.0.0.1', port: 0 } });
    const seen: SipRequest[] = [];
    carol.on('request', (r) => {
      seen.push(r.request);
      r.respond(200);
    });
    try {
      await carol.start();
      await carol.register();
      await env.server.policyService!.update(`version: 1\ndefault: deny\nrules:\n  - id: alice-to-carol\n    action: allow\n    from: { users: [sip:alice@${D}] }\n    to: { users: [sip:carol@${D}] }\n`);
      const trusted = await send('127.0.0.2', env.port, 'trusted1');
      assert.equal(trusted.status, 200, 'the trusted peer asserted alice, whom the policy allows');
      assert.equal(seen[0]!.get('p-asserted-identity'), `<sip:alice@${D}>`);
      const untrusted = await send('127.0.0.1', env.port, 'untrusted1');
      assert.equal(untrusted.status, 404, 'from an untrusted source the caller is bob (From): denied');
      assert.equal(seen.length, 1);
    } finally {
      await carol.close();
      await stopSaServer(env);
    }
  });
});
