import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DigestAuthenticator, pickCredentials, type DigestHa1Record } from '../../../src/auth/digest-authenticator.js';
import { formatCredentials, parseAuthValue } from '../../../src/auth/auth-params.js';
import { computeHa1, computeResponse, parseAlgorithm, type DigestAlgorithm } from '../../../src/auth/digest.js';
import { NonceManager } from '../../../src/auth/nonce-manager.js';
import { ManualClock } from '../../../src/util/clock.js';
import { createSeededRandom } from '../../../src/util/random.js';

const REALM = 'example.com';

function setup(opts: { algorithms?: ('SHA-256' | 'MD5')[]; lifetimeMs?: number; seed?: number } = {}) {
  const clock = new ManualClock();
  const nonces = new NonceManager({ clock, random: createSeededRandom(opts.seed ?? 3), lifetimeMs: opts.lifetimeMs });
  const users = new Map<string, DigestHa1Record>([
    ['bob', { ha1Md5: computeHa1('MD5', 'bob', REALM, 'secret'), ha1Sha256: computeHa1('SHA-256', 'bob', REALM, 'secret') }],
  ]);
  const lookups: string[] = [];
  const auth = new DigestAuthenticator({
    realm: REALM,
    nonces,
    ...(opts.algorithms ? { algorithms: opts.algorithms } : {}),
    lookup: async (username, realm) => {
      lookups.push(`${username}@${realm}`);
      return realm === REALM ? users.get(username) : undefined;
    },
  });
  return { clock, auth, lookups };
}

interface Answer {
  username?: string;
  password?: string;
  method?: string;
  uri?: string;
  nc?: number;
  cnonce?: string;
  qop?: 'auth' | undefined;
  realm?: string;
  algorithm?: DigestAlgorithm;
}

/** What a UA does with one challenge value. */
function answer(challenge: string, a: Answer = {}): string {
  const p = parseAuthValue(challenge).params;
  const alg = a.algorithm ?? parseAlgorithm(p.get('algorithm'))!;
  const username = a.username ?? 'bob';
  const realm = a.realm ?? p.get('realm')!;
  const nonce = p.get('nonce')!;
  const method = a.method ?? 'REGISTER';
  const uri = a.uri ?? 'sip:example.com';
  const withQop = !('qop' in a) || a.qop !== undefined;
  const nc = a.nc ?? 1;
  const cnonce = a.cnonce ?? '0a4f113b';
  const ha1 = computeHa1(alg, username, realm, a.password ?? 'secret');
  const response = computeResponse({ alg, ha1, method, uri, nonce, ...(withQop ? { qop: 'auth' as const, nc, cnonce } : {}) });
  return formatCredentials({ username, realm, nonce, uri, response, algorithm: alg, ...(withQop ? { qop: 'auth', nc, cnonce } : {}) });
}

describe('DigestAuthenticator.challenge', () => {
  it('offers SHA-256 first, then MD5, by default, with one shared nonce and qop="auth" (RFC 8760 §2.4)', () => {
    const { auth } = setup();
    const [sha, md5, extra] = auth.challenge();
    assert.equal(extra, undefined);
    assert.match(sha!, /^Digest realm="example\.com", nonce="[A-Za-z0-9_-]+", algorithm=SHA-256, qop="auth"$/);
    assert.match(md5!, /algorithm=MD5, qop="auth"$/);
    assert.equal(parseAuthValue(sha!).params.get('nonce'), parseAuthValue(md5!).params.get('nonce'));
    assert.match(auth.challenge(true)[0]!, /, stale=true, /);
  });

  it('follows the configured preference order (MD5 first for first-challenge-only clients)', () => {
    const { auth } = setup({ algorithms: ['MD5', 'SHA-256'] });
    const [first, second] = auth.challenge();
    assert.match(first!, /algorithm=MD5/);
    assert.match(second!, /algorithm=SHA-256/);
  });

  it('offers only the configured algorithms', () => {
    const { auth } = setup({ algorithms: ['SHA-256'] });
    assert.equal(auth.challenge().length, 1);
    assert.throws(() => setup({ algorithms: [] }), RangeError);
  });
});

