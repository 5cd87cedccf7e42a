import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  computeHa1,
  computeResponse,
  formatNonceCount,
  parseAlgorithm,
  timingSafeEqualHex,
  verifyCredentials,
  type DigestAlgorithm,
} from '../../../src/auth/digest.js';
import { parseAuthValue } from '../../../src/auth/auth-params.js';
import { loadVectors } from './load-vectors.js';

interface Common {
  username: string;
  password: string;
  realm: string;
  method: string;
  uri: string;
  nonce: string;
  cnonce: string;
  nc: string;
  qop: 'auth';
}
interface Rfc7616 extends Common {
  cases: { algorithm: DigestAlgorithm; challenge: string; authorization: string; response: string }[];
}
interface Rfc2617 extends Common {
  algorithm: DigestAlgorithm;
  authorization: string;
  response: string;
}

const rfc7616 = loadVectors<Rfc7616>('rfc7616/digest.json');
const rfc2617 = loadVectors<Rfc2617>('rfc2617/digest.json');

describe('digest: official vectors', () => {
  for (const c of rfc7616.cases) {
    it(`RFC 7616 §3.9.1 ${c.algorithm} response`, () => {
      const ha1 = computeHa1(c.algorithm, rfc7616.username, rfc7616.realm, rfc7616.password);
      const got = computeResponse({
        alg: c.algorithm,
        ha1,
        method: rfc7616.method,
        uri: rfc7616.uri,
        nonce: rfc7616.nonce,
        nc: rfc7616.nc,
        cnonce: rfc7616.cnonce,
        qop: rfc7616.qop,
      });
      assert.equal(got, c.response);
    });

    it(`RFC 7616 §3.9.1 ${c.algorithm} Authorization parses and verifies`, () => {
      const { scheme, params } = parseAuthValue(c.authorization);
      assert.equal(scheme, 'Digest');
      const alg = parseAlgorithm(params.get('algorithm'));
      assert.equal(alg, c.algorithm);
      const ok = verifyCredentials({
        alg: alg!,
        ha1: computeHa1(alg!, params.get('username')!, params.get('realm')!, rfc7616.password),
        method: rfc7616.method,
        uri: params.get('uri')!,
        nonce: params.get('nonce')!,
        nc: params.get('nc')!,
        cnonce: params.get('cnonce')!,
        qop: 'auth',
        response: params.get('response')!,
      });
      assert.equal(ok, true);
      assert.equal(parseAuthValue(c.challenge).params.get('qop'), 'auth, auth-int');
    });
  }

  it('RFC 2617 §3.5 MD5 response', () => {
    const ha1 = computeHa1('MD5', rfc2617.username, rfc2617.realm, rfc2617.password);
    const got = computeResponse({
      alg: 'MD5',
      ha1,
      method: rfc2617.method,
      uri: rfc2617.uri,
      nonce: rfc2617.nonce,
      nc: rfc2617.nc,
      cnonce: rfc2617.cnonce,
      qop: rfc2617.qop,
    });
    assert.equal(got, rfc2617.response);
    const params = parseAuthValue(rfc2617.authorization).params;
    assert.equal(params.get('response'), rfc2617.response);
    assert.equal(parseAlgorithm(params.get('algorithm')), 'MD5', 'absent algorithm means MD5');
  });
});

describe('digest: constructions', () => {
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');

  it('no-qop RFC 2069 form is H(HA1:nonce:HA2)', () => {
    const ha1 = computeHa1('MD5', 'bob', 'example.com', 'pw');
    const got = computeResponse({ alg: 'MD5', ha1, method: 'REGISTER', uri: 'sip:example.com', nonce: 'n1' });
    assert.equal(got, md5(`${ha1}:n1:${md5('REGISTER:sip:example.com')}`));
  });

  it('-sess folds nonce and cnonce into HA1 (RFC 7616 §3.4.2)', () => {
    const ha1 = computeHa1('SHA-256-sess', 'bob', 'example.com', 'pw');
    assert.equal(ha1, sha('bob:example.com:pw'));
    const got = computeResponse({
      alg: 'SHA-256-sess', ha1, method: 'INVITE', uri: 'sip:alice@example.com', nonce: 'n', nc: 1, cnonce: 'c', qop: 'auth',
    });
    const sessHa1 = sha(`${ha1}:n:c`);
    assert.equal(got, sha(`${sessHa1}:n:00000001:c:auth:${sha('INVITE:sip:alice@example.com')}`));
    assert.throws(() => computeResponse({ alg: 'MD5-sess', ha1, method: 'M', uri: 'u', nonce: 'n' }), TypeError);
  });

  it('auth-int hashes the body into HA2 (RFC 7616 §3.4.3)', () => {
    const ha1 = computeHa1('MD5', 'bob', 'r', 'pw');
    const got = computeResponse({ alg: 'MD5', ha1, method: 'MESSAGE', uri: 'sip:x', nonce: 'n', nc: '00000002', cnonce: 'c', qop: 'auth-int', body: 'hi' });
    assert.equal(got, md5(`${ha1}:n:00000002:c:auth-int:${md5(`MESSAGE:sip:x:${md5('hi')}`)}`));
  });

  it('qop without nc/cnonce is a programming error', () => {
    assert.throws(() => computeResponse({ alg: 'MD5', ha1: 'x', method: 'M', uri: 'u', nonce: 'n', qop: 'auth' }), TypeError);
  });

  it('parseAlgorithm is case-insensitive and rejects unknowns', () => {
    assert.equal(parseAlgorithm('sha-256'), 'SHA-256');
    assert.equal(parseAlgorithm('md5-SESS'), 'MD5-sess');
    assert.equal(parseAlgorithm('SHA-512-256'), undefined);
    assert.equal(parseAlgorithm(undefined), 'MD5');
  });

  it('formatNonceCount gives 8 lower-case hex digits', () => {
    assert.equal(formatNonceCount(1), '00000001');
    assert.equal(formatNonceCount(0xabc), '00000abc');
    assert.throws(() => formatNonceCount(2 ** 32), RangeError);
  });

  it('timingSafeEqualHex: equal, case-insensitive, different, different length', () => {
    assert.equal(timingSafeEqualHex('abcdef', 'ABCDEF'), true);
    assert.equal(timingSafeEqualHex('abcdef', 'abcdee'), false);
    assert.equal(timingSafeEqualHex('abcdef', 'abcd'), false);
  });
});
