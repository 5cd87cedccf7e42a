/**
 * The options of {@link SipherClient}: their documented defaults, and the one validation step
 * that turns them into a frozen {@link ResolvedClientOptions} at construction (style G10).
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import type { DeviceIdentityOptions } from './identity/device-identity-options.js';
import type { DeviceSaOptions } from './sa/device-sa-options.js';
import type { SipResponse } from '../sip/message.js';
import { parseUri } from '../sip/uri.js';
import type { TimerConfig } from '../transaction/types.js';
import { systemClock, type Clock } from '../util/clock.js';
import { nullLogger, type Logger } from '../util/logger.js';
import { createCryptoRandom, type Random } from '../util/random.js';

/** The transports the client speaks to its server. */
export type ClientTransport = 'udp' | 'tcp' | 'tls';

/** What a {@link RegistrationExtension} sees of one REGISTER. */
export interface RegistrationContext {
  callId: string;
  /** CSeq number of this REGISTER (RFC 3261 §10.2.4: +1 for every REGISTER of the same Call-ID). */
  cseq: number;
  /** Requested expiry in seconds (0 for an unregistration). */
  expires: number;
  /** The address of record, `sip:user@domain`. */
  aor: string;
  /** The Contact header value sent. */
  contact: string;
  attempt: 'initial' | 'refresh' | 'unregister';
  /** Inside an SA handshake: the handshake hash a certificate proof binds (docs/protocol.md §3.1). */
  channelBinding?: Buffer | undefined;
}

/**
 * A hook of the certificate/enrolment layer, called around every REGISTER.
 * @experimental
 */
export interface RegistrationExtension {
  /**
   * Called before every REGISTER (the initial one, each retry after a 401/407, each refresh and
   * the unregistration) to add a body; undefined sends none.
   */
  prepare(ctx: RegistrationContext): Promise<{ contentType: string; body: Uint8Array } | undefined>;
  /** Called with every 2xx to a REGISTER; may throw a SipherError, which fails the registration (event `registration-failed`). */
  accept(response: SipResponse, ctx: RegistrationContext): Promise<void>;
}

/** TLS options of the client (used when `server.transport` is `tls`). */
export interface ClientTlsOptions {
  /** CA certificates (PEM) the server is verified against. Default: Node's bundled roots. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate (PEM) presented when the server asks for one; with `key`, the client also listens on TLS. */
  cert?: string | Buffer;
  /** Private key (PEM) of `cert`. */
  key?: string | Buffer;
  /** Refuse a server whose certificate does not verify. Default true. */
  rejectUnauthorized?: boolean;
  /** Name the server certificate must match and SNI (RFC 5922 §7.2). Default `server.host`. */
  serverName?: string;
}

/** Options of {@link SipherClient}. */
export interface SipherClientOptions {
  /** The address of record, e.g. `sip:alice@example.com`. */
  aor: string;
  /** Digest username. Default: the user part of {@link aor}. */
  username?: string;
  /** Digest password. Never logged. Without it, challenges are not answered (the request fails with the 401/407). */
  password?: string;
  /** The outbound proxy and registrar. `host` is an IP literal or a name resolved once at {@link SipherClient.start}. Transport default `udp`. */
  server: { host: string; port: number; transport?: ClientTransport };
  /** Local bind address. Default `127.0.0.1`, port 0 (ephemeral). */
  local?: { host?: string; port?: number };
  tls?: ClientTlsOptions;
  /** Requested registration expiry, seconds (RFC 3261 §10.2.1.1). Default 3600. */
  expires?: number;
  /**
   * How long before expiry a registration is refreshed. A value in (0, 1) is a fraction of the
   * granted expiry, a value ≥ 1 is seconds. The refresh is sent after
   * `max(granted / 2, granted − margin)` seconds (see `refreshDelayMs`). Default 60 s.
   */
  refreshMargin?: number;
  /** RFC 5626 `+sip.instance`, e.g. `urn:uuid:…`. Default: a version-4 UUID URN from {@link random}. */
  instanceId?: string;
  /** Sent as `User-Agent`. Default `Sipher-SDK/0.1`. */
  userAgent?: string;
  /** Time source of refresh, retry and transaction timers. Default the system clock. */
  clock?: Clock;
  /** Source of tags, Call-IDs, branches, cnonces and jitter. Default the CSPRNG. */
  random?: Random;
  /** Default: discards everything. */
  logger?: Logger;
  /** Transaction timer overrides in ms (T1, T2, T4, RFC 3261 §17.1.1.1). */
  timers?: Partial<TimerConfig>;
  /** Bound on the best-effort unregistration in {@link SipherClient.close}, ms. Default 2000. */
  closeTimeoutMs?: number;
  /** Resolves `server.host` when it is not an IP literal. Default `dns.lookup`. */
  resolve?: (host: string) => Promise<string>;
  /** Hook of the certificate/enrolment layer (see {@link RegistrationExtension}). */
  registrationExtension?: RegistrationExtension;
  /** Certificates with registration, queries and key publication (docs/protocol.md §2). */
  identity?: DeviceIdentityOptions;
  /**
   * Signalling SA with the server (SPEC SA-*): handshake in the REGISTER exchange, then every
   * message protected under the encryption information the server sets. Absent: plain SIP.
   */
  sa?: DeviceSaOptions;
}

