/**
 * The peer-to-peer data channel (SPEC PEER-3, PEER-1): a duplex byte stream over TLS 1.3
 * directly between two devices, set up by an `m=application … TCP/TLS` offer/answer
 * (`createDataChannelOffer` / `answerDataChannel` / `applyDataChannelAnswer` in `src/sdp`).
 * After the answer the devices talk directly; the server carries nothing.
 *
 * Roles (RFC 4145 §4.1): the offerer says `actpass` and the answerer picks; the `passive`
 * end listens ({@link DataChannelListener}, opened before its SDP is sent because the SDP
 * carries its port), the `active` end connects ({@link connectDataChannel}). Both ends
 * present a certificate (`requestCert`), TLS 1.3 only. Certificates are not checked by the
 * TLS stack (`rejectUnauthorized: false`: they are self-signed or from a domain CA the stack
 * does not know) but right after the handshake against the peer's `a=fingerprint`
 * (RFC 8122 §6) and, when a trust setting is given, against the domain roots and the
 * expected AOR. Neither end ever returns a stream the other has not verified: see the
 * verification confirmation in `peer-verification.ts`.
 *
 * Wire format after the TLS handshake: one octet from each end, `0x01` (verified) or a
 * refusal (`0x02` fingerprint mismatch, `0x03` untrusted certificate, `0x04` other) followed by
 * close; then the application's bytes, unframed, in both directions.
 * @module
 */
import { lookup } from 'node:dns/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, TLSSocket, type ConnectionOptions, type SecureContext } from 'node:tls';
import { toPem } from '../../crypto/x509/index.js';
import { InvalidArgumentError, TransportError } from '../../errors.js';
import type { AcceptedFingerprintHash, Fingerprint } from '../../sdp/index.js';
import { systemClock, type Clock } from '../../util/clock.js';
import type { Random } from '../../util/random.js';
import { DataChannelError } from './data-channel-error.js';
import { checkIdentity, createDataChannelIdentity, identityFingerprint, type DataChannelIdentity } from './data-channel-identity.js';
import {
  canonicalIp, checkTrust, establish, expectedFingerprints, isIpLiteral, type DataChannelTrust, type RemoteFingerprint, type VerifiedSocket,
} from './peer-verification.js';

export { DataChannelError, type DataChannelFailure } from './data-channel-error.js';
export { createDataChannelIdentity, identityFingerprint, type CreateDataChannelIdentityOptions, type DataChannelIdentity } from './data-channel-identity.js';
export type { DataChannelTrust, RemoteFingerprint } from './peer-verification.js';

/**
 * An established data channel: a `Duplex` — the TLS socket itself (`getProtocol()` is
 * `'TLSv1.3'`) — with the peer's verified certificate and, when trust was checked, its AOR.
 */
export type DataChannel = VerifiedSocket;

/** Parameters of one end of a data channel. */
export interface DataChannelParams {
  /** Ours, from the negotiation: `active` connects, `passive` listens (RFC 4145 §4.1). */
  role: 'active' | 'passive';
  /** Passive: listen here (port 0 or absent = any free port). Active: bind this address (if an IP literal) and port (if given). */
  local: { host: string; port?: number };
  /** Active: connect here (the passive end's SDP address and port). */
  remote: { host: string; port: number };
  /** The certificate we present; its fingerprint is the one in our SDP. */
  identity: DataChannelIdentity;
  /** The peer's `a=fingerprint` value(s) (e.g. `negotiation.peerFingerprints`). */
  remoteFingerprint: RemoteFingerprint | readonly RemoteFingerprint[];
  /** Optional: the peer's certificate must also chain to one of these roots and name this AOR. */
  trust?: DataChannelTrust;
  /** Bound on connect + handshake + verification (passive: from `accept()`), ms. Default 10 000. */
  timeoutMs?: number;
  /** Time source for the bound and for certificate validity. Default: the system clock. */
  clock?: Clock;
}

/** Options of {@link DataChannelListener.open}. */
export interface DataChannelListenerOptions extends Omit<DataChannelParams, 'role' | 'remote' | 'remoteFingerprint' | 'identity'> {
  /** The certificate to present; a self-signed ECDSA P-256 one is generated when absent (see {@link DataChannelListener.identity}). */
  identity?: DataChannelIdentity;
  /** Source of the serial number of a generated certificate. Default: the CSPRNG. */
  random?: Random;
}

