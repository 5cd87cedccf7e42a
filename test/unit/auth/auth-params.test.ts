import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatChallenge, formatCredentials, parseAuthValue, quoteString } from '../../../src/auth/auth-params.js';
import { InvalidArgumentError, SipParseError } from '../../../src/errors.js';

describe('parseAuthValue', () => {
  it('parses Digest credentials, lower-casing names and keeping values', () => {
    const v = parseAuthValue(
      'Digest username="bob", realm="x", nonce="abc", uri="sip:x", response="00ff", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="c1"',
    );
    assert.equal(v.scheme, 'Digest');
    assert.deepEqual([...v.params], [
      ['username', 'bob'], ['realm', 'x'], ['nonce', 'abc'], ['uri', 'sip:x'], ['response', '00ff'],
      ['algorithm', 'SHA-256'], ['qop', 'auth'], ['nc', '00000001'], ['cnonce', 'c1'],
    ]);
  });

  it('lower-cases parameter names', () => {
    assert.equal(parseAuthValue('Digest UserName="bob"').params.get('username'), 'bob');
  });

  it('unescapes quoted-pairs (RFC 3261 §25.1)', () => {
    const v = parseAuthValue('Digest username="b\\"o\\\\b", realm="a\\b"');
    assert.equal(v.params.get('username'), 'b"o\\b');
    assert.equal(v.params.get('realm'), 'ab');
  });

  it('keeps commas, equals signs and spaces inside quotes', () => {
    const v = parseAuthValue('Digest realm="a, b=c", qop="auth, auth-int", nonce="x"');
    assert.equal(v.params.get('realm'), 'a, b=c');
    assert.equal(v.params.get('qop'), 'auth, auth-int');
    assert.equal(v.params.get('nonce'), 'x');
  });

  it('tolerates LWS, folding and tabs around separators', () => {
    const v = parseAuthValue('  Digest\r\n   username = "bob" ,\trealm=\r\n "x"  ,nonce="n"\t');
    assert.deepEqual([...v.params], [['username', 'bob'], ['realm', 'x'], ['nonce', 'n']]);
  });

  it('skips empty list elements and a trailing comma', () => {
    const v = parseAuthValue('Digest realm="x",, nonce="n",');
    assert.deepEqual([...v.params.keys()], ['realm', 'nonce']);
  });

  it('accepts empty quoted values and unquoted non-token values', () => {
    const v = parseAuthValue('Digest opaque="", uri=sip:bob@x, nonce=YWJj==');
    assert.equal(v.params.get('opaque'), '');
    assert.equal(v.params.get('uri'), 'sip:bob@x');
    assert.equal(v.params.get('nonce'), 'YWJj==');
  });

  const malformed: [string, string][] = [
    ['empty', ''],
    ['only whitespace', '   '],
    ['scheme without parameters', 'Digest'],
    ['unterminated quote', 'Digest realm="x, nonce="n'],
    ['backslash at end of quote', 'Digest realm="x\\"'],
    ['missing =', 'Digest realm'],
    ['missing = before next param', 'Digest realm "x"'],
    ['missing value', 'Digest realm=, nonce="n"'],
    ['missing value at end', 'Digest realm='],
    ['two values', 'Digest realm=a b'],
    ['junk after quoted value', 'Digest realm="x"y'],
    ['duplicate parameter', 'Digest realm="x", Realm="y"'],
    ['bad scheme', '"Digest" realm="x"'],
    ['bad name', 'Digest re@lm="x"'],
    ['second challenge in one value', 'Digest realm="x", Basic realm="y"'],
  ];
  for (const [name, input] of malformed) {
    it(`throws SipParseError: ${name}`, () => {
      assert.throws(() => parseAuthValue(input), SipParseError);
    });
  }
});

describe('formatChallenge / formatCredentials', () => {
  it('quotes realm, nonce and qop; leaves algorithm and stale unquoted (RFC 7616 §3.3)', () => {
    const s = formatChallenge({ realm: 'example.com', nonce: 'abc', algorithm: 'SHA-256', qop: ['auth'], stale: true });
    assert.equal(s, 'Digest realm="example.com", nonce="abc", stale=true, algorithm=SHA-256, qop="auth"');
    assert.equal(formatChallenge({ realm: 'r', nonce: 'n', stale: false }), 'Digest realm="r", nonce="n"');
  });

  it('escapes quotes and backslashes and round-trips through the parser', () => {
    const s = formatChallenge({ realm: 'a"b\\c', nonce: 'n', opaque: 'o', domain: 'sip:a sip:b' });
    const p = parseAuthValue(s).params;
    assert.equal(p.get('realm'), 'a"b\\c');
    assert.equal(p.get('domain'), 'sip:a sip:b');
    assert.equal(p.get('opaque'), 'o');
  });

  it('formats credentials with algorithm, qop and nc unquoted (RFC 7616 §3.4)', () => {
    const s = formatCredentials({
      username: 'bob', realm: 'r', nonce: 'n', uri: 'sip:r', response: 'ff', algorithm: 'MD5', qop: 'auth', nc: 10, cnonce: 'c',
    });
    assert.equal(s, 'Digest username="bob", realm="r", nonce="n", uri="sip:r", response="ff", algorithm=MD5, cnonce="c", qop=auth, nc=0000000a');
    assert.equal(parseAuthValue(s).params.get('nc'), '0000000a');
  });

  it('refuses CR/LF (header injection) and non-token algorithm', () => {
    assert.throws(() => quoteString('a\r\nVia: x'), InvalidArgumentError);
    assert.throws(() => formatChallenge({ realm: 'r\n', nonce: 'n' }), InvalidArgumentError);
    assert.throws(() => formatCredentials({ username: 'u', realm: 'r', nonce: 'n', uri: 'u', response: 'x', nc: 'a b' }), InvalidArgumentError);
  });
});