describe('DigestAuthenticator.verify', () => {
  it('accepts a correct SHA-256 answer', async () => {
    const { auth } = setup();
    const [sha] = auth.challenge();
    assert.deepEqual(await auth.verify(answer(sha!), 'REGISTER', REALM), { ok: true, username: 'bob' });
  });

  it('accepts a correct MD5 answer', async () => {
    const { auth } = setup();
    const [, md5] = auth.challenge();
    assert.deepEqual(await auth.verify(answer(md5!), 'REGISTER', REALM), { ok: true, username: 'bob' });
  });

  it('takes the uri parameter as given (RFC 3261 §22.4)', async () => {
    const { auth } = setup();
    const [sha] = auth.challenge();
    const value = answer(sha!, { uri: 'sip:registrar.example.com;transport=tcp', method: 'INVITE' });
    assert.equal((await auth.verify(value, 'INVITE', REALM)).ok, true);
  });

  it('accepts the RFC 2069 form without qop once per nonce', async () => {
    const { auth } = setup();
    const [sha] = auth.challenge();
    const value = answer(sha!, { qop: undefined });
    assert.equal((await auth.verify(value, 'REGISTER', REALM)).ok, true);
    assert.deepEqual(await auth.verify(value, 'REGISTER', REALM), { ok: false, reason: 'replay' });
  });

  it('rejects a wrong password as bad-response', async () => {
    const { auth } = setup();
    const [sha] = auth.challenge();
    assert.deepEqual(await auth.verify(answer(sha!, { password: 'guess' }), 'REGISTER', REALM), { ok: false, reason: 'bad-response' });
  });

  it('rejects a different method (response covers the method)', async () => {
    const { auth } = setup();
    const [sha] = auth.challenge();
    assert.deepEqual(await auth.verify(answer(sha!), 'INVITE', REALM), { ok: false, reason: 'bad-response' });
  });

  it('rejects an unknown user after doing the same lookup and hashing', async () => {
    const { auth, lookups } = setup();
    const [sha] = auth.challenge();
    assert.deepEqual(await auth.verify(answer(sha!, { username: 'mallory' }), 'REGISTER', REALM), { ok: false, reason: 'unknown-user' });
    assert.deepEqual(lookups, [`mallory@${REALM}`]);
  });

  it('compares usernames exactly', async () => {
    const { auth } = setup();
    const [sha] = auth.challenge();
    assert.deepEqual(await auth.verify(answer(sha!, { username: 'Bob' }), 'REGISTER', REALM), { ok: false, reason: 'unknown-user' });
  });

  it('rejects credentials for another realm', async () => {
    const { auth, lookups } = setup();
    const [sha] = auth.challenge();
    assert.deepEqual(await auth.verify(answer(sha!, { realm: 'other.org' }), 'REGISTER', REALM), { ok: false, reason: 'wrong-realm' });
    assert.deepEqual(await auth.verify(answer(sha!), 'REGISTER', 'other.org'), { ok: false, reason: 'wrong-realm' });
    assert.deepEqual(lookups, []);
  });

  it('rejects a replayed nonce count and accepts the next one (RFC 7616 §3.4.5)', async () => {
    const { auth } = setup();
    const [sha] = auth.challenge();
    const first = answer(sha!, { nc: 1 });
    assert.equal((await auth.verify(first, 'REGISTER', REALM)).ok, true);
    assert.deepEqual(await auth.verify(first, 'REGISTER', REALM), { ok: false, reason: 'replay' });
    assert.equal((await auth.verify(answer(sha!, { nc: 2 }), 'REGISTER', REALM)).ok, true);
  });

  it('a forged request does not burn the client nonce count', async () => {
    const { auth } = setup();
    const [sha] = auth.challenge();
    const forged = answer(sha!, { nc: 0xffff, password: 'guess' });
    assert.deepEqual(await auth.verify(forged, 'REGISTER', REALM), { ok: false, reason: 'bad-response' });
    assert.equal((await auth.verify(answer(sha!, { nc: 1 }), 'REGISTER', REALM)).ok, true);
  });

  it('reports stale only for a correct answer with an expired nonce (RFC 7616 §3.3)', async () => {
    const { auth, clock } = setup({ lifetimeMs: 60_000 });
    const [sha] = auth.challenge();
    clock.advance(60_001);
    assert.deepEqual(await auth.verify(answer(sha!), 'REGISTER', REALM), { ok: false, reason: 'stale' });
    assert.deepEqual(await auth.verify(answer(sha!, { password: 'guess' }), 'REGISTER', REALM), { ok: false, reason: 'bad-response' });
  });

  it('rejects a nonce it did not issue', async () => {
    const { auth } = setup();
    const other = setup({ seed: 4 }); // a different secret
    const [sha] = other.auth.challenge();
    assert.deepEqual(await auth.verify(answer(sha!), 'REGISTER', REALM), { ok: false, reason: 'invalid-nonce' });
  });

  it('rejects an algorithm it did not offer', async () => {
    const { auth } = setup({ algorithms: ['SHA-256'] });
    const [sha] = auth.challenge();
    const cases: DigestAlgorithm[] = ['MD5', 'SHA-256-sess'];
    for (const algorithm of cases) {
      assert.deepEqual(await auth.verify(answer(sha!, { algorithm }), 'REGISTER', REALM), { ok: false, reason: 'unsupported-algorithm' });
    }
    const noAlg = answer(sha!).replace(', algorithm=SHA-256', '');
    assert.deepEqual(await auth.verify(noAlg, 'REGISTER', REALM), { ok: false, reason: 'unsupported-algorithm' }, 'absent means MD5');
    const unknown = answer(sha!).replace('algorithm=SHA-256', 'algorithm=SHA-512-256');
    assert.deepEqual(await auth.verify(unknown, 'REGISTER', REALM), { ok: false, reason: 'unsupported-algorithm' });
  });

  it('missing and malformed credentials', async () => {
    const { auth } = setup();
    const [sha] = auth.challenge();
    const good = answer(sha!);
    assert.deepEqual(await auth.verify(undefined, 'REGISTER', REALM), { ok: false, reason: 'missing' });
    assert.deepEqual(await auth.verify('  ', 'REGISTER', REALM), { ok: false, reason: 'missing' });
    const bad = [
      'Digest username="bob', // unterminated
      'Basic Ym9iOnNlY3JldA==',
      good.replace(/, uri="[^"]*"/, ''),
      good.replace(/, response="[^"]*"/, ''),
      good.replace(/response="[0-9a-f]+"/, 'response="abc"'),
      good.replace('qop=auth', 'qop=auth-int'),
      good.replace(/, nc=\w+/, ''),
      good.replace(/, cnonce="[^"]*"/, ''),
      good.replace(/nc=\w+/, 'nc=1'),
      good.replace(/, qop=auth/, ''), // nc/cnonce without qop
      good + ', userhash=true',
    ];
    for (const v of bad) assert.deepEqual(await auth.verify(v, 'REGISTER', REALM), { ok: false, reason: 'malformed' }, v);
  });
});

describe('pickCredentials', () => {
  it('picks the Digest value for the realm, skipping others and garbage (RFC 3261 §22.3)', () => {
    const mine = 'Digest username="bob", realm="example.com", nonce="n", uri="sip:x", response="00"';
    const values = ['Digest realm="unterminated', 'Basic realm="example.com"', 'Digest username="bob", realm="other.org", nonce="n"', mine];
    assert.equal(pickCredentials(values, 'example.com'), mine);
    assert.equal(pickCredentials(values, 'nowhere'), undefined);
    assert.equal(pickCredentials([], 'example.com'), undefined);
  });
});
