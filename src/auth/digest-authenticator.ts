/**
 * Digest authentication as the registrar and proxy use it: building the challenges of a
 * `401`/`407` and verifying the `Authorization`/`Proxy-Authorization` that answers them
 * (RFC 3261 §22, RFC 7616, RFC 8760).
 * @module
 */
import { SipParseError } from '../errors.js';
import { formatChallenge, parseAuthValue } from './auth-params.js';
import {
  computeHa1,
  digestHexLength,
  parseAlgorithm,
  verifyCredentials,
  type DigestAlgorithm,
} from './digest.js';
import type { NonceManager } from './nonce-manager.js';

/** The stored secrets of one user in one realm: HA1 per hash function, lower-case hex. */
export interface DigestHa1Record {
  /** MD5(username:realm:password). */
  ha1Md5: string;
  /** SHA-256(username:realm:password). */
  ha1Sha256: string;
}

/** Looks a user up by exact username and realm; undefined if there is no such user. */
export type DigestUserLookup = (username: string, realm: string) => Promise<DigestHa1Record | undefined>;

/** The algorithms a {@link DigestAuthenticator} may offer (RFC 8760 §2.4). */
export type OfferedDigestAlgorithm = 'SHA-256' | 'MD5';

/** Options of {@link DigestAuthenticator}. */
export interface DigestAuthenticatorOptions {
  /** The realm challenged with, normally the served domain (RFC 3261 §22.1). */
  realm: string;
  /** Algorithms to offer and accept. Default `['SHA-256', 'MD5']`; challenges list SHA-256 first. */
  algorithms?: readonly OfferedDigestAlgorithm[];
  nonces: NonceManager;
  lookup: DigestUserLookup;
}

/** Why {@link DigestAuthenticator.verify} refused credentials. */
export type DigestFailureReason =
  | 'missing'
  | 'malformed'
  | 'unknown-user'
  | 'bad-response'
  | 'stale'
  | 'replay'
  | 'wrong-realm'
  | 'unsupported-algorithm'
  | 'invalid-nonce';

/** Result of {@link DigestAuthenticator.verify}. */
export type DigestVerifyResult = { ok: true; username: string } | { ok: false; reason: DigestFailureReason };

const PREFERENCE: readonly OfferedDigestAlgorithm[] = ['SHA-256', 'MD5'];
const NC_RE = /^[0-9A-Fa-f]{8}$/;

function isDigest(scheme: string): boolean {
  return scheme.toLowerCase() === 'digest';
}

/**
 * Picks, from the values of all `Authorization` (or `Proxy-Authorization`) headers of a
 * request, the Digest credentials for `realm` (RFC 3261 §22.3: a request may carry
 * credentials for several realms; each server uses only its own). Unparseable values are
 * skipped. Returns the first match, or undefined.
 */
export function pickCredentials(values: readonly string[], realm: string): string | undefined {
  for (const v of values) {
    try {
      const parsed = parseAuthValue(v);
      if (isDigest(parsed.scheme) && parsed.params.get('realm') === realm) return v;
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
    }
  }
  return undefined;
}

/**
 * Challenges and verifies SIP Digest credentials. Pure apart from the injected `lookup`;
 * time and randomness come through the {@link NonceManager}.
 *
 * The caller maps results to responses: `ok` → proceed; `stale` → `401`/`407` with
 * `challenge(true)`; `missing`, `invalid-nonce`, `unknown-user`, `bad-response`, `replay`,
 * `wrong-realm`, `unsupported-algorithm` → `401`/`407` with `challenge()` (or `403` by
 * policy); `malformed` → `400`. `unknown-user` and `bad-response` must be answered alike so
 * the response does not reveal which usernames exist.
 */
export class DigestAuthenticator {
  /** The realm challenged with. */
  readonly realm: string;
  /** Offered algorithms, in the configured preference order (default SHA-256 first). */
  readonly algorithms: readonly OfferedDigestAlgorithm[];
  private readonly nonces: NonceManager;
  private readonly lookup: DigestUserLookup;
  /** HA1 values used for unknown users so their cost matches a known user's. */
  private readonly dummy: DigestHa1Record;

  /** @throws RangeError if `algorithms` is empty. */
  constructor(opts: DigestAuthenticatorOptions) {
    this.realm = opts.realm;
    // RFC 8760 §2.4: challenges are listed in the server's order of preference — SHA-256
    // before MD5 by default. An operator whose devices only read the first challenge (e.g.
    // SIPp 3.6, some old phones) may put MD5 first.
    const wanted = opts.algorithms ?? PREFERENCE;
    this.algorithms = wanted.filter((a, i) => PREFERENCE.includes(a) && wanted.indexOf(a) === i);
    if (this.algorithms.length === 0) throw new RangeError('at least one digest algorithm is required');
    this.nonces = opts.nonces;
    this.lookup = opts.lookup;
    this.dummy = {
      ha1Md5: computeHa1('MD5', 'sipher-dummy', opts.realm, 'sipher-dummy'),
      ha1Sha256: computeHa1('SHA-256', 'sipher-dummy', opts.realm, 'sipher-dummy'),
    };
  }

