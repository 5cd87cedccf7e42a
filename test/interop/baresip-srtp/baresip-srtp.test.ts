/**
 * Interop of SDK calls with baresip (SPEC PEER-1, PEER-2): baresip registers to an in-process
 * Sipher with an SRTP-mandatory account (`;mediaenc=srtp-mand`, SDES keys in the SDP, baresip's
 * `srtp` module) and answers automatically; an SDK device calls it through Sipher, sends a
 * 440 Hz PCMU tone as SRTP and receives baresip's `ausine` tone as authenticated SRTP.
 *
 * Each SRTP profile baresip offers is tried in turn by forcing it in the SDK's offer. Digest:
 * baresip 1.0.0 (libre 1.1.0) answers MD5 challenges only (see the baresip call test), so the
 * server offers MD5.
 *
 * Without baresip (or its `srtp` module) the suite is skipped with the reason, except under
 * `CI=true` where that is a failure.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SipherClient } from '../../../src/client/sipher-client.js';
import { playTone, ulawToLinear, type OutgoingCall } from '../../../src/client/index.js';
import type { SrtpSuiteName } from '../../../src/sdp/index.js';
import { systemClock } from '../../../src/util/clock.js';
import { analyseWav, baresipUnavailable, baresipVersion, findBaresipModules, startBaresip, traceHeader, type Baresip } from '../../support/baresip.js';
import { startSaServer, stopSaServer, type SaTestServer } from '../../support/sa-server.js';

const DOMAIN = 'sipher.test';
const PASSWORDS: Record<string, string> = { alice: 'alice-Secret-1', bob: 'bob-Secret-2' };
/** How long the SDK plays its tone (20 ms frames). */
const TALK_MS = 2000;
const REGISTERED = /\{\d+\/UDP\/v4\} 200 [^\n]*\[\d+ bindings?\]/;
const REG_FAILED = /reg: [^\n]*: (?:\d{3} [^\n]*|Register: [^\n]*)/;
const PROFILES: SrtpSuiteName[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AEAD_AES_128_GCM'];

/** Why this test cannot run: baresip missing, or its srtp module. */
function unavailableReason(): string | undefined {
  const base = baresipUnavailable();
  if (base) return base;
  const dir = findBaresipModules()!;
  if (!existsSync(path.join(dir, 'srtp.so'))) return `baresip module srtp.so missing from ${dir}`;
  return undefined;
}

const unavailable = unavailableReason();

/** The decoded-audio dumps (`*-dec.wav`) baresip wrote, oldest first. */
function decodedDumps(workDir: string): string[] {
  const dir = path.join(workDir, 'audio');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('-dec.wav')).sort().map((f) => path.join(dir, f)) : [];
}

/** Zero crossings of decoded μ-law → Hz (20 ms frames at 8 kHz). */
function frequencyOf(frames: Buffer[]): number {
  let crossings = 0;
  let prev = 0;
  let samples = 0;
  for (const f of frames) {
    for (const b of f) {
      const v = ulawToLinear(b);
      if ((prev < 0 && v >= 0) || (prev >= 0 && v < 0)) crossings++;
      prev = v;
      samples++;
    }
  }
  return samples > 0 ? crossings / 2 / (samples / 8000) : 0;
}

