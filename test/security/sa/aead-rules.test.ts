/** The AEAD rule registry (src/crypto/aead-rules.ts): round trips, rejection, published vectors. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AEAD_NONCE_LENGTH, AEAD_TAG_LENGTH, aeadOpen, aeadRule, aeadRules, aeadSeal, type AeadRule } from '../../../src/crypto/aead-rules.js';
import { createSeededRandom } from '../../../src/util/random.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function rule(name: string): AeadRule {
  const r = aeadRule(name);
  assert.ok(r, `rule ${name} registered`);
  return r;
}

describe('AEAD registry', () => {
  it('lists the three rules in preference order with their key lengths', () => {
    assert.deepEqual(aeadRules().map((r) => [r.name, r.keyLength]), [['aes-256-gcm', 32], ['chacha20-poly1305', 32], ['aes-128-gcm', 16]]);
    assert.equal(AEAD_NONCE_LENGTH, 12);
    assert.equal(AEAD_TAG_LENGTH, 16);
  });

  it('looks rules up case-insensitively and returns undefined for unknown names', () => {
    assert.equal(aeadRule('AES-256-GCM')?.name, 'aes-256-gcm');
    assert.equal(aeadRule('ChaCha20-Poly1305')?.name, 'chacha20-poly1305');
    assert.equal(aeadRule('aes-192-gcm'), undefined);
    assert.equal(aeadRule(''), undefined);
  });

  for (const r of aeadRules()) {
    describe(r.name, () => {
      const random = createSeededRandom(r.keyLength + r.name.length);
      const key = random.bytes(r.keyLength);
      const nonce = random.bytes(AEAD_NONCE_LENGTH);
      const aad = Buffer.from('record header as associated data');

      it('round-trips plaintexts of many sizes (empty, sub-block, block multiples, large)', () => {
        for (const n of [0, 1, 15, 16, 17, 63, 64, 65, 1000, 65_000]) {
          const pt = random.bytes(n);
          const sealed = aeadSeal(r, key, nonce, aad, pt);
          assert.equal(sealed.length, n + AEAD_TAG_LENGTH, `length for ${n}`);
          if (n >= 16) assert.notDeepEqual(sealed.subarray(0, n), pt, 'ciphertext differs from plaintext');
          assert.deepEqual(aeadOpen(r, key, nonce, aad, sealed), pt, `size ${n}`);
        }
      });

      it('round-trips with empty associated data', () => {
        const pt = Buffer.from('no aad');
        assert.deepEqual(aeadOpen(r, key, nonce, Buffer.alloc(0), aeadSeal(r, key, nonce, Buffer.alloc(0), pt)), pt);
      });

      it('rejects a wrong key, nonce, aad or tag, and a flipped ciphertext bit', () => {
        const pt = Buffer.from('INVITE sip:bob@example.com SIP/2.0\r\n');
        const sealed = aeadSeal(r, key, nonce, aad, pt);
        const otherKey = Buffer.from(key);
        otherKey[0]! ^= 1;
        const otherNonce = Buffer.from(nonce);
        otherNonce[11]! ^= 1;
        const otherAad = Buffer.from(aad);
        otherAad[otherAad.length - 1]! ^= 1;
        assert.equal(aeadOpen(r, otherKey, nonce, aad, sealed), undefined, 'key');
        assert.equal(aeadOpen(r, key, otherNonce, aad, sealed), undefined, 'nonce');
        assert.equal(aeadOpen(r, key, nonce, otherAad, sealed), undefined, 'aad');
        assert.equal(aeadOpen(r, key, nonce, aad.subarray(1), sealed), undefined, 'shorter aad');
        for (const i of [0, pt.length - 1, pt.length, sealed.length - 1]) {
          const bad = Buffer.from(sealed);
          bad[i]! ^= 0x80;
          assert.equal(aeadOpen(r, key, nonce, aad, bad), undefined, `byte ${i}`);
        }
        assert.equal(aeadOpen(r, key, nonce, aad, Buffer.concat([sealed, Buffer.from([0])])), undefined, 'extended');
        assert.equal(aeadOpen(r, key, nonce, aad, sealed.subarray(0, sealed.length - 1)), undefined, 'truncated');
        // And the untouched record still opens.
        assert.deepEqual(aeadOpen(r, key, nonce, aad, sealed), pt);
      });

      it('returns undefined (never throws) for inputs shorter than the tag', () => {
        for (let n = 0; n < AEAD_TAG_LENGTH; n++) assert.equal(aeadOpen(r, key, nonce, aad, Buffer.alloc(n)), undefined);
        // A tag-only input is a valid sealing of the empty plaintext only with the right tag.
        assert.equal(aeadOpen(r, key, nonce, aad, Buffer.alloc(AEAD_TAG_LENGTH)), undefined);
        assert.deepEqual(aeadOpen(r, key, nonce, aad, aeadSeal(r, key, nonce, aad, Buffer.alloc(0))), Buffer.alloc(0));
      });

      const other = aeadRules().find((o) => o !== r && o.keyLength === r.keyLength);
      if (other) it(`${other.name} with the same key does not open the record`, () => {
        const sealed = aeadSeal(r, key, nonce, aad, Buffer.from('cross-rule'));
        assert.equal(aeadOpen(other, key, nonce, aad, sealed), undefined);
      });
    });
  }
});

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", Appendix B: test cases 4
// (AES-128) and 16 (AES-256): 60-byte plaintext, 20-byte AAD, 96-bit IV.
const GCM_PT = hex(`d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
  1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39`);
const GCM_AAD = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
const GCM_IV = hex('cafebabefacedbaddecaf888');

const VECTORS = [
  {
    name: 'GCM spec Test Case 4 (AES-128-GCM)', rule: 'aes-128-gcm', key: hex('feffe9928665731c6d6a8f9467308308'), nonce: GCM_IV, aad: GCM_AAD, pt: GCM_PT,
    ct: hex(`42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
      21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091`),
    tag: hex('5bc94fbc3221a5db94fae95ae7121a47'),
  },
  {
    name: 'GCM spec Test Case 16 (AES-256-GCM)', rule: 'aes-256-gcm', key: hex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308'),
    nonce: GCM_IV, aad: GCM_AAD, pt: GCM_PT,
    ct: hex(`522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
      8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662`),
    tag: hex('76fc6ece0f4e1768cddf8853bb2d551b'),
  },
  {
    // RFC 8439 §2.8.2.
    name: 'RFC 8439 §2.8.2 (ChaCha20-Poly1305)', rule: 'chacha20-poly1305', key: hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'),
    nonce: hex('070000004041424344454647'), aad: hex('50515253c0c1c2c3c4c5c6c7'),
    pt: Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.", 'ascii'),
    ct: hex(`d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
      3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
      92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
      3ff4def08e4b7a9de576d26586cec64b6116`),
    tag: hex('1ae10b594f09e26a7e902ecbd0600691'),
  },
];

describe('published test vectors', () => {
  for (const v of VECTORS) {
    it(v.name, () => {
      assert.equal(v.pt.length, v.ct.length);
      const r = rule(v.rule);
      const sealed = aeadSeal(r, v.key, v.nonce, v.aad, v.pt);
      assert.equal(sealed.subarray(0, v.ct.length).toString('hex'), v.ct.toString('hex'), 'ciphertext');
      assert.equal(sealed.subarray(v.ct.length).toString('hex'), v.tag.toString('hex'), 'tag');
      assert.deepEqual(aeadOpen(r, v.key, v.nonce, v.aad, Buffer.concat([v.ct, v.tag])), v.pt);
      const badTag = Buffer.concat([v.ct, v.tag]);
      badTag[badTag.length - 1]! ^= 1;
      assert.equal(aeadOpen(r, v.key, v.nonce, v.aad, badTag), undefined);
      assert.equal(aeadOpen(r, v.key, v.nonce, Buffer.alloc(0), Buffer.concat([v.ct, v.tag])), undefined, 'AAD is authenticated');
    });
  }
});
