/**
 * The skeleton shared by the offers and answers Sipher generates: `v=0`, `o=`, `s=`, a
 * session-level `c=` and `t=0 0` (RFC 8866 §5; RFC 3264 §5: an offer/answer session is
 * unbounded in time). Randomness is injected (ARCHITECTURE.md rule 3).
 * @module
 */
import { isIPv4, isIPv6 } from 'node:net';
import { InvalidArgumentError } from '../errors.js';
import { isNonWsString } from './grammar.js';
import type { SessionDescription } from './model.js';

/** A source of random bytes: `n` bytes each call (e.g. `(n) => random.bytes(n)`). */
export type RandomBytes = (n: number) => Buffer;

/** Options for the `o=`, `s=` and `c=` lines of a generated description. */
export interface SessionOptions {
  /** Our media address, written in `o=` and `c=`: IPv4, IPv6 or a host name. */
  address: string;
  /** `o=` username; default `-`. */
  username?: string;
  /** `o=` sess-id (digits); default drawn from the random source (RFC 8866 §5.2). */
  sessionId?: string;
  /** `o=` sess-version (digits); default `1`. Increment it for every new offer of the session (RFC 3264 §8). */
  sessionVersion?: string;
  /** `s=`; default `-` (RFC 8866 §5.3). */
  sessionName?: string;
}

const HOST_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** `IP4` or `IP6` for an address; a host name is `IP4` (RFC 8866 §5.7). */
export function addressType(address: string): 'IP4' | 'IP6' {
  if (isIPv6(address)) return 'IP6';
  if (isIPv4(address) || (HOST_RE.test(address) && !/^[0-9.]+$/.test(address))) return 'IP4';
  throw new InvalidArgumentError(`not an IP address or host name: ${JSON.stringify(address)}`);
}

/** Draws `n` bytes and checks the source returned exactly that. */
export function drawBytes(random: RandomBytes, n: number): Buffer {
  if (typeof random !== 'function') throw new InvalidArgumentError('random must be a function (n) => Buffer');
  const b = random(n);
  if (!Buffer.isBuffer(b) || b.length !== n) throw new InvalidArgumentError(`random source returned ${Buffer.isBuffer(b) ? b.length : 'no'} bytes, ${n} wanted`);
  return b;
}

/** Checks a transport port (1–65535, or 0 when `allowZero`). */
export function checkPort(port: number, what = 'port', allowZero = false): void {
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65_535) throw new InvalidArgumentError(`${what} must be an integer 1–65535`);
}

function digits(s: string | undefined, what: string): string | undefined {
  if (s !== undefined && !/^[0-9]{1,20}$/.test(s)) throw new InvalidArgumentError(`${what} must be 1–20 digits`);
  return s;
}

/** A new description with `v=`, `o=`, `s=`, session `c=` and `t=0 0`, and no media. */
export function newSession(opts: SessionOptions, random: RandomBytes): SessionDescription {
  const addrType = addressType(opts.address);
  const username = opts.username ?? '-';
  if (username.length > 64 || !isNonWsString(username)) throw new InvalidArgumentError('o= username must be visible characters without spaces');
  const sessionName = opts.sessionName ?? '-';
  if (/[\r\n\0]/.test(sessionName)) throw new InvalidArgumentError('s= must not contain CR, LF or NUL');
  // 48 random bits keep the id a safe integer and unique enough per user (RFC 8866 §5.2).
  const sessionId = digits(opts.sessionId, 'sessionId') ?? String(drawBytes(random, 6).readUIntBE(0, 6));
  const sessionVersion = digits(opts.sessionVersion, 'sessionVersion') ?? '1';
  return {
    version: 0,
    origin: { username, sessionId, sessionVersion, netType: 'IN', addrType, address: opts.address },
    sessionName,
    emails: [],
    phones: [],
    connection: { netType: 'IN', addrType, address: opts.address },
    bandwidths: [],
    times: [{ start: '0', stop: '0', repeats: [] }],
    attributes: [],
    media: [],
  };
}