if (unavailable && process.env.CI === 'true') {
  describe('baresip SRTP interop (SDK calls baresip through Sipher)', () => {
    it('needs baresip with its srtp module (CI=true: a missing interop peer is a failure)', () => {
      assert.fail(unavailable);
    });
  });
} else {
  describe(`baresip SRTP interop (SDK calls baresip through Sipher) — ${unavailable ? 'unavailable' : baresipVersion()}`, { skip: unavailable ?? false }, () => {
    let tmp = '';
    let env: SaTestServer;
    let bob: Baresip;
    let alice: SipherClient;

    before(async () => {
      tmp = mkdtempSync(path.join(os.tmpdir(), 'sipher-baresip-srtp-'));
      env = await startSaServer({
        domain: DOMAIN, users: ['alice', 'bob'], password: (u) => PASSWORDS[u]!,
        env: { SIPHER_SA_ENABLED: 'false' },
        tune: (c) => { c.auth.algorithms = ['MD5']; },
      });
      bob = await startBaresip({
        name: 'bob',
        account: `<sip:bob@${DOMAIN}>;auth_pass=${PASSWORDS.bob};outbound="sip:127.0.0.1:${env.port}";regint=600;mediaenc=srtp-mand;answermode=auto`,
        workDir: path.join(tmp, 'bob'),
        extraConfig: ['module srtp.so'],
      });
      await bob.waitFor(REGISTERED, 10_000, { failOn: REG_FAILED });
      alice = new SipherClient({ aor: `sip:alice@${DOMAIN}`, password: PASSWORDS.alice, server: { host: '127.0.0.1', port: env.port, transport: 'udp' } });
      await alice.start();
      await alice.register();
    });

    after(async () => {
      await alice?.close();
      await bob?.stop();
      if (env) await stopSaServer(env);
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    for (const profile of PROFILES) {
      it(`SDK → baresip with ${profile}: SRTP both ways, baresip's tone authenticated`, { timeout: 30_000 }, async (t) => {
        const mark = bob.mark();
        const dumpsBefore = decodedDumps(path.join(tmp, 'bob'));
        let call: OutgoingCall;
        try {
          call = await alice.call(`sip:bob@${DOMAIN}`, { suites: [profile] });
        } catch (e) {
          (e as Error).message += `\n--- bob (baresip, tail) ---\n${bob.tail(80)}`;
          throw e;
        }
        try {
          assert.equal(call.negotiation?.srtp?.suite, profile);
          assert.equal(call.media.sendCodec?.encoding.toUpperCase(), 'PCMU');
          const frames: Buffer[] = [];
          call.media.on('rtp', (p, h) => { if (h.payloadType === 0) frames.push(Buffer.from(p)); });
          const tone = playTone(call.media, systemClock, { frames: TALK_MS / 20, frequency: 440 });
          await tone.done;
          await sleep(200);
          const stats = call.media.stats();
          // The media went between the SDK and baresip, not through the server.
          assert.notEqual(call.media.remote!.port, env.port);
          assert.deepEqual(call.media.lastSource, call.media.remote, 'baresip sends from the address it announced');
          assert.ok(stats.received > 20, `authenticated SRTP packets from baresip: ${stats.received}\n${bob.tail(40)}`);
          assert.equal(stats.authFailures, 0);
          assert.equal(stats.replays, 0);
          assert.equal(stats.sent, TALK_MS / 20);
          const hz = frequencyOf(frames.slice(10));
          t.diagnostic(`${profile}: sent ${stats.sent}, received ${stats.received} (PCMU frames ${frames.length}, ~${Math.round(hz)} Hz), auth failures ${stats.authFailures}`);
          assert.ok(frames.length > 20, 'PCMU frames from baresip');
          assert.ok(Math.abs(hz - 440) < 60, `baresip's tone decodes to ~440 Hz (got ${hz.toFixed(1)})`);
          // baresip answered with SRTP and the profile we forced (its trace shows our INVITE).
          const inv = bob.sipMessages().find((m) => m.method === 'INVITE' && !m.isResponse);
          assert.ok(inv, 'baresip saw the INVITE');
          assert.match(traceHeader(inv, 'Content-Type') ?? '', /application\/sdp/);
        } finally {
          const ended = new Promise((r) => call.once('ended', r));
          await call.hangup();
          await ended;
        }
        // baresip prints its RTP counters when the call ends: it received (and decrypted) ours.
        await bob.waitFor(/^packets:\s+\d+\s+\d+/m, 10_000, { from: mark });
        const rtp = bob.rtpStats().at(-1)!;
        t.diagnostic(`baresip: tx ${rtp.txPackets} rx ${rtp.rxPackets}`);
        assert.ok(rtp.rxPackets > 20, `baresip received ${rtp.rxPackets} of our packets`);
        // …and decrypted and decoded them: its dump of the received audio is our 440 Hz tone.
        const fresh = decodedDumps(path.join(tmp, 'bob')).filter((f) => !dumpsBefore.includes(f));
        assert.equal(fresh.length, 1, 'one new decoded-audio dump for this call');
        const audio = analyseWav(readFileSync(fresh[0]!));
        t.diagnostic(`baresip decoded: ${JSON.stringify(audio)}`);
        assert.ok(audio.seconds > 1, `baresip decoded too little of our audio: ${JSON.stringify(audio)}`);
        assert.ok(audio.rms > 1000, `baresip decoded (near) silence: ${JSON.stringify(audio)}`);
        assert.ok(Math.abs(audio.frequency - 440) < 60, `baresip decoded something else than our tone: ${JSON.stringify(audio)}`);
      });
    }

    it('baresip → SDK: the SDK answers baresip\'s SRTP offer; media both ways; the SDK hangs up', { timeout: 30_000 }, async (t) => {
      const mark = bob.mark();
      const incoming = new Promise<import('../../../src/client/index.js').IncomingCall>((resolve) => alice.once('call', resolve));
      bob.command(`/dial sip:alice@${DOMAIN}`);
      const call = await incoming;
      try {
        assert.equal(call.from, `sip:bob@${DOMAIN}`);
        await call.accept();
        assert.equal(call.state, 'established');
        t.diagnostic(`negotiated ${call.negotiation?.srtp?.suite} with baresip's offer`);
        const tone = playTone(call.media, systemClock, { frames: TALK_MS / 20, frequency: 440 });
        await tone.done;
        await sleep(200);
        const stats = call.media.stats();
        t.diagnostic(`sent ${stats.sent}, received ${stats.received}, auth failures ${stats.authFailures}`);
        assert.ok(stats.received > 20, `authenticated SRTP packets from baresip: ${stats.received}`);
        assert.equal(stats.authFailures, 0);
      } catch (e) {
        (e as Error).message += `\n--- bob (baresip, tail) ---\n${bob.tail(80)}`;
        throw e;
      } finally {
        const ended = new Promise((r) => call.once('ended', r));
        await call.hangup();
        await ended;
      }
      await bob.waitFor(/^packets:\s+\d+\s+\d+/m, 10_000, { from: mark });
      const rtp = bob.rtpStats().at(-1)!;
      t.diagnostic(`baresip: tx ${rtp.txPackets} rx ${rtp.rxPackets}`);
      assert.ok(rtp.rxPackets > 20, `baresip received ${rtp.rxPackets} of our packets`);
      // The BYE reached baresip through Sipher.
      const bye = bob.sipMessages().filter((m) => m.method === 'BYE' && !m.isResponse);
      assert.ok(bye.some((m) => m.from === `127.0.0.1:${env.port}`), 'BYE from the SDK arrived through Sipher');
    });
  });
}
