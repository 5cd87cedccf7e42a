/**
 * Gateway mode (SPEC PEER-4; seed 003 claims 16–18), in-process: a Sipher server, a TCP echo
 * server as the exposed service, `sipher expose` and `sipher forward` as their command
 * functions (devices with signalling SAs). 256 KB round-trip byte-exact through forward →
 * data-channel call → expose → echo; a caller not in --allow is refused (403, the local
 * connection is closed); an unknown service is 404; `forward --list` prints the table; bad
 * flags are configuration errors (exit 2).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/errors.js';
import { exposeCommand, forwardCommand, runExpose, runForward, type GatewayHandle, type GatewayIo } from '../../../src/cli/gateway-command.js';
import { main } from '../../../src/cli/main.js';
import { startSaServer, stopSaServer, waitFor, type SaTestServer } from '../../support/sa-server.js';

const D = 'example.test';
const pw = (u: string): string => `pw-${u}-gateway`;
const SIZE = 256 * 1024;

interface BufferIo extends GatewayIo {
  outText(): string;
  errText(): string;
}

function bufferIo(): BufferIo {
  let out = '';
  let err = '';
  return { out: (t) => { out += t; }, err: (t) => { err += t; }, outText: () => out, errText: () => err };
}

/** Writes `data`, half-closes, and collects everything that comes back until the end. */
function roundTrip(port: number, data: Buffer): Promise<{ back: Buffer; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const parts: Buffer[] = [];
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.on('data', (b: Buffer) => parts.push(b));
    s.once('error', reject);
    s.once('end', () => {
      resolve({ back: Buffer.concat(parts), closed });
      s.end();
    });
    s.once('connect', () => s.end(data));
  });
}

