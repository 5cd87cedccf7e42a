/**
 * The SDES keys travel only inside the signalling: nothing the call layer hands its logger —
 * at any level, before any redaction the logger itself might do — contains the `inline:` key
 * of the offer or of the answer. The descriptions are logged through `redactSdp`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SipherClient } from '../../../src/client/sipher-client.js';
import type { IncomingCall } from '../../../src/client/index.js';
import type { Logger, LogFields } from '../../../src/util/logger.js';
import { startSaServer, stopSaServer, type SaTestServer } from '../../support/sa-server.js';

const D = 'keys.example';
const pw = (u: string): string => `pw-${u}-keys`;

/** A logger that keeps every call verbatim (no redaction), all levels. */
function capturing(lines: string[], base: LogFields = {}): Logger {
  const put = (level: string) => (msg: string, fields?: LogFields): void => {
    lines.push(`${level} ${msg} ${JSON.stringify({ ...base, ...fields }, (_k, v: unknown) => (v instanceof Error ? { message: v.message, stack: v.stack } : v))}`);
  };
  return { debug: put('debug'), info: put('info'), warn: put('warn'), error: put('error'), child: (f) => capturing(lines, { ...base, ...f }) };
}

describe('SDES keys never reach the logs', () => {
  let env: SaTestServer;
  const clients: SipherClient[] = [];
  const logs: string[] = [];

  before(async () => {
    env = await startSaServer({ domain: D, users: ['alice', 'bob'], password: pw, env: { SIPHER_SA_ENABLED: 'false' } });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await stopSaServer(env);
  });

  it('a whole call (offer, answer, media, BYE) logs descriptions redacted only', async () => {
    const [alice, bob] = await Promise.all(['alice', 'bob'].map(async (u) => {
      const c = new SipherClient({ aor: `sip:${u}@${D}`, password: pw(u), server: { host: '127.0.0.1', port: env.port }, logger: capturing(logs) });
      clients.push(c);
      await c.start();
      await c.register();
      return c;
    })) as [SipherClient, SipherClient];
    const answered = new Promise<IncomingCall>((resolve, reject) => bob.once('call', (c) => c.accept().then(resolve, reject)));
    const [out, inc] = await Promise.all([alice.call(`sip:bob@${D}`), answered]);
    out.media.send(Buffer.alloc(160));
    inc.media.send(Buffer.alloc(160));
    await new Promise((r) => setTimeout(r, 50));
    await out.hangup();

    const keys = [out.negotiation!.srtp!.local, out.negotiation!.srtp!.remote[0]!, inc.negotiation!.srtp!.local].map((k) => Buffer.concat([k.key, k.salt]).toString('base64'));
    const text = logs.join('\n');
    assert.ok(/inline:\[redacted\]/.test(text), 'the offer and answer were logged, redacted');
    for (const k of keys) assert.equal(text.includes(k), false, 'an SRTP master key appears in the logs');
    assert.equal(/inline:(?!\[redacted\])/.test(text), false, 'an unredacted inline: key appears in the logs');
  });
});
