/**
 * Acceptance test with a real third-party user agent: two headless baresip instances
 * (Debian's package, see `test/support/baresip.ts`) register with Sipher using digest
 * authentication, one calls the other through Sipher, the call is established, audio flows
 * both ways (a 440 Hz tone, checked in the decoded WAV dump and in baresip's RTP counters),
 * and it is torn down with a BYE that follows the record-routed path.
 *
 * Sipher runs as the real CLI (`node bin/sipher.js`) from the compiled tree on free loopback
 * ports, with users added through `sipher user add`. Two account shapes are exercised:
 * the domain AOR with Sipher as outbound proxy (`<sip:alice@sipher.test>;outbound=…`), and
 * the AOR at Sipher's own address (`<sip:alice@127.0.0.1:PORT>`, a local alias of the domain).
 *
 * Digest algorithms: baresip 1.0.0's SIP stack (libre 1.1.0) computes MD5 only and rejects a
 * whole challenge (ENOSYS) as soon as one WWW-/Proxy-Authenticate offers another algorithm,
 * so Sipher's default (RFC 8760: SHA-256 then MD5) cannot be answered by it. The server is
 * started with `auth.algorithms: [MD5]` here.
 *
 * Without baresip the suite is skipped with the reason, except under `CI=true` where that is
 * a failure.
 */
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  baresipUnavailable,
  baresipVersion,
  freeUdpTcpPort,
  startBaresip,
  traceHeader,
  type Baresip,
  type TracedSipMessage,
} from '../../support/baresip.js';

const DOMAIN = 'sipher.test';
const USERS = { alice: 'alice-Secret-1', bob: 'bob-Secret-2' } as const;
/** Seconds of audio before hanging up. */
const TALK_MS = 3000;

/** The project root: the nearest directory above this file holding package.json. */
function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

const ROOT = projectRoot();
const SIPHER = path.join(ROOT, 'bin', 'sipher.js');

/** The environment for Sipher: ours without SIPHER_* (the test's config must win). */
function sipherEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SIPHER_')) env[k] = v;
  return env;
}

function runCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [SIPHER, ...args], { cwd: ROOT, env: sipherEnv(), timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`sipher ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

interface SipherProcess {
  port: number;
  proc: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** Adds the users with the CLI, then starts the server and waits for its `listening` lines. */
async function startSipher(dataDir: string): Promise<SipherProcess> {
  mkdirSync(dataDir, { recursive: true });
  const configFile = path.join(dataDir, 'sipher.yaml');
  writeFileSync(configFile, 'auth:\n  algorithms: [MD5]\nlog:\n  level: debug\n');
  const common = ['--config', configFile, '--data-dir', dataDir, '--domain', DOMAIN];
  for (const [user, password] of Object.entries(USERS)) await runCli(['user', 'add', user, '--password', password, ...common]);

  const port = await freeUdpTcpPort();
  const proc = spawn(
    process.execPath,
    [SIPHER, 'server', ...common, '--listen', `udp:127.0.0.1:${port}`, '--listen', `tcp:127.0.0.1:${port}`],
    { cwd: ROOT, env: sipherEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const killOnExit = (): void => {
    proc.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let out = '';
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sipher did not report listening within 15 s:\n${out.slice(-4000)}`)), 15_000);
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (out.includes(`listening udp 127.0.0.1:${port}`) && out.includes(`listening tcp 127.0.0.1:${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`sipher exited during start-up (code ${proc.exitCode}):\n${out.slice(-4000)}`));
    });
  });
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    process.removeListener('exit', killOnExit);
  };
  try {
    await ready;
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, proc, log: () => out, stop };
}

/** Messages of a trace matching a predicate, with a readable summary for assertion messages. */
function summary(msgs: TracedSipMessage[]): string {
  return msgs.map((m) => `${m.from} -> ${m.to}: ${m.startLine}`).join('\n');
}

const REGISTERED = /\{\d+\/UDP\/v4\} 200 [^\n]*\[\d+ bindings?\]/;
const REG_FAILED = /reg: [^\n]*: (?:\d{3} [^\n]*|Register: [^\n]*)/;
const ESTABLISHED = /Call established: [^\n]*/;
const TERMINATED = /Call with [^\n]* terminated[^\n]*/;
const CLOSED = /session closed[^\n]*/;

const unavailable = baresipUnavailable();

if (unavailable && process.env.CI === 'true') {
  describe('baresip interop (call through Sipher)', () => {
    it('needs baresip (CI=true: a missing interop peer is a failure)', () => {
      assert.fail(unavailable);
    });
  });
} else {
  describe(`baresip interop (call through Sipher) — ${unavailable ? 'unavailable' : baresipVersion()}`, { skip: unavailable ?? false }, () => {
    let tmp = '';
    const running: { stop(): Promise<void> }[] = [];

    before(() => {
      if (!existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))) {
        throw new Error(`Sipher is not built (${path.join(ROOT, 'dist')} missing): run npx tsc -p . first`);
      }
      tmp = mkdtempSync(path.join(os.tmpdir(), 'sipher-baresip-'));
    });

    after(async () => {
      await Promise.allSettled(running.splice(0).map((r) => r.stop()));
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    /**
     * One full scenario: Sipher + callee (auto-answer) + caller; register, call, talk, hang up.
     * `account(user, password, sipherPort)` gives the accounts line, `target(sipherPort)` the URI dialled.
     */
    async function scenario(
      name: string,
      account: (user: string, password: string, port: number) => string,
      target: (port: number) => string,
      note: (msg: string) => void,
    ): Promise<void> {
      const dir = path.join(tmp, name);
      const sipher = await startSipher(path.join(dir, 'sipher'));
      running.push(sipher);
      const agents: Baresip[] = [];
      const context = (): string =>
        [
          ...agents.map((a) => `--- ${a.name} (baresip, tail) ---\n${a.tail(120)}`),
          `--- sipher (tail) ---\n${sipher.log().split('\n').slice(-60).join('\n')}`,
        ].join('\n');
      try {
        const started = await Promise.allSettled([
          startBaresip({ name: 'alice', account: account('alice', USERS.alice, sipher.port), workDir: path.join(dir, 'alice') }),
          startBaresip({ name: 'bob', account: `${account('bob', USERS.bob, sipher.port)};answermode=auto`, workDir: path.join(dir, 'bob') }),
        ]);
        for (const r of started) if (r.status === 'fulfilled') agents.push(r.value);
        running.push(...agents);
        for (const r of started) if (r.status === 'rejected') throw r.reason;
        const [alice, bob] = agents as [Baresip, Baresip];
        const sipherAddr = `127.0.0.1:${sipher.port}`;

        // 1. Both register, and Sipher challenged each REGISTER (401, then credentials, then 200).
        await Promise.all([alice.waitFor(REGISTERED, 10_000, { failOn: REG_FAILED }), bob.waitFor(REGISTERED, 10_000, { failOn: REG_FAILED })]);
        for (const ua of [alice, bob]) {
          const regs = ua.sipMessages().filter((m) => m.method === 'REGISTER');
          const challenge = regs.find((m) => m.status === 401 && m.from === sipherAddr);
          assert.ok(challenge, `${ua.name}: Sipher sent no 401 to REGISTER:\n${summary(regs)}`);
          assert.match(traceHeader(challenge, 'WWW-Authenticate') ?? '', /^Digest /i, `${ua.name}: 401 without a Digest WWW-Authenticate`);
          const authed = regs.find((m) => !m.isResponse && /^Digest /i.test(traceHeader(m, 'Authorization') ?? ''));
          assert.ok(authed, `${ua.name}: no REGISTER with Authorization:\n${summary(regs)}`);
          assert.ok(
            regs.some((m) => m.status === 200 && m.from === sipherAddr),
            `${ua.name}: no 200 to REGISTER from Sipher:\n${summary(regs)}`,
          );
        }

        // 2. Alice calls Bob through Sipher; Bob answers automatically; both see the call up.
        const aliceMark = alice.mark();
        const bobMark = bob.mark();
        alice.command(`/dial ${target(sipher.port)}`);
        await Promise.all([
          alice.waitFor(ESTABLISHED, 10_000, { from: aliceMark, failOn: new RegExp(`${CLOSED.source}|${TERMINATED.source}`) }),
          bob.waitFor(ESTABLISHED, 10_000, { from: bobMark, failOn: new RegExp(`${CLOSED.source}|${TERMINATED.source}`) }),
        ]);
        const aInv = alice.sipMessages().filter((m) => m.method === 'INVITE');
        assert.ok(
          aInv.some((m) => m.status === 407 && m.from === sipherAddr && /^Digest /i.test(traceHeader(m, 'Proxy-Authenticate') ?? '')),
          `alice: Sipher did not challenge the INVITE with 407:\n${summary(aInv)}`,
        );
        assert.ok(
          aInv.some((m) => !m.isResponse && m.to === sipherAddr && /^Digest /i.test(traceHeader(m, 'Proxy-Authorization') ?? '')),
          `alice: no INVITE with Proxy-Authorization sent to Sipher:\n${summary(aInv)}`,
        );
        const ok = aInv.find((m) => m.status === 200 && m.from === sipherAddr);
        assert.ok(ok, `alice: no 200 to INVITE from Sipher:\n${summary(aInv)}`);
        assert.ok(
          ok.headers.some((h) => /^Record-Route:/i.test(h) && h.includes(sipherAddr)),
          `alice: the 200 to INVITE has no Record-Route of Sipher (${sipherAddr}):\n${ok.headers.join('\n')}`,
        );
        const bInv = bob.sipMessages().filter((m) => m.method === 'INVITE');
        assert.ok(
          bInv.some((m) => !m.isResponse && m.from === sipherAddr),
          `bob: the INVITE did not come from Sipher (${sipherAddr}):\n${summary(bInv)}`,
        );

        // 3. Media: RTP arrives at both ends; let the tone play.
        await Promise.all([
          alice.waitFor(/incoming rtp for 'audio' established/, 5000, { from: aliceMark }),
          bob.waitFor(/incoming rtp for 'audio' established/, 5000, { from: bobMark }),
        ]);
        await sleep(TALK_MS);

        // 4. Alice hangs up; the BYE reaches Bob through Sipher; both report the end and RTP stats.
        const aliceEnd = alice.mark();
        const bobEnd = bob.mark();
        alice.command('/hangup');
        await Promise.all([
          alice.waitFor(/^packets:\s+\d+\s+\d+/m, 10_000, { from: aliceEnd }),
          bob.waitFor(/^packets:\s+\d+\s+\d+/m, 10_000, { from: bobEnd }),
        ]);
        await alice.waitFor(TERMINATED, 1000, { from: aliceEnd });
        await bob.waitFor(TERMINATED, 1000, { from: bobEnd });
        const aBye = alice.sipMessages().filter((m) => m.method === 'BYE');
        assert.ok(
          aBye.some((m) => !m.isResponse && m.to === sipherAddr && m.headers.some((h) => /^Route:/i.test(h) && h.includes(sipherAddr))),
          `alice: the BYE was not sent to Sipher along its Record-Route:\n${summary(aBye)}`,
        );
        // baresip reports the end as soon as it sends the BYE; its 200 comes back through Sipher.
        await alice.waitForSip((m) => m.method === 'BYE' && m.status === 200 && m.from === sipherAddr, 5000, '200 to BYE from Sipher');
        const bBye = bob.sipMessages().filter((m) => m.method === 'BYE');
        assert.ok(bBye.some((m) => !m.isResponse && m.from === sipherAddr), `bob: the BYE did not come from Sipher:\n${summary(bBye)}`);

        // 5. Audio flowed both ways: RTP counters and the decoded tone on each side.
        const minPackets = Math.floor((TALK_MS / 20) * 0.5); // 20 ms packets; half is plenty of margin
        for (const ua of [alice, bob]) {
          const stats = ua.rtpStats().at(-1);
          assert.ok(stats, `${ua.name}: no RTP stats printed`);
          assert.ok(stats.rxPackets > minPackets, `${ua.name}: received ${stats.rxPackets} RTP packets (want > ${minPackets})`);
          assert.ok(stats.txPackets > minPackets, `${ua.name}: sent ${stats.txPackets} RTP packets (want > ${minPackets})`);
          const audio = ua.receivedAudio();
          assert.ok(audio, `${ua.name}: no decoded audio dump`);
          const detail = `${ua.name}: ${JSON.stringify(audio)}`;
          assert.ok(audio.bytes > 16_000, `too little received audio — ${detail}`); // 8 kHz 16-bit: 16 KB per second
          assert.ok(audio.seconds >= (TALK_MS / 1000) * 0.6, `received audio too short — ${detail}`);
          assert.ok(audio.rms > 1000, `received audio is (near) silence — ${detail}`);
          assert.ok(Math.abs(audio.frequency - 440) < 40, `received audio is not the 440 Hz tone — ${detail}`);
          note(
            `${ua.name}: RTP tx ${stats.txPackets} rx ${stats.rxPackets}; received ${audio.seconds.toFixed(2)} s of audio, ` +
              `${audio.sampleRate} Hz, rms ${Math.round(audio.rms)}, ~${Math.round(audio.frequency)} Hz`,
          );
        }

        await Promise.all([alice.stop(), bob.stop()]);
      } catch (err) {
        if (err instanceof Error) err.message += `\n${context()}`;
        throw err;
      } finally {
        await Promise.allSettled([...agents.map((a) => a.stop()), sipher.stop()]);
      }
    }

    it('registers two domain AORs via Sipher as outbound proxy, calls, carries audio, hangs up', { timeout: 60_000 }, async (t) => {
      await scenario(
        'outbound',
        (user, password, port) => `<sip:${user}@${DOMAIN}>;auth_pass=${password};outbound="sip:127.0.0.1:${port}";regint=600`,
        () => `sip:bob@${DOMAIN}`,
        (m) => t.diagnostic(m),
      );
    });

    it('registers two AORs at Sipher’s own address (a local alias of the domain), calls, carries audio, hangs up', { timeout: 60_000 }, async (t) => {
      await scenario(
        'address',
        (user, password, port) => `<sip:${user}@127.0.0.1:${port}>;auth_pass=${password};regint=600`,
        (port) => `sip:bob@127.0.0.1:${port}`,
        (m) => t.diagnostic(m),
      );
    });
  });
}
