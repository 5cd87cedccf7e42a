/**
 * Gateway mode (SPEC PEER-4; seed 003 claims 16–18): `sipher expose` and `sipher forward`,
 * each an SDK device (`SipherClient`) registered to a Sipher server.
 *
 * - `expose` answers data-channel calls (`media: 'data'`, SPEC PEER-3) that name one of its
 *   services in a `Sipher-Service: NAME` header, from a caller in its allow list (the `From`
 *   AOR, which the server checks against the caller's digest or SA identity; with `--sa-key`
 *   the INVITE must also have arrived over the device's SA), connects to the service's
 *   HOST:PORT and pipes both ways. Unknown service → 404, caller not allowed → 403. An
 *   out-of-dialog `MESSAGE` with body `list` from an allowed caller is answered with the service
 *   names, one per line (claim 18, the table of destinations).
 * - `forward` listens on a local TCP port; each connection places a data-channel call to the
 *   gateway device for the service and pipes the connection through `call.channel`; closing
 *   either side ends the call (BYE). `forward --list` prints the gateway's table.
 *
 * Exit codes: 0 stopped by SIGINT/SIGTERM (or `--list` answered), 1 a failure (registration,
 * `--list` refused), 2 bad flags.
 * @module
 */
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';
import type { IncomingCall } from '../client/calls/incoming-call.js';
import { CallError } from '../client/calls/call-error.js';
import type { IncomingRequest } from '../client/events.js';
import { SipherClient } from '../client/sipher-client.js';
import { ConfigError, SipherError } from '../errors.js';
import { parseUri } from '../sip/uri.js';
import { parseArgs } from './args.js';
import { splice } from './gateway/splice.js';

/** The header naming the service a gateway call is for. */
export const SERVICE_HEADER = 'Sipher-Service';
/** The body of the MESSAGE asking a gateway for its table of services. */
export const LIST_REQUEST = 'list';

/** Output sinks (stdout/stderr in production, buffers in tests). */
export interface GatewayIo {
  out(text: string): void;
  err(text: string): void;
}

/** How the device reaches its server (common to both commands). */
export interface DeviceOptions {
  aor: string;
  password: string;
  server: { host: string; port: number };
  /** The server's SA key fingerprint: the device then uses a signalling SA. */
  saKey?: string | undefined;
  /** Local address of the device's SIP socket and data channels. Default 127.0.0.1. */
  localHost?: string | undefined;
}

/** Options of {@link runExpose}. */
export interface ExposeOptions extends DeviceOptions {
  /** Service name → where it is. */
  services: ReadonlyMap<string, { host: string; port: number }>;
  /** Allowed caller AORs (`sip:user@domain`). */
  allow: readonly string[];
}

/** Options of {@link runForward}. */
export interface ForwardOptions extends DeviceOptions {
  listen: { host: string; port: number };
  /** The gateway device's AOR. */
  to: string;
  service: string;
}

/** A running gateway command. */
export interface GatewayHandle {
  /** The device. */
  readonly client: SipherClient;
  /** `forward`: the port actually listened on. */
  readonly port?: number;
  /** Hangs up every call, unregisters, closes. Idempotent. */
  stop(): Promise<void>;
}

const SERVICE_RE = /^[A-Za-z0-9._~-]{1,64}$/;

/** `sip:user@host` in lower case host, without parameters: the form allow lists compare. */
export function normalizeAor(uri: string): string {
  let u;
  try {
    u = parseUri(uri.trim().replace(/^<(.*)>$/, '$1'));
  } catch {
    throw new ConfigError(`not a SIP URI: ${uri}`);
  }
  if (u.kind !== 'sip' || u.user === undefined) throw new ConfigError(`not a sip:user@domain AOR: ${uri}`);
  return `sip:${u.user}@${u.host.toLowerCase()}`;
}

