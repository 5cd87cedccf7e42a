/**
 * SA mode of the benchmark (issue 4 §Performance): SDK devices drive a `sipher server` child
 * process with REGISTER refreshes and device-to-device MESSAGEs (each one proxied: device →
 * server → device, the non-INVITE analogue of a call leg), closed loop, first in plain SIP and
 * then with every device on an SA (whole range, AES-256-GCM, periodic update on). Reports the
 * transaction rates and the SA/plain ratio (target ≥ 0.8).
 *
 * Usage: `npm run build && node dist/bench/sa-throughput.js [--devices N] [--seconds S] [--json]`
 * @module
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeHa1 } from '../src/auth/digest.js';
import { SipherClient } from '../src/client/sipher-client.js';
import { openStore } from '../src/store/open-store.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const DEVICES = opt('devices', 100);
const SECONDS = opt('seconds', 10);
const DOMAIN = 'bench.sa';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function startServer(dir: string, port: number, http: number): Promise<{ stop(): Promise<void>; fingerprint: string }> {
  const p = spawn(process.execPath, [join(process.cwd(), 'bin', 'sipher.js'), 'server', '--data-dir', dir, '--domain', DOMAIN, '--listen', `udp:127.0.0.1:${port}`, '--http', `127.0.0.1:${http}`, '--log-level', 'error'], {
    env: { ...process.env, SIPHER_CA_PASSPHRASE: 'bench-passphrase', SIPHER_SA_UPDATE_TIMER: '5', SIPHER_AUTH_PROXY: 'false' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  const end = Date.now() + 20_000;
  while (!/SA server key ([0-9a-f]{64})/.test(out)) {
    if (Date.now() > end || p.exitCode !== null) throw new Error(`sipher server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    fingerprint: /SA server key ([0-9a-f]{64})/.exec(out)![1]!,
    stop: () => new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    }),
  };
}

interface ModeResult {
  mode: 'plain' | 'sa';
  registers: number;
  messages: number;
  failures: number;
  seconds: number;
  registerRate: number;
  messageRate: number;
  transactionRate: number;
}

async function run(mode: 'plain' | 'sa'): Promise<ModeResult> {
  const dir = mkdtempSync(join(tmpdir(), `sipher-bench-sa-${mode}-`));
  try {
    const store = await openStore('', dir);
    const now = Date.now();
    for (let i = 0; i < DEVICES; i++) {
      const u = `d${i}`;
      await store.addUser({ domain: DOMAIN, username: u, ha1Md5: computeHa1('MD5', u, DOMAIN, `p${i}`), ha1Sha256: computeHa1('SHA-256', u, DOMAIN, `p${i}`), createdAt: now, updatedAt: now });
    }
    await store.close();
    const port = await freePort();
    const server = await startServer(dir, port, await freePort());
    const clients = Array.from({ length: DEVICES }, (_, i) => new SipherClient({
      aor: `sip:d${i}@${DOMAIN}`, password: `p${i}`, server: { host: '127.0.0.1', port, transport: 'udp' }, local: { host: '127.0.0.1', port: 0 },
      ...(mode === 'sa' ? { sa: { serverKey: server.fingerprint, mode: 'required' as const } } : {}),
    }));
    for (const c of clients) c.on('request', (r) => r.respond(200));
    try {
      await Promise.all(clients.map((c) => c.start()));
      for (let i = 0; i < DEVICES; i += 50) await Promise.all(clients.slice(i, i + 50).map((c) => c.register()));
      await new Promise((r) => setTimeout(r, 1000)); // first enablement settles
      let registers = 0;
      let messages = 0;
      let failures = 0;
      const stopAt = Date.now() + SECONDS * 1000;
      const started = Date.now();
      await Promise.all(clients.map(async (c, i) => {
        let n = 0;
        while (Date.now() < stopAt) {
          try {
            if (n++ % 4 === 0) {
              await c.register();
              registers++;
            } else {
              const r = await c.request('MESSAGE', `sip:d${(i + n) % DEVICES}@${DOMAIN}`, { body: Buffer.from('ping'), contentType: 'text/plain' });
              if (r.status === 200) messages++;
              else failures++;
            }
          } catch {
            failures++;
          }
        }
      }));
      const seconds = (Date.now() - started) / 1000;
      return {
        mode, registers, messages, failures, seconds,
        registerRate: registers / seconds, messageRate: messages / seconds, transactionRate: (registers + messages) / seconds,
      };
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const plain = await run('plain');
const sa = await run('sa');
const ratio = sa.transactionRate / plain.transactionRate;
if (args.includes('--json')) process.stdout.write(`${JSON.stringify({ devices: DEVICES, seconds: SECONDS, plain, sa, ratio })}\n`);
else {
  const row = (r: ModeResult): string => `| ${r.mode} | ${r.registerRate.toFixed(0)} | ${r.messageRate.toFixed(0)} | ${r.transactionRate.toFixed(0)} | ${r.failures} |`;
  process.stdout.write(`${DEVICES} SDK devices, ${SECONDS} s closed loop per mode\n\n| mode | REGISTER/s | MESSAGE/s (proxied) | transactions/s | failures |\n|---|---|---|---|---|\n${row(plain)}\n${row(sa)}\n\nSA/plain = ${(ratio * 100).toFixed(1)}%\n`);
}