  /**
   * The `WWW-Authenticate` / `Proxy-Authenticate` values for a `401` / `407`: one per
   * algorithm, SHA-256 first (RFC 8760 §2.4), sharing one fresh nonce, each with `qop="auth"`
   * (RFC 3261 §22.4) and `stale=true` when `stale`.
   * @param stale Default false; true when the credentials were right but the nonce stale (RFC 7616 §3.3).
   * @param realm Default {@link realm}.
   */
  challenge(stale = false, realm: string = this.realm): string[] {
    const nonce = this.nonces.issue();
    return this.algorithms.map((algorithm) => formatChallenge({ realm, nonce, algorithm, qop: ['auth'], stale }));
  }

  /**
   * Verifies one `Authorization` / `Proxy-Authorization` value (pick it with
   * {@link pickCredentials}) for a request with `method`, against `realm`.
   *
   * RFC 3261 §22.4: the `uri` parameter is hashed as given; only the response is compared.
   * The username is compared exactly (by `lookup`). Nonce counts are recorded only after the
   * response verified, so forged requests cannot burn a client's counts.
   */
  async verify(authorizationValue: string | undefined, method: string, realm: string): Promise<DigestVerifyResult> {
    if (authorizationValue === undefined || authorizationValue.trim() === '') return fail('missing');
    let params: Map<string, string>;
    try {
      const parsed = parseAuthValue(authorizationValue);
      if (!isDigest(parsed.scheme)) return fail('malformed');
      params = parsed.params;
    } catch (e) {
      if (e instanceof SipParseError) return fail('malformed');
      throw e;
    }

    const username = params.get('username');
    const credRealm = params.get('realm');
    const nonce = params.get('nonce');
    const uri = params.get('uri');
    const response = params.get('response');
    if (username === undefined || credRealm === undefined || nonce === undefined || uri === undefined || response === undefined) {
      return fail('malformed');
    }
    // RFC 7616 §3.4.4: userhash is not offered, so a hashed username cannot be looked up.
    if (params.get('userhash')?.toLowerCase() === 'true') return fail('malformed');
    if (credRealm !== realm) return fail('wrong-realm');

    const alg = parseAlgorithm(params.get('algorithm'));
    if (alg === undefined || !(this.algorithms as readonly DigestAlgorithm[]).includes(alg)) {
      return fail('unsupported-algorithm');
    }
    if (response.length !== digestHexLength(alg)) return fail('malformed');

    // RFC 3261 §22.4 / RFC 7616 §3.4: qop=auth carries nc and cnonce. Deliberate deviation:
    // the RFC 2069 form without qop is still accepted for old devices, one request per nonce.
    const qop = params.get('qop');
    let nc: number | undefined;
    const ncText = params.get('nc');
    const cnonce = params.get('cnonce');
    if (qop === undefined) {
      if (ncText !== undefined || cnonce !== undefined) return fail('malformed');
    } else {
      if (qop !== 'auth' || ncText === undefined || cnonce === undefined || !NC_RE.test(ncText)) return fail('malformed');
      nc = parseInt(ncText, 16);
    }

    const nonceState = this.nonces.inspect(nonce);
    if (nonceState === 'invalid') return fail('invalid-nonce');

    const record = await this.lookup(username, realm);
    const secrets = record ?? this.dummy;
    const ha1 = alg === 'MD5' ? secrets.ha1Md5 : secrets.ha1Sha256;
    // Always hash, also for an unknown user (dummy HA1), so timing does not reveal existence.
    const matches = verifyCredentials({
      alg,
      ha1,
      method,
      uri,
      nonce,
      response,
      ...(qop === undefined ? {} : { qop: 'auth' as const, nc: ncText, cnonce }),
    });
    if (record === undefined) return fail('unknown-user');
    if (!matches) return fail('bad-response');

    // RFC 7616 §3.3: stale=true only when the digest was valid but the nonce is not.
    if (nonceState === 'stale') return fail('stale');
    const use = this.nonces.check(nonce, nc);
    if (use === 'replay') return fail('replay');
    if (use === 'stale') return fail('stale');
    if (use === 'invalid') return fail('invalid-nonce');
    return { ok: true, username };
  }
}

function fail(reason: DigestFailureReason): DigestVerifyResult {
  return { ok: false, reason };
}