function hostPort(s: string, what: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65_535) throw new ConfigError(`${what} must be HOST:PORT, got "${s}"`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

function makeClient(o: DeviceOptions): SipherClient {
  return new SipherClient({
    aor: o.aor, password: o.password, server: { host: o.server.host, port: o.server.port, transport: 'udp' },
    local: { host: o.localHost ?? '127.0.0.1', port: 0 }, ...(o.saKey ? { sa: { serverKey: o.saKey } } : {}),
  });
}

async function startDevice(o: DeviceOptions): Promise<SipherClient> {
  const client = makeClient(o);
  try {
    await client.start();
    await client.register();
  } catch (e) {
    await client.close().catch(() => undefined);
    throw e;
  }
  return client;
}

/**
 * Who sent `req`: its `From` AOR — the server checked it against the sender's identity —
 * provided, when this device has an SA, the request arrived over it. `undefined` otherwise.
 */
function verifiedCaller(req: IncomingRequest['request'], protectedIn: boolean, needSa: boolean): string | undefined {
  if (needSa && !protectedIn) return undefined;
  try {
    return normalizeAor(formatFrom(req));
  } catch {
    return undefined;
  }
}

function formatFrom(req: IncomingRequest['request']): string {
  const u = req.from().uri;
  return u.kind === 'sip' ? `sip:${u.user ?? ''}@${u.host}` : '';
}

/**
 * Starts `expose`: registers, then answers gateway calls and `list` requests until
 * {@link GatewayHandle.stop}. Prints `exposing NAME → HOST:PORT to N allowed callers`.
 */
export async function runExpose(o: ExposeOptions, io: GatewayIo): Promise<GatewayHandle> {
  const allow = new Set(o.allow.map(normalizeAor));
  const client = await startDevice(o);
  const needSa = o.saKey !== undefined;
  const sockets = new Set<Socket>();

  const onCall = (call: IncomingCall): void => {
    const caller = verifiedCaller(call.request, call.inbound.protection !== undefined, needSa);
    const service = call.request.get(SERVICE_HEADER.toLowerCase())?.trim() ?? '';
    if (call.mediaKind !== 'data') {
      call.reject(488, 'Gateway Takes Data Calls Only');
      return;
    }
    const target = o.services.get(service);
    if (!target) {
      io.err(`expose: refused ${caller ?? 'unverified caller'}: unknown service "${service.slice(0, 64)}" (404)\n`);
      call.reject(404, 'Unknown Service');
      return;
    }
    if (!caller || !allow.has(caller)) {
      io.err(`expose: refused ${caller ?? 'unverified caller'} for ${service}: not allowed (403)\n`);
      call.reject(403, 'Caller Not Allowed');
      return;
    }
    const svc = tcpConnect({ host: target.host, port: target.port, allowHalfOpen: true });
    sockets.add(svc);
    svc.once('close', () => sockets.delete(svc));
    const failed = (e: Error): void => {
      io.err(`expose: ${service} → ${target.host}:${target.port} unreachable: ${(e as NodeJS.ErrnoException).code ?? e.message} (503)\n`);
      call.reject(503, 'Service Unavailable');
    };
    svc.once('error', failed);
    svc.once('connect', () => {
      svc.off('error', failed);
      svc.pause();
      call.accept({ media: 'data' }).then(
        async () => {
          const channel = await call.channel;
          channel.allowHalfOpen = true;
          call.once('ended', () => svc.end());
          splice(channel, svc, () => void call.hangup());
          svc.resume();
        },
      ).catch((e: unknown) => {
        io.err(`expose: call from ${caller} for ${service} failed: ${(e as Error).message}\n`);
        svc.destroy();
      });
    });
  };

  const onRequest = (r: IncomingRequest): void => {
    if (r.request.method !== 'MESSAGE') {
      r.respond(405, { headers: [['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE']] });
      return;
    }
    const caller = verifiedCaller(r.request, r.inbound.protection !== undefined, needSa);
    if (!caller || !allow.has(caller)) {
      r.respond(403, { reason: 'Caller Not Allowed' });
      return;
    }
    if (Buffer.from(r.request.body).toString('utf8').trim() !== LIST_REQUEST) {
      r.respond(400, { reason: 'Unknown Gateway Request' });
      return;
    }
    const table = [...o.services.keys()].map((n) => `${n}\n`).join('');
    r.respond(200, { body: Buffer.from(table), contentType: 'text/plain' });
  };

  client.on('call', onCall);
  client.on('request', onRequest);
  client.on('error', (e) => io.err(`expose: ${e.message}\n`));
  const list = [...o.services].map(([n, t]) => `${n} → ${t.host}:${t.port}`).join(', ');
  io.out(`exposing ${list} to ${allow.size} allowed caller${allow.size === 1 ? '' : 's'}\n`);
  let stopped: Promise<void> | undefined;
  return {
    client,
    stop: () => (stopped ??= (async () => {
      client.off('call', onCall);
      await client.close();
      for (const s of sockets) s.destroy();
    })()),
  };
}

/**
 * Starts `forward`: registers, listens on `listen`, and for each connection calls `to` for
 * `service` and pipes through the data channel. Prints `forwarding HOST:PORT → TO/SERVICE`.
 */
export async function runForward(o: ForwardOptions, io: GatewayIo): Promise<GatewayHandle> {
  if (!SERVICE_RE.test(o.service)) throw new ConfigError(`invalid service name "${o.service}"`);
  const to = normalizeAor(o.to);
  const client = await startDevice(o);
  const conns = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (sock) => {
    conns.add(sock);
    sock.once('close', () => conns.delete(sock));
    sock.on('error', () => undefined);
    const pending = client.call(to, { media: 'data', headers: [[SERVICE_HEADER, o.service]] });
    const early = (): void => pending.call.cancel();
    sock.once('close', early);
    pending.then(
      async (call) => {
        const channel = await call.channel;
        sock.off('close', early);
        if (sock.destroyed) {
          void call.hangup();
          return;
        }
        channel.allowHalfOpen = true;
        call.once('ended', () => sock.end());
        splice(sock, channel, () => void call.hangup());
        sock.resume();
      },
    ).catch((e: unknown) => {
      const what = e instanceof CallError ? `${e.status} ${e.reason}` : (e as Error).message;
      io.err(`forward: ${to}/${o.service} refused: ${what}\n`);
      sock.destroy();
      void pending.call.hangup().catch(() => undefined);
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: o.listen.host, port: o.listen.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await client.close();
    throw new ConfigError(`cannot listen on ${o.listen.host}:${o.listen.port}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.listen.port;
  io.out(`forwarding ${o.listen.host}:${port} → ${to}/${o.service}\n`);
  let stopped: Promise<void> | undefined;
  return {
    client,
    port,
    stop: () => (stopped ??= (async () => {
      server.close();
      for (const s of conns) s.destroy();
      await client.close();
    })()),
  };
}

/** Asks the gateway `to` for its table (a `MESSAGE` with body `list`); resolves with the names. */
export async function listServices(o: DeviceOptions & { to: string }): Promise<string[]> {
  const to = normalizeAor(o.to);
  const client = await startDevice(o);
  try {
    const r = await client.request('MESSAGE', to, { body: Buffer.from(LIST_REQUEST), contentType: 'text/plain' });
    if (r.status !== 200) throw new CallError(r.status, r.reason, { response: r, message: `the gateway answered ${r.status} ${r.reason}` });
    return Buffer.from(r.body).toString('utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  } finally {
    await client.close();
  }
}

// ---- command line ------------------------------------------------------------------------

const DEVICE_FLAGS = ['aor', 'password-file', 'server', 'sa-key', 'local'] as const;

function deviceOptions(values: Map<string, string>, cmd: string): DeviceOptions {
  const need = (k: string): string => {
    const v = values.get(k);
    if (v === undefined || v.trim() === '') throw new ConfigError(`sipher ${cmd}: --${k} is required`);
    return v;
  };
  const aor = normalizeAor(need('aor'));
  const file = need('password-file');
  let password: string;
  try {
    password = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new ConfigError(`cannot read --password-file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (password.length === 0 || /[\r\n\0]/.test(password)) throw new ConfigError('--password-file must hold one line, the password');
  return { aor, password, server: hostPort(need('server'), '--server'), saKey: values.get('sa-key'), localHost: values.get('local') };
}

/** Resolves on SIGINT or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** `sipher expose …`: runs until SIGINT/SIGTERM. */
export async function exposeCommand(argv: readonly string[], io: GatewayIo, until: () => Promise<void> = untilSignal): Promise<number> {
  const a = parseArgs(argv, { values: [...DEVICE_FLAGS], repeatable: ['service', 'allow'] });
  if (a.positionals.length > 0) throw new ConfigError(`unexpected argument "${a.positionals[0]}"`);
  const services = new Map<string, { host: string; port: number }>();
  for (const s of a.lists.get('service') ?? []) {
    const eq = s.indexOf('=');
    const name = eq > 0 ? s.slice(0, eq) : '';
    if (!SERVICE_RE.test(name)) throw new ConfigError(`--service must be NAME=HOST:PORT with NAME of letters, digits, ._~-; got "${s}"`);
    if (services.has(name)) throw new ConfigError(`--service ${name} given twice`);
    services.set(name, hostPort(s.slice(eq + 1), `--service ${name}`));
  }
  if (services.size === 0) throw new ConfigError('sipher expose: at least one --service NAME=HOST:PORT is required');
  const allow = (a.lists.get('allow') ?? []).map(normalizeAor);
  if (allow.length === 0) throw new ConfigError('sipher expose: at least one --allow sip:user@domain is required');
  const dev = deviceOptions(a.values, 'expose');
  const h = await runExpose({ ...dev, services, allow }, io);
  await until();
  await h.stop();
  return 0;
}

/** `sipher forward …` (or `sipher forward --list …`): runs until SIGINT/SIGTERM. */
export async function forwardCommand(argv: readonly string[], io: GatewayIo, until: () => Promise<void> = untilSignal): Promise<number> {
  const a = parseArgs(argv, { values: [...DEVICE_FLAGS, 'listen', 'to', 'service'], booleans: ['list'] });
  if (a.positionals.length > 0) throw new ConfigError(`unexpected argument "${a.positionals[0]}"`);
  const to = a.values.get('to');
  if (!to) throw new ConfigError('sipher forward: --to sip:gateway@domain is required');
  normalizeAor(to);
  if (a.booleans.has('list')) {
    if (a.values.has('listen') || a.values.has('service')) throw new ConfigError('sipher forward --list takes no --listen or --service');
    const dev = deviceOptions(a.values, 'forward');
    try {
      const names = await listServices({ ...dev, to });
      io.out(names.map((n) => `${n}\n`).join(''));
      return 0;
    } catch (e) {
      if (e instanceof SipherError && !(e instanceof ConfigError)) {
        io.err(`sipher: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  }
  const listen = a.values.get('listen');
  if (!listen) throw new ConfigError('sipher forward: --listen HOST:PORT is required');
  const service = a.values.get('service');
  if (!service) throw new ConfigError('sipher forward: --service NAME is required');
  if (!SERVICE_RE.test(service)) throw new ConfigError(`invalid service name "${service}"`);
  const dev = deviceOptions(a.values, 'forward');
  const h = await runForward({ ...dev, listen: hostPort(listen, '--listen'), to, service }, io);
  await until();
  await h.stop();
  return 0;
}
