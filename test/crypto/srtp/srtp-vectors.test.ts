/**
 * Known-answer tests: RFC 3711 Appendix B.2 (AES-CM keystream) and B.3 (key derivation),
 * RFC 7714 §16–17 (AES-GCM SRTP/SRTCP, stated in session keys, so run through the transform),
 * and the libsrtp `srtp_validate()`/`srtp_validate_gcm()` reference packets (master keys, run
 * through SrtpContext end to end). Vector files: test/vectors/srtp/*.json.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AesCm, createSrtpTransform, deriveSrtpSessionKeys, gcmRtcpIv, gcmRtpIv, SRTP_LABEL, SrtpContext, srtpKdf,
  type SrtpProfile, type SrtpSessionKeys,
} from '../../../src/crypto/srtp/index.js';
import { readVector } from '../../support/vectors.js';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const json = <T>(name: string): T => JSON.parse(readVector(`srtp/${name}`).toString('utf8')) as T;

interface Rfc3711 {
  source: string;
  aesCm: { sessionKey: string; offset: string; segmentLength: number; blocks: { counter: string; keystream: string }[] };
  keyDerivation: {
    masterKey: string; masterSalt: string; cipherKey: string; cipherSaltBlock: string; cipherSalt: string; authKey: string[];
  };
}
interface Rfc7714 {
  source: string;
  sessionKey128: string; sessionKey256: string; sessionSalt: string;
  rtp: { ssrc: string; roc: string; seq: string; iv: string; plaintext: string; aes128: { protected: string }; aes256: { protected: string } };
  rtcp: {
    ssrc: string; srtcpIndex: string; iv: string; plaintext: string;
    encrypted128: { protected: string }; encrypted256: { protected: string };
    tagged128: { protected: string }; tagged256: { protected: string };
  };
}
interface LibsrtpSet {
  masterKey: string; masterSalt: string; rtpPlaintext: string; rtcpPlaintext: string; srtcpIndex1: string;
  srtp80?: string; srtp?: string;
}
interface Libsrtp { source: string; aesCm128HmacSha1: LibsrtpSet; aeadAes128Gcm: LibsrtpSet }

describe('RFC 3711 Appendix B.2: AES-CM keystream', () => {
  const v = json<Rfc3711>('rfc3711.json');
  it('has a source', () => assert.match(v.source, /RFC 3711/));

  it('reproduces the first and last blocks of the 1044512-octet keystream segment', () => {
    const cm = new AesCm(h(v.aesCm.sessionKey));
    const segment = cm.keystream(h(v.aesCm.offset), v.aesCm.segmentLength);
    assert.equal(segment.length, v.aesCm.segmentLength);
    const base = h(v.aesCm.offset).readUInt32BE(12);
    for (const b of v.aesCm.blocks) {
      const j = h(b.counter).readUInt32BE(12) - base;
      assert.deepEqual(segment.subarray(16 * j, 16 * j + 16), h(b.keystream), `counter ${b.counter}`);
    }
    // The segment ends exactly with the last listed block (65282 blocks: j = 0..0xFF01).
    assert.deepEqual(segment.subarray(segment.length - 16), h(v.aesCm.blocks.at(-1)!.keystream));
  });

  it('starts a keystream at any counter block', () => {
    const cm = new AesCm(h(v.aesCm.sessionKey));
    for (const b of v.aesCm.blocks) assert.deepEqual(cm.keystream(h(b.counter), 16), h(b.keystream));
  });
});

describe('RFC 3711 Appendix B.3: key derivation', () => {
  const v = json<Rfc3711>('rfc3711.json').keyDerivation;
  const mk = h(v.masterKey);
  const ms = h(v.masterSalt);

  it('derives the cipher key (label 0x00)', () => {
    assert.deepEqual(srtpKdf(mk, ms, SRTP_LABEL.rtpEncryption, 16), h(v.cipherKey));
  });
  it('derives the cipher salt (label 0x02): first 14 octets of the AES-CM output block', () => {
    assert.deepEqual(srtpKdf(mk, ms, SRTP_LABEL.rtpSalt, 16), h(v.cipherSaltBlock));
    assert.deepEqual(srtpKdf(mk, ms, SRTP_LABEL.rtpSalt, 14), h(v.cipherSalt));
  });
  it('derives the 94-octet auth key walk-through (label 0x01)', () => {
    const full = h(v.authKey.join(''));
    assert.equal(full.length, 94);
    assert.deepEqual(srtpKdf(mk, ms, SRTP_LABEL.rtpAuthentication, 94), full);
  });
  it('deriveSrtpSessionKeys gives the same SRTP keys, a 160-bit HMAC key, and distinct SRTCP keys', () => {
    const k = deriveSrtpSessionKeys('AES_CM_128_HMAC_SHA1_80', mk, ms);
    assert.deepEqual(k.rtp.encryptionKey, h(v.cipherKey));
    assert.deepEqual(k.rtp.salt, h(v.cipherSalt));
    assert.deepEqual(k.rtp.authKey, h(v.authKey.join('')).subarray(0, 20));
    assert.notDeepEqual(k.rtcp.encryptionKey, k.rtp.encryptionKey);
    assert.equal(k.rtcp.salt.length, 14);
    assert.equal(k.rtcp.authKey.length, 20);
    assert.deepEqual(k.rtcp.encryptionKey, srtpKdf(mk, ms, SRTP_LABEL.rtcpEncryption, 16));
  });
});

describe('RFC 7714 §16–17: AES-GCM known answers (session keys)', () => {
  const v = json<Rfc7714>('rfc7714.json');
  const salt = h(v.sessionSalt);
  const transform = (profile: SrtpProfile) => {
    const k: SrtpSessionKeys = {
      encryptionKey: h(profile === 'AEAD_AES_128_GCM' ? v.sessionKey128 : v.sessionKey256), salt, authKey: Buffer.alloc(0),
    };
    return createSrtpTransform(profile, { rtp: k, rtcp: k });
  };
  const rtpSsrc = h(v.rtp.ssrc).readUInt32BE(0);
  const rtpIndex = h(v.rtp.roc).readUInt32BE(0) * 0x10000 + h(v.rtp.seq).readUInt16BE(0);
  const rtcpSsrc = h(v.rtcp.ssrc).readUInt32BE(0);
  const rtcpIndex = h(v.rtcp.srtcpIndex).readUInt32BE(0);

  it('has a source', () => assert.match(v.source, /RFC 7714/));

  it('§8.1/§16: forms the SRTP IV from SSRC, ROC and SEQ', () => {
    assert.deepEqual(gcmRtpIv(salt, rtpSsrc, 0, 0xf17b), h(v.rtp.iv));
  });
  it('§9.1/§17: forms the SRTCP IV from SSRC and the 31-bit index (no E flag)', () => {
    assert.deepEqual(gcmRtcpIv(salt, rtcpSsrc, rtcpIndex), h(v.rtcp.iv));
    assert.deepEqual(gcmRtcpIv(salt, rtcpSsrc, rtcpIndex | 0x80000000), h(v.rtcp.iv));
  });

  for (const [profile, expected] of [['AEAD_AES_128_GCM', v.rtp.aes128.protected], ['AEAD_AES_256_GCM', v.rtp.aes256.protected]] as const) {
    it(`§16 ${profile}: encrypts and tags the RTP packet`, () => {
      assert.deepEqual(transform(profile).protectRtp(h(v.rtp.plaintext), 12, rtpSsrc, rtpIndex), h(expected));
    });
    it(`§16 ${profile}: verifies and decrypts it`, () => {
      assert.deepEqual(transform(profile).unprotectRtp(h(expected), rtpSsrc, rtpIndex), h(v.rtp.plaintext));
    });
  }

  it('§17.1 AEAD_AES_128_GCM: encrypts and tags the RTCP packet (E=1, index 0x5d4)', () => {
    const out = transform('AEAD_AES_128_GCM').protectRtcp(h(v.rtcp.plaintext), rtcpSsrc, rtcpIndex, true);
    assert.deepEqual(out, h(v.rtcp.encrypted128.protected));
  });
  it('§17.2 AEAD_AES_256_GCM: verifies and decrypts the SRTCP packet', () => {
    const out = transform('AEAD_AES_256_GCM').unprotectRtcp(h(v.rtcp.encrypted256.protected), rtcpSsrc, rtcpIndex, true);
    assert.deepEqual(out, h(v.rtcp.plaintext));
    // And the reverse direction reproduces it.
    assert.deepEqual(transform('AEAD_AES_256_GCM').protectRtcp(h(v.rtcp.plaintext), rtcpSsrc, rtcpIndex, true), h(v.rtcp.encrypted256.protected));
  });
  it('§17.3 AEAD_AES_128_GCM: tags without encrypting (E=0; AAD is the whole packet)', () => {
    const out = transform('AEAD_AES_128_GCM').protectRtcp(h(v.rtcp.plaintext), rtcpSsrc, rtcpIndex, false);
    assert.deepEqual(out, h(v.rtcp.tagged128.protected));
    assert.deepEqual(transform('AEAD_AES_128_GCM').unprotectRtcp(out, rtcpSsrc, rtcpIndex, false), h(v.rtcp.plaintext));
  });
  it('§17.4 AEAD_AES_256_GCM: verifies a tagged-only SRTCP packet', () => {
    const t = transform('AEAD_AES_256_GCM');
    assert.deepEqual(t.unprotectRtcp(h(v.rtcp.tagged256.protected), rtcpSsrc, rtcpIndex, false), h(v.rtcp.plaintext));
    assert.deepEqual(t.protectRtcp(h(v.rtcp.plaintext), rtcpSsrc, rtcpIndex, false), h(v.rtcp.tagged256.protected));
  });
  it('refuses the RFC packets with one bit flipped or under the wrong ROC', () => {
    const t = transform('AEAD_AES_128_GCM');
    const p = h(v.rtp.aes128.protected);
    for (const at of [0, 3, 12, 30, p.length - 1]) {
      const bad = Buffer.from(p);
      bad[at] ^= 0x01;
      assert.equal(t.unprotectRtp(bad, rtpSsrc, rtpIndex), 'auth', `octet ${at}`);
    }
    assert.equal(t.unprotectRtp(p, rtpSsrc, rtpIndex + 0x10000), 'auth');
    const r = h(v.rtcp.encrypted128.protected);
    r[r.length - 1] ^= 1; // the ESRTCP word is AAD
    assert.equal(t.unprotectRtcp(r, rtcpSsrc, rtcpIndex ^ 1, true), 'auth');
  });
});

describe('libsrtp srtp_driver.c reference packets (through SrtpContext)', () => {
  const v = json<Libsrtp>('libsrtp.json');
  const ctx = (profile: SrtpProfile, s: LibsrtpSet): SrtpContext =>
    new SrtpContext({ profile, masterKey: h(s.masterKey), masterSalt: h(s.masterSalt) });

  it('has a source', () => assert.match(v.source, /libsrtp/));

  const cm = v.aesCm128HmacSha1;
  it('AES_CM_128_HMAC_SHA1_80: srtp_validate() RTP packet, both directions', () => {
    assert.deepEqual(ctx('AES_CM_128_HMAC_SHA1_80', cm).protectRtp(h(cm.rtpPlaintext)), h(cm.srtp80!));
    assert.deepEqual(ctx('AES_CM_128_HMAC_SHA1_80', cm).unprotectRtp(h(cm.srtp80!)), h(cm.rtpPlaintext));
  });
  it('AES_CM_128_HMAC_SHA1_80: srtp_validate() SRTCP packet is the second one sent (index 1)', () => {
    const tx = ctx('AES_CM_128_HMAC_SHA1_80', cm);
    const first = tx.protectRtcp(h(cm.rtcpPlaintext));
    assert.equal(first.readUInt32BE(first.length - 14), 0x80000000);
    assert.deepEqual(tx.protectRtcp(h(cm.rtcpPlaintext)), h(cm.srtcpIndex1));
    assert.deepEqual(ctx('AES_CM_128_HMAC_SHA1_80', cm).unprotectRtcp(h(cm.srtcpIndex1)), h(cm.rtcpPlaintext));
  });
  it('AES_CM_128_HMAC_SHA1_32: the same packet with a 4-octet SRTP tag; SRTCP keeps 80 bits', () => {
    const srtp32 = h(cm.srtp80!).subarray(0, h(cm.srtp80!).length - 6);
    assert.deepEqual(ctx('AES_CM_128_HMAC_SHA1_32', cm).protectRtp(h(cm.rtpPlaintext)), srtp32);
    assert.deepEqual(ctx('AES_CM_128_HMAC_SHA1_32', cm).unprotectRtp(srtp32), h(cm.rtpPlaintext));
    const tx = ctx('AES_CM_128_HMAC_SHA1_32', cm);
    tx.protectRtcp(h(cm.rtcpPlaintext));
    assert.deepEqual(tx.protectRtcp(h(cm.rtcpPlaintext)), h(cm.srtcpIndex1));
    assert.deepEqual(ctx('AES_CM_128_HMAC_SHA1_32', cm).unprotectRtcp(h(cm.srtcpIndex1)), h(cm.rtcpPlaintext));
  });

  const gcm = v.aeadAes128Gcm;
  it('AEAD_AES_128_GCM: srtp_validate_gcm() RTP packet (96-bit master salt through the KDF)', () => {
    assert.deepEqual(ctx('AEAD_AES_128_GCM', gcm).protectRtp(h(gcm.rtpPlaintext)), h(gcm.srtp!));
    assert.deepEqual(ctx('AEAD_AES_128_GCM', gcm).unprotectRtp(h(gcm.srtp!)), h(gcm.rtpPlaintext));
  });
  it('AEAD_AES_128_GCM: srtp_validate_gcm() SRTCP packet (index 1, E=1)', () => {
    const tx = ctx('AEAD_AES_128_GCM', gcm);
    tx.protectRtcp(h(gcm.rtcpPlaintext));
    assert.deepEqual(tx.protectRtcp(h(gcm.rtcpPlaintext)), h(gcm.srtcpIndex1));
    assert.deepEqual(ctx('AEAD_AES_128_GCM', gcm).unprotectRtcp(h(gcm.srtcpIndex1)), h(gcm.rtcpPlaintext));
  });
});