describe('gateway mode: sipher expose / sipher forward', () => {
  let env: SaTestServer;
  let echo: Server;
  let echoPort: number;
  let dir: string;
  const handles: GatewayHandle[] = [];
  let exposeIo: BufferIo;

  const device = (user: string): string[] => [
    '--aor', `sip:${user}@${D}`, '--password-file', join(dir, user), '--server', `127.0.0.1:${env.port}`, '--sa-key', env.server.saService!.fingerprint(),
  ];
  const deviceOpts = (user: string): { aor: string; password: string; server: { host: string; port: number }; saKey: string } => ({
    aor: `sip:${user}@${D}`, password: pw(user), server: { host: '127.0.0.1', port: env.port }, saKey: env.server.saService!.fingerprint(),
  });

  before(async () => {
    env = await startSaServer({ domain: D, users: ['gw', 'alice', 'mallory'], password: pw });
    dir = mkdtempSync(join(tmpdir(), 'sipher-gw-'));
    for (const u of ['gw', 'alice', 'mallory']) writeFileSync(join(dir, u), `${pw(u)}\n`);
    echo = createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => undefined);
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    echoPort = (echo.address() as { port: number }).port;
    exposeIo = bufferIo();
    handles.push(await runExpose({
      ...deviceOpts('gw'), services: new Map([['echo', { host: '127.0.0.1', port: echoPort }], ['ssh', { host: '127.0.0.1', port: 1 }]]), allow: [`sip:alice@${D}`],
    }, exposeIo));
    assert.equal(exposeIo.outText(), `exposing echo → 127.0.0.1:${echoPort}, ssh → 127.0.0.1:1 to 1 allowed caller\n`);
  });

  after(async () => {
    for (const h of handles.reverse()) await h.stop();
    await new Promise<void>((r) => echo.close(() => r()));
    await stopSaServer(env);
    rmSync(dir, { recursive: true, force: true });
  });

  it('256 KB round-trip byte-exact through forward → data channel → expose → echo; the server carries no data', async () => {
    const io = bufferIo();
    const fwd = await runForward({ ...deviceOpts('alice'), listen: { host: '127.0.0.1', port: 0 }, to: `sip:gw@${D}`, service: 'echo' }, io);
    handles.push(fwd);
    assert.equal(io.outText(), `forwarding 127.0.0.1:${fwd.port} → sip:gw@${D}/echo\n`);
    const received = (): number => {
      const t = env.server.stats().transport as { received: Record<string, number> };
      return Object.values(t.received).reduce((a, b) => a + b, 0);
    };
    const data = randomBytes(SIZE);
    const before = received();
    const { back, closed } = await roundTrip(fwd.port!, data);
    assert.equal(back.length, SIZE);
    assert.ok(back.equals(data), '256 KB echoed byte-exact');
    await closed;
    // Only signalling (INVITE/ACK/BYE and their answers: a handful of datagrams) reached the server.
    assert.ok(received() - before < 30, `server received ${received() - before} messages for one call`);
    assert.equal(io.errText(), '');
    // Both ends hung up: no call is left on either device.
    await waitFor(() => (fwd.client as unknown as { calls: { active: number } }).calls.active === 0 && (handles[0]!.client as unknown as { calls: { active: number } }).calls.active === 0, 8000);
    // A second connection works the same (one call per connection).
    const again = await roundTrip(fwd.port!, data.subarray(0, 1000));
    assert.ok(again.back.equals(data.subarray(0, 1000)));
  });

  it('a caller not in --allow is refused: 403, the local connection is closed', async () => {
    const io = bufferIo();
    const fwd = await runForward({ ...deviceOpts('mallory'), listen: { host: '127.0.0.1', port: 0 }, to: `sip:gw@${D}`, service: 'echo' }, io);
    handles.push(fwd);
    const s = connect({ host: '127.0.0.1', port: fwd.port! });
    s.on('error', () => undefined);
    let got = 0;
    s.on('data', (b: Buffer) => { got += b.length; });
    s.write('hello');
    await new Promise<void>((r) => s.once('close', () => r()));
    assert.equal(got, 0);
    assert.match(io.errText(), /sip:gw@example\.test\/echo refused: 403 Caller Not Allowed/);
    assert.match(exposeIo.errText(), /refused sip:mallory@example\.test for echo: not allowed \(403\)/);
    // Nor may it read the table.
    const listIo = bufferIo();
    assert.equal(await forwardCommand(['--list', '--to', `sip:gw@${D}`, ...device('mallory')], listIo), 1);
    assert.match(listIo.errText(), /403/);
  });

  it('an unknown service is refused 404', async () => {
    const io = bufferIo();
    const fwd = await runForward({ ...deviceOpts('alice'), listen: { host: '127.0.0.1', port: 0 }, to: `sip:gw@${D}`, service: 'nope' }, io);
    handles.push(fwd);
    const s = connect({ host: '127.0.0.1', port: fwd.port! });
    s.on('error', () => undefined);
    await new Promise<void>((r) => s.once('close', () => r()));
    assert.match(io.errText(), /refused: 404 Unknown Service/);
  });

  it('forward --list prints the gateway\'s service names, one per line', async () => {
    const io = bufferIo();
    assert.equal(await forwardCommand(['--list', '--to', `sip:gw@${D}`, ...device('alice')], io), 0);
    assert.equal(io.outText(), 'echo\nssh\n');
  });

  it('the command form prints its ready line and stops cleanly when signalled (exit 0)', async () => {
    const io = bufferIo();
    let signal!: () => void;
    const done = forwardCommand([...device('alice'), '--to', `sip:gw@${D}`, '--listen', '127.0.0.1:0', '--service', 'echo'], io, () => new Promise<void>((r) => { signal = r; }));
    await waitFor(() => io.outText().length > 0);
    assert.match(io.outText(), /^forwarding 127\.0\.0\.1:\d+ → sip:gw@example\.test\/echo\n$/);
    signal();
    assert.equal(await done, 0);
  });

  it('bad flags are configuration errors (exit 2 with one line)', async () => {
    const io = bufferIo();
    await assert.rejects(exposeCommand(['--aor', `sip:gw@${D}`], io), (e: unknown) => e instanceof ConfigError && /--service/.test(e.message));
    await assert.rejects(exposeCommand([...device('gw'), '--service', 'bad name=1.2.3.4:5', '--allow', `sip:alice@${D}`], io), ConfigError);
    await assert.rejects(exposeCommand([...device('gw'), '--service', 'x=1.2.3.4', '--allow', `sip:alice@${D}`], io), /HOST:PORT/);
    await assert.rejects(forwardCommand([...device('alice'), '--to', `sip:gw@${D}`, '--service', 'echo'], io), /--listen/);
    await assert.rejects(forwardCommand(['--aor', `sip:alice@${D}`, '--password-file', join(dir, 'missing'), '--server', '127.0.0.1:5060', '--to', `sip:gw@${D}`, '--listen', '127.0.0.1:0', '--service', 'echo'], io), /cannot read --password-file/);
    const stderr = process.stderr.write.bind(process.stderr);
    let line = '';
    process.stderr.write = ((t: string) => { line += t; return true; }) as typeof process.stderr.write;
    try {
      assert.equal(await main(['forward', '--bogus']), 2);
    } finally {
      process.stderr.write = stderr;
    }
    assert.equal(line, 'sipher: unknown option --bogus\n');
  });
});