/** Default bound on setting up a channel (ms). */
export const DEFAULT_DATA_CHANNEL_TIMEOUT_MS = 10_000;
/** Connections kept waiting (paused, before TLS) for `accept()` to say who the peer is. */
const MAX_PENDING = 8;

function checkTimeout(ms: number | undefined): number {
  const t = ms ?? DEFAULT_DATA_CHANNEL_TIMEOUT_MS;
  if (!Number.isFinite(t) || t <= 0) throw new InvalidArgumentError('timeoutMs must be a positive number');
  return t;
}

function checkHost(host: unknown, what: string): string {
  if (typeof host !== 'string' || host.trim().length === 0 || /[\s/]/.test(host.trim())) throw new InvalidArgumentError(`${what} must be an IP address or host name`);
  return host.trim().replace(/^\[(.*)\]$/, '$1');
}

function checkPortNumber(port: unknown, what: string, allowZero: boolean): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65_535) {
    throw new InvalidArgumentError(`${what} must be an integer ${allowZero ? 0 : 1}–65535`);
  }
  return port;
}

function secureContextOf(identity: DataChannelIdentity): SecureContext {
  return createSecureContext({
    cert: toPem(identity.certificate, 'CERTIFICATE'),
    key: identity.privateKey.export({ type: 'pkcs8', format: 'pem' }),
    // SPEC PEER-3: TLS 1.3 only (RFC 8446).
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
  });
}

/**
 * The active end (RFC 4145 §4.1: `a=setup:active` connects): connects to `remote`, presents
 * `identity`, verifies the peer and resolves with the stream once both ends have verified each
 * other. Rejects with {@link DataChannelError} (`connect`, `tls`, `timeout`,
 * `fingerprint-mismatch`, `untrusted-certificate`), or {@link InvalidArgumentError} for bad
 * parameters.
 */
export async function connectDataChannel(p: DataChannelParams): Promise<DataChannel> {
  if (p.role !== 'active') throw new InvalidArgumentError('connectDataChannel is the active role; the passive end uses DataChannelListener');
  const identity = checkIdentity(p.identity);
  const fingerprints = expectedFingerprints(p.remoteFingerprint);
  const trust = checkTrust(p.trust);
  const timeoutMs = checkTimeout(p.timeoutMs);
  const host = checkHost(p.remote?.host, 'remote.host');
  const port = checkPortNumber(p.remote?.port, 'remote.port', false);
  const localHost = checkHost(p.local?.host, 'local.host');
  const clock = p.clock ?? systemClock;
  // tls.connect passes localAddress/localPort on to net (Node docs: "any socket.connect() option"); @types/node omits them.
  const opts: ConnectionOptions & { localAddress?: string; localPort?: number } = {
    host,
    port,
    secureContext: secureContextOf(identity),
    // The certificate is checked against the SDP fingerprint (RFC 8122 §6), not by the stack.
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  };
  if (isIpLiteral(localHost)) opts.localAddress = localHost;
  if (p.local.port !== undefined && p.local.port !== 0) opts.localPort = checkPortNumber(p.local.port, 'local.port', false);
  const deadline = clock.now() + timeoutMs;
  let sock: TLSSocket;
  try {
    sock = tlsConnect(opts);
  } catch (e) {
    throw new DataChannelError('connect', `cannot connect to ${host}:${port}: ${(e as Error).message}`, { cause: e });
  }
  return establish(sock, 'secureConnect', { fingerprints, trust, clock, deadline });
}

/** Who may connect: the negotiated host's addresses, and the port when it means something. */
interface ExpectedPeer {
  hosts: Set<string>;
  port: number | undefined;
  text: string;
}

type ListenerState = 'listening' | 'accepting' | 'verifying' | 'done' | 'closed';

/**
 * The passive end (RFC 4145 §4.1: `a=setup:passive` listens). Open it before sending the SDP
 * that carries {@link port} and {@link fingerprint}; then {@link accept} with what the peer's
 * SDP says. It accepts exactly one connection from the expected address and stops listening;
 * connections from other addresses are refused (closed before TLS) and waiting goes on.
 * Connections that arrive before `accept()` — the active end may connect before our side
 * has the answer — wait, paused, until it is called.
 */
export class DataChannelListener {
  /** The address listened on. */
  readonly host: string;
  /** The port listened on: the one to put in our SDP. */
  readonly port: number;
  /** The certificate presented (generated when none was given): its fingerprint goes in our SDP. */
  readonly identity: DataChannelIdentity;

