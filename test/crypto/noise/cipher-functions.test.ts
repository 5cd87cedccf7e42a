/**
 * The Noise cipher and hash functions against their primitives' published vectors: the AEADs
 * with explicit nonces (RFC 8439 §2.8.2 for ChaCha20-Poly1305, GCM spec test case 16 for
 * AES-256-GCM), so the nonce encoding of Noise §12.3/§12.4 is the only Noise-specific part;
 * REKEY (§4.2); HKDF (§4.3) against RFC 5869 HKDF; CipherState nonce handling (§5.1).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, hkdfSync } from 'node:crypto';
import {
  CipherState, MAX_NOISE_MESSAGE, NOISE_MAX_NONCE, noiseCipherFunction, noiseHashFunction,
} from '../../../src/crypto/noise/index.js';
import { HandshakeError } from '../../../src/errors.js';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const EMPTY = Buffer.alloc(0);

// RFC 8439 §2.8.2.
const RFC8439 = {
  key: h('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'),
  nonce: h('070000004041424344454647'),
  aad: h('50515253c0c1c2c3c4c5c6c7'),
  plaintext: Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."),
  ciphertext: h(`d31a8d34648e60db7b86afbc53ef7ec2 a4aded51296e08fea9e2b5a736ee62d6 3dbea45e8ca9671282fafb69da92728b
    1a71de0a9e060b2905d6a5b67ecd3b36 92ddbd7f2d778b8c9803aee328091b58 fab324e4fad675945585808b4831d7bc
    3ff4def08e4b7a9de576d26586cec64b 6116`),
  tag: h('1ae10b594f09e26a7e902ecbd0600691'),
};

// McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16 (AES-256, 96-bit IV, AAD).
const GCM16 = {
  key: h('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308'),
  nonce: h('cafebabefacedbaddecaf888'),
  aad: h('feedfacedeadbeeffeedfacedeadbeefabaddad2'),
  plaintext: h(`d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
    1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39`),
  ciphertext: h(`522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
    8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662`),
  tag: h('76fc6ece0f4e1768cddf8853bb2d551b'),
};

describe('AEAD primitives (explicit nonce)', () => {
  const cases = [['ChaChaPoly', 'RFC 8439 §2.8.2', RFC8439], ['AESGCM', 'GCM test case 16', GCM16]] as const;
  for (const [name, label, v] of cases) {
    const cipher = noiseCipherFunction(name);
    it(`${name}: ${label} seal`, () => {
      assert.deepEqual(cipher.seal(v.key, v.nonce, v.aad, v.plaintext), Buffer.concat([v.ciphertext, v.tag]));
    });
    it(`${name}: ${label} open, and any changed bit is a HandshakeError`, () => {
      const sealed = Buffer.concat([v.ciphertext, v.tag]);
      assert.deepEqual(cipher.open(v.key, v.nonce, v.aad, sealed), v.plaintext);
      for (const at of [0, 17, sealed.length - 16, sealed.length - 1]) {
        const bad = Buffer.from(sealed);
        bad[at]! ^= 0x80;
        assert.throws(() => cipher.open(v.key, v.nonce, v.aad, bad), HandshakeError);
      }
      const badAad = Buffer.from(v.aad);
      badAad[0]! ^= 1;
      assert.throws(() => cipher.open(v.key, v.nonce, badAad, sealed), HandshakeError);
      assert.throws(() => cipher.open(v.key, v.nonce, v.aad, sealed.subarray(0, 15)), HandshakeError);
    });
  }
});

describe('Noise nonce encoding (§12.3, §12.4)', () => {
  it('ChaChaPoly: 32 zero bits then the 64-bit counter little-endian', () => {
    const c = noiseCipherFunction('ChaChaPoly');
    assert.equal(c.nonce(0n).toString('hex'), '000000000000000000000000');
    assert.equal(c.nonce(1n).toString('hex'), '000000000100000000000000');
    assert.equal(c.nonce(0x0102030405060708n).toString('hex'), '000000000807060504030201');
    assert.equal(c.nonce(NOISE_MAX_NONCE).toString('hex'), '00000000ffffffffffffffff');
  });
  it('AESGCM: 32 zero bits then the 64-bit counter big-endian', () => {
    const c = noiseCipherFunction('AESGCM');
    assert.equal(c.nonce(1n).toString('hex'), '000000000000000000000001');
    assert.equal(c.nonce(0x0102030405060708n).toString('hex'), '000000000102030405060708');
  });
  it('ENCRYPT(k, n, ad, p) is the bare AEAD under that nonce and nothing else', () => {
    for (const [name, alg] of [['ChaChaPoly', 'chacha20-poly1305'], ['AESGCM', 'aes-256-gcm']] as const) {
      const c = noiseCipherFunction(name);
      const n = 0x1122334455n;
      const iv = Buffer.alloc(12);
      if (name === 'ChaChaPoly') iv.writeBigUInt64LE(n, 4);
      else iv.writeBigUInt64BE(n, 4);
      const raw = createCipheriv(alg as 'aes-256-gcm', RFC8439.key, iv, { authTagLength: 16 });
      raw.setAAD(RFC8439.aad);
      const body = Buffer.concat([raw.update(RFC8439.plaintext), raw.final()]);
      assert.deepEqual(c.encrypt(RFC8439.key, n, RFC8439.aad, RFC8439.plaintext), Buffer.concat([body, raw.getAuthTag()]), name);
      assert.deepEqual(c.decrypt(RFC8439.key, n, RFC8439.aad, Buffer.concat([body, raw.getAuthTag()])), RFC8439.plaintext);
    }
  });
  it('a nonce outside 0..2^64-1 is a caller bug (RangeError)', () => {
    assert.throws(() => noiseCipherFunction('ChaChaPoly').nonce(-1n), RangeError);
    assert.throws(() => noiseCipherFunction('AESGCM').nonce(1n << 64n), RangeError);
  });
  it('a key of the wrong length is a caller bug (RangeError)', () => {
    assert.throws(() => noiseCipherFunction('ChaChaPoly').encrypt(Buffer.alloc(16), 0n, EMPTY, EMPTY), RangeError);
    assert.throws(() => new CipherState(noiseCipherFunction('AESGCM'), Buffer.alloc(31)), RangeError);
  });
});

describe('REKEY (§4.2)', () => {
  for (const name of ['ChaChaPoly', 'AESGCM'] as const) {
    it(`${name}: first 32 bytes of ENCRYPT(k, 2^64-1, zerolen, zeros[32])`, () => {
      const c = noiseCipherFunction(name);
      const expected = c.encrypt(RFC8439.key, NOISE_MAX_NONCE, EMPTY, Buffer.alloc(32)).subarray(0, 32);
      assert.deepEqual(c.rekey(RFC8439.key), expected);
    });
    it(`${name}: CipherState.rekey() keeps n and both sides stay in step`, () => {
      const c = noiseCipherFunction(name);
      const a = new CipherState(c, RFC8439.key);
      const b = new CipherState(c, RFC8439.key);
      b.decryptWithAd(EMPTY, a.encryptWithAd(EMPTY, Buffer.from('one')));
      const before = new CipherState(c, RFC8439.key);
      before.setNonce(1n);
      a.rekey();
      b.rekey();
      assert.equal(a.nonce(), 1n);
      const ct = a.encryptWithAd(EMPTY, Buffer.from('two'));
      assert.notDeepEqual(ct, before.encryptWithAd(EMPTY, Buffer.from('two')));
      assert.equal(b.decryptWithAd(EMPTY, ct).toString(), 'two');
    });
  }
  it('rekey() without a key is a HandshakeError', () => {
    assert.throws(() => new CipherState(noiseCipherFunction('AESGCM')).rekey(), HandshakeError);
  });
});

describe('HKDF (§4.3) equals RFC 5869 HKDF with salt = ck and empty info', () => {
  const ck = h('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  const ikm = Buffer.from('input key material');
  for (const [name, node, len] of [['SHA256', 'sha256', 32], ['SHA512', 'sha512', 64], ['BLAKE2s', 'blake2s256', 32], ['BLAKE2b', 'blake2b512', 64]] as const) {
    it(name, () => {
      const f = noiseHashFunction(name);
      assert.equal(f.hashLen, len);
      const [o1, o2, o3] = f.hkdf(ck, ikm, 3);
      if (name.startsWith('SHA')) {
        const ref = Buffer.from(hkdfSync(node, ikm, ck, EMPTY, 3 * len));
        assert.deepEqual(Buffer.concat([o1!, o2!, o3!]), ref);
      }
      assert.deepEqual(f.hkdf(ck, ikm, 2), [o1, o2]);
      // output2 = HMAC(temp_key, output1 || 0x02), spelled out.
      const temp = f.hmac(ck, ikm);
      assert.deepEqual(o2, f.hmac(temp, Buffer.concat([o1!, Buffer.from([2])])));
    });
  }
  it('an unsupported hash is a RangeError', () => {
    assert.throws(() => noiseHashFunction('SHA3'), RangeError);
    assert.throws(() => noiseCipherFunction('AES128'), RangeError);
  });
});

describe('CipherState (§5.1)', () => {
  const c = noiseCipherFunction('ChaChaPoly');
  it('without a key, EncryptWithAd/DecryptWithAd pass data through', () => {
    const cs = new CipherState(c);
    assert.equal(cs.hasKey(), false);
    assert.equal(cs.encryptWithAd(EMPTY, Buffer.from('x')).toString(), 'x');
    assert.equal(cs.decryptWithAd(EMPTY, Buffer.from('y')).toString(), 'y');
  });
  it('n increments per message and a failed decryption leaves it unchanged', () => {
    const a = new CipherState(c, RFC8439.key);
    const b = new CipherState(c, RFC8439.key);
    const m0 = a.encryptWithAd(EMPTY, Buffer.from('m0'));
    assert.equal(a.nonce(), 1n);
    const bad = Buffer.from(m0);
    bad[0]! ^= 1;
    assert.throws(() => b.decryptWithAd(EMPTY, bad), HandshakeError);
    assert.equal(b.nonce(), 0n);
    assert.equal(b.decryptWithAd(EMPTY, m0).toString(), 'm0');
    assert.equal(b.nonce(), 1n);
  });
  it('SetNonce allows out-of-order receipt (§11.4)', () => {
    const a = new CipherState(c, RFC8439.key);
    const b = new CipherState(c, RFC8439.key);
    const m0 = a.encryptWithAd(EMPTY, Buffer.from('m0'));
    const m1 = a.encryptWithAd(EMPTY, Buffer.from('m1'));
    b.setNonce(1n);
    assert.equal(b.decryptWithAd(EMPTY, m1).toString(), 'm1');
    b.setNonce(0n);
    assert.equal(b.decryptWithAd(EMPTY, m0).toString(), 'm0');
  });
  it('nonce 2^64-1 is reserved: encrypt and decrypt throw HandshakeError', () => {
    const a = new CipherState(c, RFC8439.key);
    a.setNonce(NOISE_MAX_NONCE - 1n);
    const last = a.encryptWithAd(EMPTY, Buffer.from('last'));
    assert.equal(a.nonce(), NOISE_MAX_NONCE);
    assert.throws(() => a.encryptWithAd(EMPTY, Buffer.from('one more')), HandshakeError);
    const b = new CipherState(c, RFC8439.key);
    b.setNonce(NOISE_MAX_NONCE);
    assert.throws(() => b.decryptWithAd(EMPTY, last), HandshakeError);
    b.setNonce(NOISE_MAX_NONCE - 1n);
    assert.equal(b.decryptWithAd(EMPTY, last).toString(), 'last');
    assert.throws(() => b.decryptWithAd(EMPTY, last), HandshakeError);
    assert.throws(() => b.setNonce(NOISE_MAX_NONCE + 1n), RangeError);
  });
  it(`messages over ${MAX_NOISE_MESSAGE} bytes are a HandshakeError (§3)`, () => {
    const a = new CipherState(c, RFC8439.key);
    assert.equal(a.encryptWithAd(EMPTY, Buffer.alloc(MAX_NOISE_MESSAGE - 16)).length, MAX_NOISE_MESSAGE);
    assert.throws(() => a.encryptWithAd(EMPTY, Buffer.alloc(MAX_NOISE_MESSAGE - 15)), HandshakeError);
    assert.throws(() => a.decryptWithAd(EMPTY, Buffer.alloc(MAX_NOISE_MESSAGE + 1)), HandshakeError);
  });
});