/** {@link SipherClientOptions} with defaults applied and checked. */
export interface ResolvedClientOptions {
  readonly aor: string;
  readonly user: string;
  readonly domain: string;
  readonly username: string;
  readonly password: string | undefined;
  readonly server: { readonly host: string; readonly port: number; readonly transport: ClientTransport };
  readonly local: { readonly host: string; readonly port: number };
  readonly tls: ClientTlsOptions | undefined;
  readonly expires: number;
  readonly refreshMargin: number;
  readonly instanceId: string | undefined;
  readonly userAgent: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly timers: Partial<TimerConfig> | undefined;
  readonly closeTimeoutMs: number;
  readonly resolve: ((host: string) => Promise<string>) | undefined;
  readonly registrationExtension: RegistrationExtension | undefined;
}

const TRANSPORTS: readonly ClientTransport[] = ['udp', 'tcp', 'tls'];

function port(v: unknown, what: string, allowZero: boolean): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1) || v > 65535) {
    throw new InvalidArgumentError(`${what} must be an integer port`);
  }
  return v;
}

/**
 * Applies defaults and validates once.
 * @throws InvalidArgumentError naming the first bad field (never echoing the password).
 */
export function resolveClientOptions(o: SipherClientOptions): ResolvedClientOptions {
  if (!o || typeof o !== 'object') throw new InvalidArgumentError('options are required');
  if (typeof o.aor !== 'string') throw new InvalidArgumentError('aor must be a string');
  let uri;
  try {
    uri = parseUri(o.aor);
  } catch {
    throw new InvalidArgumentError(`aor is not a SIP URI: ${o.aor}`);
  }
  if (uri.kind !== 'sip' || uri.user === undefined) throw new InvalidArgumentError('aor must be a sip: URI with a user part');
  if (!o.server || typeof o.server.host !== 'string' || o.server.host.length === 0) throw new InvalidArgumentError('server.host is required');
  const transport = o.server.transport ?? 'udp';
  if (!TRANSPORTS.includes(transport)) throw new InvalidArgumentError(`server.transport must be one of ${TRANSPORTS.join(', ')}`);
  const expires = o.expires ?? 3600;
  if (!Number.isInteger(expires) || expires < 1 || expires > 0xffffffff) throw new InvalidArgumentError('expires must be a positive integer (seconds)');
  const refreshMargin = o.refreshMargin ?? 60;
  if (!Number.isFinite(refreshMargin) || refreshMargin <= 0) throw new InvalidArgumentError('refreshMargin must be > 0');
  const closeTimeoutMs = o.closeTimeoutMs ?? 2000;
  if (!Number.isFinite(closeTimeoutMs) || closeTimeoutMs < 0) throw new InvalidArgumentError('closeTimeoutMs must be >= 0');
  if (o.password !== undefined && typeof o.password !== 'string') throw new InvalidArgumentError('password must be a string');
  const username = o.username ?? decodeURIComponent(uri.user);
  if (/[\r\n\0]/.test(username)) throw new InvalidArgumentError('username contains CR, LF or NUL');
  const userAgent = o.userAgent ?? 'Sipher-SDK/0.1';
  if (/[\r\n\0]/.test(userAgent)) throw new InvalidArgumentError('userAgent contains CR, LF or NUL');
  if (o.instanceId !== undefined && !/^[A-Za-z][A-Za-z0-9+.-]*:[^\s"<>]+$/.test(o.instanceId)) {
    throw new InvalidArgumentError('instanceId must be a URN such as urn:uuid:…');
  }
  const ext = o.registrationExtension;
  if (ext !== undefined && (typeof ext.prepare !== 'function' || typeof ext.accept !== 'function')) {
    throw new InvalidArgumentError('registrationExtension needs prepare() and accept()');
  }
  return Object.freeze({
    aor: `sip:${uri.user}@${uri.host}`,
    user: uri.user,
    domain: uri.host,
    username,
    password: o.password,
    server: Object.freeze({ host: o.server.host.replace(/^\[(.*)\]$/, '$1'), port: port(o.server.port, 'server.port', false), transport }),
    local: Object.freeze({ host: o.local?.host ?? '127.0.0.1', port: port(o.local?.port ?? 0, 'local.port', true) }),
    tls: o.tls,
    expires,
    refreshMargin,
    instanceId: o.instanceId,
    userAgent,
    clock: o.clock ?? systemClock,
    random: o.random ?? createCryptoRandom(),
    logger: o.logger ?? nullLogger,
    timers: o.timers,
    closeTimeoutMs,
    resolve: o.resolve,
    registrationExtension: ext,
  });
}