  readonly #server: Server;
  readonly #context: SecureContext;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #trust: DataChannelTrust | undefined;
  #state: ListenerState = 'listening';
  #acceptCalled = false;
  #pending: Socket[] = [];
  #refused = 0;
  #lastRefused: string | undefined;
  #expected: ExpectedPeer | undefined;
  #take: ((raw: Socket) => void) | undefined;
  #abort: ((err: DataChannelError) => void) | undefined;
  #inFlight: TLSSocket | undefined;

  private constructor(server: Server, host: string, port: number, identity: DataChannelIdentity, opts: { clock: Clock; timeoutMs: number; trust: DataChannelTrust | undefined }) {
    this.#server = server;
    this.host = host;
    this.port = port;
    this.identity = identity;
    this.#context = secureContextOf(identity);
    this.#clock = opts.clock;
    this.#timeoutMs = opts.timeoutMs;
    this.#trust = opts.trust;
    server.on('connection', (raw: Socket) => this.#onConnection(raw));
  }

  /**
   * Listens on `local.host`, `local.port` (0 or absent: any free port). Throws
   * {@link InvalidArgumentError} for bad options and {@link TransportError} when the address
   * cannot be listened on.
   */
  static async open(opts: DataChannelListenerOptions): Promise<DataChannelListener> {
    const host = checkHost(opts.local?.host, 'local.host');
    const port = checkPortNumber(opts.local.port ?? 0, 'local.port', true);
    const timeoutMs = checkTimeout(opts.timeoutMs);
    checkTrust(opts.trust);
    const clock = opts.clock ?? systemClock;
    const identity = opts.identity
      ? checkIdentity(opts.identity)
      : await createDataChannelIdentity(opts.random ? { clock, random: opts.random } : { clock });
    // Paused until accept(): no byte is read (not even a ClientHello) before we know the peer.
    const server = createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => reject(new TransportError(`cannot listen on ${host}:${port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, e));
      server.once('error', onError);
      server.listen({ host, port, exclusive: true }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', () => {}); // after listening, errors concern single connections
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    return new DataChannelListener(server, host, bound, identity, { clock, timeoutMs, trust: opts.trust });
  }

  /** The `a=fingerprint` of {@link identity} (RFC 8122 §5), SHA-256 by default. */
  fingerprint(hash: AcceptedFingerprintHash = 'sha-256'): Fingerprint {
    return identityFingerprint(this.identity, hash);
  }

  /** Connections refused so far because they came from an unexpected address (or one too many). */
  get refusedCount(): number {
    return this.#refused;
  }

  /**
   * Accepts the one connection from `remote.host` (and from `remote.sourcePort` when given;
   * `remote.port`, the peer's SDP port, is not its source port and is ignored, so
   * `{ host: negotiation.remote.address, port: negotiation.remote.port }` can be passed as
   * it is), verifies its
   * certificate against `remoteFingerprint` (and `trust`, default the listener's) and resolves
   * with the stream once both ends have verified each other. The listener stops listening as
   * soon as it picks a connection, whatever the outcome. Rejects with
   * {@link DataChannelError}: `timeout` (nobody came), `wrong-peer` (only unexpected addresses
   * came), `tls`, `fingerprint-mismatch`, `untrusted-certificate`, `closed`; or
   * {@link InvalidArgumentError} for bad parameters or a second call.
   */
  async accept(
    remote: { host: string; port?: number; sourcePort?: number },
    remoteFingerprint: RemoteFingerprint | readonly RemoteFingerprint[],
    trust?: DataChannelTrust,
  ): Promise<DataChannel> {
    if (this.#state === 'closed') throw new DataChannelError('closed', 'the data channel listener is closed');
    if (this.#acceptCalled) throw new InvalidArgumentError('accept() may be called once per listener');
    const fingerprints = expectedFingerprints(remoteFingerprint);
    const checkedTrust = checkTrust(trust ?? this.#trust);
    const host = checkHost(remote?.host, 'remote.host');
    // RFC 4145 §4: the SDP port of an active (9) or actpass (its own listening port) peer is
    // not the source port of its connection, so `remote.port` is not checked; a caller that
    // knows the source port (the peer bound it) pins it with `sourcePort`.
    const pinned = remote.sourcePort === undefined ? undefined : checkPortNumber(remote.sourcePort, 'remote.sourcePort', false);
    this.#acceptCalled = true;
    const deadline = this.#clock.now() + this.#timeoutMs;
    let hosts: string[];
    if (isIpLiteral(host)) hosts = [canonicalIp(host)];
    else {
      try {
        hosts = (await lookup(host, { all: true })).map((a) => canonicalIp(a.address));
      } catch (e) {
        this.#finish();
        throw new DataChannelError('connect', `cannot resolve the peer's address ${host}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
      }
    }
    if (this.#closed()) throw new DataChannelError('closed', 'the data channel listener was closed');
    this.#expected = { hosts: new Set(hosts), port: pinned, text: pinned === undefined ? host : `${host}:${pinned}` };

    return new Promise<DataChannel>((resolve, reject) => {
      const timer = this.#clock.setTimer(Math.max(0, deadline - this.#clock.now()), () => {
        if (this.#state !== 'accepting') return;
        this.#finish();
        reject(this.#refused > 0
          ? new DataChannelError('wrong-peer', `no connection from ${this.#expected!.text}; refused ${this.#refused} from other addresses (last ${this.#lastRefused})`)
          : new DataChannelError('timeout', `nobody connected from ${this.#expected!.text} in time`));
      });
      this.#abort = (err) => {
        timer.cancel();
        reject(err);
      };
      this.#take = (raw) => {
        timer.cancel();
        this.#state = 'verifying';
        this.#stopListening();
        const sock = new TLSSocket(raw, {
          isServer: true,
          secureContext: this.#context,
          // Both ends present certificates; they are checked against the SDP, not by the stack.
          requestCert: true,
          rejectUnauthorized: false,
        });
        this.#inFlight = sock;
        establish(sock, 'secure', { fingerprints, trust: checkedTrust, clock: this.#clock, deadline }).then(
          (s) => {
            this.#inFlight = undefined;
            if (this.#state === 'verifying') this.#state = 'done';
            resolve(s);
          },
          (e: unknown) => {
            this.#inFlight = undefined;
            if (this.#state === 'verifying') this.#state = 'done';
            reject(e);
          },
        );
      };
      this.#state = 'accepting';
      for (const raw of this.#pending.splice(0)) this.#consider(raw);
    });
  }

  /**
   * Stops listening and drops waiting connections; a pending {@link accept} rejects with
   * `closed` (a handshake in progress is aborted). A stream already returned is not touched.
   */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const abort = this.#state === 'accepting' || this.#state === 'verifying' ? this.#abort : undefined;
    this.#state = 'closed';
    this.#stopListening();
    if (abort) abort(new DataChannelError('closed', 'the data channel listener was closed while accepting'));
    this.#inFlight?.destroy();
    this.#inFlight = undefined;
  }

  /** Re-reads the state (after an await, where the compiler's narrowing no longer holds). */
  #closed(): boolean {
    return this.#state === 'closed';
  }

  #onConnection(raw: Socket): void {
    raw.on('error', () => {}); // a waiting or refused connection's errors concern nobody
    if (this.#state === 'listening' && this.#pending.length < MAX_PENDING) {
      this.#pending.push(raw);
      raw.once('close', () => {
        this.#pending = this.#pending.filter((s) => s !== raw);
      });
    } else if (this.#state === 'accepting') {
      this.#consider(raw);
    } else {
      this.#refuse(raw);
    }
  }

  #consider(raw: Socket): void {
    if (this.#state !== 'accepting' || raw.destroyed) {
      if (!raw.destroyed) this.#refuse(raw);
      return;
    }
    const e = this.#expected!;
    const ok = raw.remoteAddress !== undefined && e.hosts.has(canonicalIp(raw.remoteAddress)) && (e.port === undefined || raw.remotePort === e.port);
    if (ok) this.#take!(raw);
    else this.#refuse(raw);
  }

  #refuse(raw: Socket): void {
    this.#refused++;
    this.#lastRefused = `${raw.remoteAddress ?? '?'}:${raw.remotePort ?? '?'}`;
    raw.destroy();
  }

  #stopListening(): void {
    if (this.#server.listening) this.#server.close();
    for (const raw of this.#pending.splice(0)) raw.destroy();
  }

  #finish(): void {
    if (this.#state !== 'closed') this.#state = 'done';
    this.#stopListening();
  }
}
