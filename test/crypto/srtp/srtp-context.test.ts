/**
 * SrtpContext behaviour: round trips for every profile (RTP with CSRCs, header extension and
 * padding; RTCP compound), tag lengths, per-SSRC state, rollover-counter estimation across
 * sequence wraps (RFC 3711 §3.3.1), replay windows (§3.3.2) for SRTP and SRTCP, the SRTCP index
 * and E flag (§3.4), and the sender's refusal to reuse an index.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  createSrtpTransform, deriveSrtpSessionKeys, SrtpContext, SrtpError, srtpKeyLengths, srtpProfileParams,
  type SrtpProfile,
} from '../../../src/crypto/srtp/index.js';
import { CryptoFormatError, SipherError } from '../../../src/errors.js';
import { keyFor, PROFILES, reasonOf, rtcpCompound, rtp, rtpHeaderLen, type RtpOptions } from './helpers.js';

const RICH: RtpOptions = {
  csrcs: [0x01020304, 0x05060708, 0x090a0b0c],
  extension: Buffer.from('1011121314151617', 'hex'),
  payload: Buffer.from('the quick brown fox jumps over the lazy dog, twice: the quick brown fox'),
  padding: 3,
  marker: true,
};
const TAGS: Record<SrtpProfile, { rtp: number; rtcp: number }> = {
  AES_CM_128_HMAC_SHA1_80: { rtp: 10, rtcp: 10 },
  AES_CM_128_HMAC_SHA1_32: { rtp: 4, rtcp: 10 },
  AEAD_AES_128_GCM: { rtp: 16, rtcp: 16 },
  AEAD_AES_256_GCM: { rtp: 16, rtcp: 16 },
};

function pair(profile: SrtpProfile, opts: { replayWindow?: number } = {}): { tx: SrtpContext; rx: SrtpContext } {
  return { tx: new SrtpContext(keyFor(profile), opts), rx: new SrtpContext(keyFor(profile), opts) };
}

describe('profiles and key lengths', () => {
  it('srtpKeyLengths gives master key/salt lengths (RFC 3711 §8.2, RFC 7714 §12)', () => {
    assert.deepEqual(srtpKeyLengths('AES_CM_128_HMAC_SHA1_80'), { masterKey: 16, masterSalt: 14 });
    assert.deepEqual(srtpKeyLengths('AES_CM_128_HMAC_SHA1_32'), { masterKey: 16, masterSalt: 14 });
    assert.deepEqual(srtpKeyLengths('AEAD_AES_128_GCM'), { masterKey: 16, masterSalt: 12 });
    assert.deepEqual(srtpKeyLengths('AEAD_AES_256_GCM'), { masterKey: 32, masterSalt: 12 });
  });
  it('carries the DTLS-SRTP profile identifiers (RFC 5764 §4.1.2, RFC 7714 §14.2)', () => {
    assert.deepEqual(PROFILES.map((p) => srtpProfileParams(p).dtlsId), [1, 2, 7, 8]);
  });
  it('refuses unknown profiles and wrong key/salt lengths with SrtpError(malformed)', () => {
    assert.equal(reasonOf(() => srtpKeyLengths('NULL_HMAC_SHA1_80' as SrtpProfile)), 'malformed');
    for (const profile of PROFILES) {
      const k = keyFor(profile);
      assert.equal(reasonOf(() => new SrtpContext({ ...k, masterKey: k.masterKey.subarray(1) })), 'malformed');
      assert.equal(reasonOf(() => new SrtpContext({ ...k, masterSalt: Buffer.alloc(k.masterSalt.length + 2) })), 'malformed');
    }
    assert.equal(reasonOf(() => new SrtpContext({ ...keyFor('AEAD_AES_128_GCM'), masterSalt: Buffer.alloc(14) })), 'malformed');
  });
  it('refuses a replay window below 64', () => {
    assert.throws(() => new SrtpContext(keyFor('AEAD_AES_128_GCM'), { replayWindow: 32 }), RangeError);
    assert.doesNotThrow(() => new SrtpContext(keyFor('AEAD_AES_128_GCM'), { replayWindow: 64 }));
  });
  it('SrtpError is a catalogued CryptoFormatError', () => {
    const e = new SrtpError('replay', 'x');
    assert.ok(e instanceof CryptoFormatError && e instanceof SipherError);
    assert.equal(e.code, 'SIPHER_ERR_CRYPTO_FORMAT');
    assert.equal(e.name, 'SrtpError');
    assert.equal(e.reason, 'replay');
  });
});

for (const profile of PROFILES) {
  describe(`${profile} round trip`, () => {
    it(`tags are ${TAGS[profile].rtp} (SRTP) and ${TAGS[profile].rtcp} (SRTCP) bytes`, () => {
      const { tx } = pair(profile);
      assert.equal(tx.rtpTagLength, TAGS[profile].rtp);
      assert.equal(tx.rtcpTagLength, TAGS[profile].rtcp);
      assert.equal(tx.protectRtp(rtp(1)).length, rtp(1).length + TAGS[profile].rtp);
      const c = rtcpCompound();
      assert.equal(tx.protectRtcp(c).length, c.length + 4 + TAGS[profile].rtcp);
    });

    it('RTP with CSRCs, header extension and padding: header clear, payload encrypted', () => {
      const { tx, rx } = pair(profile);
      for (let seq = 1000; seq < 1010; seq++) {
        const plain = rtp(seq, RICH);
        const hl = rtpHeaderLen(RICH);
        const sp = tx.protectRtp(plain);
        assert.deepEqual(sp.subarray(0, hl), plain.subarray(0, hl), 'RFC 3711 §3.1: the header is not encrypted');
        assert.notDeepEqual(sp.subarray(hl, plain.length), plain.subarray(hl));
        assert.deepEqual(rx.unprotectRtp(sp), plain);
      }
    });

    it('RTP with an empty payload and with a 1400-byte payload', () => {
      const { tx, rx } = pair(profile);
      for (const [seq, payload] of [[1, Buffer.alloc(0)], [2, Buffer.alloc(1400, 0x5a)]] as const) {
        const plain = rtp(seq, { payload });
        assert.deepEqual(rx.unprotectRtp(tx.protectRtp(plain)), plain);
      }
    });

    it('RTCP compound: first 8 octets clear, E flag set, index trailer, round trip', () => {
      const { tx, rx } = pair(profile);
      const plain = rtcpCompound();
      const sp = tx.protectRtcp(plain);
      assert.deepEqual(sp.subarray(0, 8), plain.subarray(0, 8));
      assert.notDeepEqual(sp.subarray(8, plain.length), plain.subarray(8));
      const word = profile.startsWith('AEAD') ? sp.readUInt32BE(sp.length - 4) : sp.readUInt32BE(plain.length);
      assert.equal(word, 0x80000000, 'E=1, index 0');
      assert.deepEqual(rx.unprotectRtcp(sp), plain);
    });

    it('one context serves many SSRCs with independent indices', () => {
      const { tx, rx } = pair(profile);
      const ssrcs = [1, 0xdeadbeef, 0x7fffffff];
      for (let seq = 65530; seq < 65540; seq++) {
        for (const ssrc of ssrcs) {
          // Each SSRC starts at a different place in the sequence space.
          const plain = rtp(seq + (ssrc & 0xff), { ssrc });
          assert.deepEqual(rx.unprotectRtp(tx.protectRtp(plain)), plain);
        }
      }
      assert.deepEqual(rx.ssrcs().sort(), [...ssrcs].sort());
      // SSRC 1 started at 65531 and wrapped; 0xdeadbeef (+0xef) and 0x7fffffff (+0xff) started past 65535.
      assert.equal(rx.rolloverCounter(1), 1);
      assert.equal(tx.rolloverCounter(1), 1);
      assert.equal(rx.rolloverCounter(12345), undefined);
      assert.equal(rx.forgetSsrc(1), true);
      assert.equal(rx.rolloverCounter(1), undefined);
    });

    it('sender and receiver contexts must share the profile: _80 vs _32 or other key fails auth', () => {
      const { tx } = pair(profile);
      const sp = tx.protectRtp(rtp(7));
      const other = profile === 'AES_CM_128_HMAC_SHA1_80' ? 'AES_CM_128_HMAC_SHA1_32' : profile;
      const rx = new SrtpContext(other === profile ? keyFor(profile, 2) : keyFor(other));
      assert.equal(reasonOf(() => rx.unprotectRtp(sp)), 'auth');
    });
  });
}

describe('rollover counter and index estimation (RFC 3711 §3.3.1)', () => {
  for (const profile of PROFILES) {
    it(`${profile}: a sequence wrap increments the ROC and packets across it decrypt`, () => {
      const { tx, rx } = pair(profile);
      const sent = new Map<number, Buffer>();
      for (let i = 0; i < 20; i++) {
        const seq = (65525 + i) & 0xffff;
        sent.set(seq, tx.protectRtp(rtp(seq)));
      }
      assert.equal(tx.rolloverCounter(0x11223344), 1);
      // Delivered with reordering across the wrap: 0..4 first, then the late 65533..65535.
      const order = [65525, 65526, 65527, 65528, 65529, 65530, 65531, 65532, 0, 1, 2, 3, 4, 65533, 65534, 65535, 5, 6, 7, 8];
      for (const seq of order) assert.deepEqual(rx.unprotectRtp(sent.get(seq)!), rtp(seq), `seq ${seq}`);
      assert.equal(rx.rolloverCounter(0x11223344), 1);
    });
  }

  it('the ROC is part of the keystream: the same SEQ in the next rollover encrypts differently', () => {
    const tx = new SrtpContext(keyFor('AES_CM_128_HMAC_SHA1_80'));
    const first = tx.protectRtp(rtp(10, { timestamp: 1 }));
    for (let seq = 20000; seq <= 65535; seq += 20000) tx.protectRtp(rtp(seq));
    tx.protectRtp(rtp(65535));
    const again = tx.protectRtp(rtp(10, { timestamp: 1 }));
    assert.equal(tx.rolloverCounter(0x11223344), 1);
    assert.notDeepEqual(again.subarray(12), first.subarray(12));
    const rx = new SrtpContext(keyFor('AES_CM_128_HMAC_SHA1_80'));
    rx.unprotectRtp(first);
    assert.equal(reasonOf(() => rx.unprotectRtp(again)), 'replay', 'without the wrap the receiver guesses ROC 0: same index');
  });

  it('many wraps in a row keep sender and receiver in step', () => {
    const { tx, rx } = pair('AEAD_AES_128_GCM');
    for (let n = 0; n < 5 * 4; n++) {
      const seq = (n * 16384) & 0xffff;
      const plain = rtp(seq);
      assert.deepEqual(rx.unprotectRtp(tx.protectRtp(plain)), plain);
    }
    assert.equal(rx.rolloverCounter(0x11223344), 4);
  });

  it('the first packet received may carry any sequence number (ROC 0, s_l = SEQ)', () => {
    const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80');
    for (const seq of [50000, 50001, 60000, 65535, 0, 1]) {
      assert.deepEqual(rx.unprotectRtp(tx.protectRtp(rtp(seq))), rtp(seq));
    }
    assert.equal(rx.rolloverCounter(0x11223344), 1);
  });

  it('a packet estimated before rollover 0 is too old', () => {
    const k = keyFor('AES_CM_128_HMAC_SHA1_80');
    const early = new SrtpContext(k).protectRtp(rtp(65000)); // index 65000, ROC 0
    const late = new SrtpContext(k).protectRtp(rtp(100));
    const rx = new SrtpContext(k);
    rx.unprotectRtp(late);
    assert.equal(reasonOf(() => rx.unprotectRtp(early)), 'too-old');
  });
});

describe('SRTP replay protection (RFC 3711 §3.3.2)', () => {
  for (const profile of PROFILES) {
    it(`${profile}: out-of-order inside the window is accepted once, then is a replay`, () => {
      const { tx, rx } = pair(profile);
      const sent = Array.from({ length: 40 }, (_, i) => tx.protectRtp(rtp(i)));
      rx.unprotectRtp(sent[39]!);
      for (const i of [5, 30, 0, 17]) assert.deepEqual(rx.unprotectRtp(sent[i]!), rtp(i));
      for (const i of [5, 30, 0, 17, 39]) assert.equal(reasonOf(() => rx.unprotectRtp(sent[i]!)), 'replay', `seq ${i}`);
      assert.deepEqual(rx.unprotectRtp(sent[6]!), rtp(6));
    });
  }

  it('a packet left of the default 128-packet window is too old; a bigger window keeps it', () => {
    const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80');
    const sent = Array.from({ length: 301 }, (_, i) => tx.protectRtp(rtp(i)));
    rx.unprotectRtp(sent[300]!);
    assert.equal(reasonOf(() => rx.unprotectRtp(sent[172]!)), 'too-old');
    assert.deepEqual(rx.unprotectRtp(sent[173]!), rtp(173), 'highest - 127 is the oldest in the window');
    const wide = new SrtpContext(keyFor('AES_CM_128_HMAC_SHA1_80'), { replayWindow: 256 });
    wide.unprotectRtp(sent[300]!);
    assert.deepEqual(wide.unprotectRtp(sent[100]!), rtp(100));
    assert.equal(reasonOf(() => wide.unprotectRtp(sent[44]!)), 'too-old');
  });

  it('a replayed packet after a large jump forward is too old', () => {
    const { tx, rx } = pair('AEAD_AES_256_GCM');
    const a = tx.protectRtp(rtp(1));
    const b = tx.protectRtp(rtp(30000));
    rx.unprotectRtp(a);
    rx.unprotectRtp(b);
    assert.equal(reasonOf(() => rx.unprotectRtp(a)), 'too-old');
  });

  it('the sender refuses to protect an index twice unless allowRepeatTx', () => {
    const tx = new SrtpContext(keyFor('AEAD_AES_128_GCM'));
    tx.protectRtp(rtp(5));
    assert.equal(reasonOf(() => tx.protectRtp(rtp(5, { payload: Buffer.from('other payload') }))), 'replay');
    for (let s = 6; s < 300; s++) tx.protectRtp(rtp(s));
    assert.equal(reasonOf(() => tx.protectRtp(rtp(6))), 'too-old');
    const rtx = new SrtpContext(keyFor('AEAD_AES_128_GCM'), { allowRepeatTx: true });
    assert.deepEqual(rtx.protectRtp(rtp(5)), rtx.protectRtp(rtp(5)));
  });
});

describe('SRTCP index, E flag and replay window (RFC 3711 §3.4)', () => {
  for (const profile of PROFILES) {
    const aead = profile.startsWith('AEAD');
    const indexWord = (sp: Buffer): number => sp.readUInt32BE(aead ? sp.length - 4 : sp.length - 14);

    it(`${profile}: the index starts at 0 and increments per SSRC`, () => {
      const { tx, rx } = pair(profile);
      const words = Array.from({ length: 5 }, (_, i) => indexWord(tx.protectRtcp(rtcpCompound(0xaaaa, i))));
      assert.deepEqual(words, [0, 1, 2, 3, 4].map((i) => (0x80000000 | i) >>> 0));
      assert.equal(indexWord(tx.protectRtcp(rtcpCompound(0xbbbb))), 0x80000000, 'a new SSRC starts at 0');
      // Protecting the same RTCP twice gives different packets (different index, different IV).
      const x = tx.protectRtcp(rtcpCompound(0xaaaa, 9));
      const y = tx.protectRtcp(rtcpCompound(0xaaaa, 9));
      assert.notDeepEqual(x, y);
      assert.deepEqual(rx.unprotectRtcp(y), rtcpCompound(0xaaaa, 9));
      assert.deepEqual(rx.unprotectRtcp(x), rtcpCompound(0xaaaa, 9));
    });

    it(`${profile}: replayed SRTCP is refused; out-of-order once; too old beyond the window`, () => {
      const { tx, rx } = pair(profile);
      const sent = Array.from({ length: 200 }, (_, i) => tx.protectRtcp(rtcpCompound(0xaaaa, i)));
      assert.deepEqual(rx.unprotectRtcp(sent[150]!), rtcpCompound(0xaaaa, 150));
      assert.equal(reasonOf(() => rx.unprotectRtcp(sent[150]!)), 'replay');
      assert.deepEqual(rx.unprotectRtcp(sent[100]!), rtcpCompound(0xaaaa, 100));
      assert.equal(reasonOf(() => rx.unprotectRtcp(sent[100]!)), 'replay');
      assert.deepEqual(rx.unprotectRtcp(sent[199]!), rtcpCompound(0xaaaa, 199));
      assert.equal(reasonOf(() => rx.unprotectRtcp(sent[50]!)), 'too-old');
    });

    it(`${profile}: an authenticated E=0 (unencrypted) SRTCP packet is accepted as sent`, () => {
      const k = keyFor(profile);
      const t = createSrtpTransform(profile, deriveSrtpSessionKeys(profile, k.masterKey, k.masterSalt));
      const plain = rtcpCompound(0xcccc);
      const sp = t.protectRtcp(plain, 0xcccc, 7, false);
      assert.deepEqual(sp.subarray(0, plain.length), plain, 'nothing encrypted');
      const rx = new SrtpContext(k);
      assert.deepEqual(rx.unprotectRtcp(sp), plain);
      assert.equal(reasonOf(() => rx.unprotectRtcp(sp)), 'replay');
      // Flipping the E flag makes it a different (unauthentic) packet.
      const flipped = Buffer.from(t.protectRtcp(plain, 0xcccc, 8, false));
      flipped[aead ? flipped.length - 4 : plain.length] ^= 0x80;
      assert.equal(reasonOf(() => rx.unprotectRtcp(flipped)), 'auth');
    });
  }
});

describe('input the sender refuses', () => {
  const tx = new SrtpContext(keyFor('AES_CM_128_HMAC_SHA1_80'));
  it('protectRtp: not RTP v2, CSRCs or header extension beyond the packet → malformed', () => {
    const good = rtp(1, RICH);
    const v1 = Buffer.from(good); v1[0] = (v1[0]! & 0x3f) | 0x40;
    const cc = rtp(1, { payload: Buffer.alloc(0) }); cc[0] |= 0x0f;
    const ext = rtp(1, { extension: Buffer.alloc(8), payload: Buffer.alloc(0) }); ext.writeUInt16BE(3, 14);
    for (const bad of [Buffer.alloc(0), Buffer.alloc(11, 0x80), v1, cc, ext, good.subarray(0, 20)]) {
      assert.equal(reasonOf(() => tx.protectRtp(bad)), 'malformed');
    }
  });
  it('protectRtcp: shorter than 8 octets or not version 2 → malformed', () => {
    const c = rtcpCompound();
    const v0 = Buffer.from(c); v0[0] &= 0x3f;
    for (const bad of [Buffer.alloc(0), c.subarray(0, 7), v0]) assert.equal(reasonOf(() => tx.protectRtcp(bad)), 'malformed');
  });
});
