/**
 * Hostile input to the receiving side: every single-bit flip, every truncation, wrong keys,
 * forged indices and random garbage. Only SrtpError ever escapes, with a predictable reason, and
 * a refused packet never changes the context's state (RFC 3711 §3.3: ROC, s_l and the replay
 * list are updated only after authentication).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SrtpContext, SrtpError, type SrtpProfile } from '../../../src/crypto/srtp/index.js';
import { createSeededRandom } from '../../../src/util/random.js';
import { keyFor, PROFILES, reasonOf, rtcpCompound, rtp, type RtpOptions } from './helpers.js';

const RICH: RtpOptions = {
  csrcs: [0xa1a2a3a4, 0xb1b2b3b4],
  extension: Buffer.from('0102030405060708', 'hex'),
  payload: Buffer.from('0123456789abcdef0123456789'),
};
const rx = (profile: SrtpProfile): SrtpContext => new SrtpContext(keyFor(profile));

for (const profile of PROFILES) {
  describe(`${profile}: hostile SRTP/SRTCP`, () => {
    const tx = new SrtpContext(keyFor(profile));
    const srtp = tx.protectRtp(rtp(4242, RICH));
    const srtcp = tx.protectRtcp(rtcpCompound(0x11223344, 3));
    const minRtp = 12 + tx.rtpTagLength;
    const minRtcp = profile.startsWith('AEAD') ? 8 + 16 + 4 : 8 + 4 + 10;

    it('any single flipped bit of an SRTP packet → auth', () => {
      for (let bit = 0; bit < srtp.length * 8; bit++) {
        const bad = Buffer.from(srtp);
        bad[bit >>> 3] ^= 0x80 >>> (bit & 7);
        assert.equal(reasonOf(() => rx(profile).unprotectRtp(bad)), 'auth', `bit ${bit}`);
      }
    });

    it('any single flipped bit of an SRTCP packet → auth', () => {
      for (let bit = 0; bit < srtcp.length * 8; bit++) {
        const bad = Buffer.from(srtcp);
        bad[bit >>> 3] ^= 0x80 >>> (bit & 7);
        assert.equal(reasonOf(() => rx(profile).unprotectRtcp(bad)), 'auth', `bit ${bit}`);
      }
    });

    it(`SRTP truncated below ${minRtp} bytes → malformed, otherwise → auth`, () => {
      for (let len = 0; len < srtp.length; len++) {
        const want = len < minRtp ? 'malformed' : 'auth';
        assert.equal(reasonOf(() => rx(profile).unprotectRtp(srtp.subarray(0, len))), want, `length ${len}`);
      }
    });

    it(`SRTCP truncated below ${minRtcp} bytes → malformed, otherwise → auth`, () => {
      for (let len = 0; len < srtcp.length; len++) {
        const want = len < minRtcp ? 'malformed' : 'auth';
        assert.equal(reasonOf(() => rx(profile).unprotectRtcp(srtcp.subarray(0, len))), want, `length ${len}`);
      }
    });

    it('a wrong master key or master salt → auth', () => {
      const k = keyFor(profile);
      const wrongKey = Buffer.from(k.masterKey); wrongKey[0] ^= 1;
      const wrongSalt = Buffer.from(k.masterSalt); wrongSalt[wrongSalt.length - 1] ^= 1;
      for (const bad of [new SrtpContext({ ...k, masterKey: wrongKey }), new SrtpContext({ ...k, masterSalt: wrongSalt })]) {
        assert.equal(reasonOf(() => bad.unprotectRtp(srtp)), 'auth');
        assert.equal(reasonOf(() => bad.unprotectRtcp(srtcp)), 'auth');
      }
    });

    it('SRTP is not SRTCP: each refuses the other', () => {
      assert.equal(reasonOf(() => rx(profile).unprotectRtcp(srtp)), 'auth');
      assert.equal(reasonOf(() => rx(profile).unprotectRtp(srtcp)), 'auth');
    });

    it('refused packets leave the state untouched', () => {
      const r = rx(profile);
      const t = new SrtpContext(keyFor(profile));
      r.unprotectRtp(t.protectRtp(rtp(40000)));
      // A forgery that would move the ROC forward (seq 100 after 40000 is read as ROC + 1) and
      // slide the window away from 40000.
      const other = new SrtpContext(keyFor(profile));
      other.protectRtp(rtp(40000));
      const forged = Buffer.from(other.protectRtp(rtp(100)));
      forged[forged.length - 1] ^= 1;
      assert.equal(reasonOf(() => r.unprotectRtp(forged)), 'auth');
      assert.equal(r.rolloverCounter(0x11223344), 0);
      const late = t.protectRtp(rtp(40001));
      const early = new SrtpContext(keyFor(profile)).protectRtp(rtp(39990));
      assert.deepEqual(r.unprotectRtp(late), rtp(40001));
      assert.deepEqual(r.unprotectRtp(early), rtp(39990), 'still inside the window');
      // The same for SRTCP: a forged high index does not make index 1 too old.
      const c0 = t.protectRtcp(rtcpCompound());
      const c1 = t.protectRtcp(rtcpCompound());
      r.unprotectRtcp(c0);
      const forgedRtcp = Buffer.from(c1);
      const off = profile.startsWith('AEAD') ? forgedRtcp.length - 4 : forgedRtcp.length - 14;
      forgedRtcp.writeUInt32BE((0x80000000 | 5000) >>> 0, off);
      assert.equal(reasonOf(() => r.unprotectRtcp(forgedRtcp)), 'auth');
      assert.deepEqual(r.unprotectRtcp(c1), rtcpCompound());
      // Nothing is learned about unknown SSRCs from unauthentic packets.
      const stranger = Buffer.from(srtp); stranger.writeUInt32BE(0x99999999, 8);
      assert.equal(reasonOf(() => r.unprotectRtp(stranger)), 'auth');
      assert.deepEqual(r.ssrcs(), [0x11223344]);
    });

    it('random garbage only ever raises SrtpError', () => {
      const rnd = createSeededRandom(PROFILES.indexOf(profile) + 7);
      const r = rx(profile);
      r.unprotectRtp(srtp);
      r.unprotectRtcp(srtcp);
      for (let i = 0; i < 400; i++) {
        const len = rnd.bytes(1)[0]! % 80;
        const g = rnd.bytes(len);
        if (i % 2 === 0 && len >= 12) { g[0] = 0x80 | (g[0]! & 0x3f); g.writeUInt32BE(0x11223344, 8); }
        for (const fn of [() => r.unprotectRtp(g), () => r.unprotectRtcp(g)]) {
          assert.throws(fn, (e: unknown) => e instanceof SrtpError && ['malformed', 'auth', 'replay', 'too-old'].includes(e.reason));
        }
      }
    });

    it('a non-byte-array argument raises SrtpError(malformed)', () => {
      for (const v of [undefined, null, 'string', 42, [0x80, 0, 0, 1]]) {
        assert.equal(reasonOf(() => rx(profile).unprotectRtp(v as unknown as Uint8Array)), 'malformed');
        assert.equal(reasonOf(() => rx(profile).unprotectRtcp(v as unknown as Uint8Array)), 'malformed');
        assert.equal(reasonOf(() => tx.protectRtp(v as unknown as Uint8Array)), 'malformed');
        assert.equal(reasonOf(() => tx.protectRtcp(v as unknown as Uint8Array)), 'malformed');
      }
    });
  });
}
