/**
 * Unit tests of the pieces under SrtpContext: RFC 3711 Appendix A index estimation, the §3.3.2
 * sliding replay window, and the RTP/RTCP header parsing that locates the encrypted part.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  aesCmIv, estimateRtpIndex, isRtcpCompound, parseRtpHeader, ReplayWindow, rolloverCounter,
} from '../../../src/crypto/srtp/index.js';
import { rtcpCompound, rtp, rtpHeaderLen } from './helpers.js';

const R = 0x10000;

describe('estimateRtpIndex (RFC 3711 Appendix A)', () => {
  it('the first packet: ROC 0, index = SEQ', () => {
    assert.equal(estimateRtpIndex(-1, 0), 0);
    assert.equal(estimateRtpIndex(-1, 65535), 65535);
  });
  it('s_l < 32768: SEQ - s_l > 32768 means ROC - 1, otherwise ROC', () => {
    assert.equal(estimateRtpIndex(3 * R + 100, 100 + 32768), 3 * R + 100 + 32768, 'difference exactly 32768: same ROC');
    assert.equal(estimateRtpIndex(3 * R + 100, 100 + 32769), 2 * R + 100 + 32769);
    assert.equal(estimateRtpIndex(3 * R + 5, 65535), 2 * R + 65535, 'just before the wrap');
    assert.equal(estimateRtpIndex(3 * R + 5, 4), 3 * R + 4);
    assert.equal(estimateRtpIndex(100, 65000), 65000 - R, 'negative before rollover 0');
  });
  it('s_l >= 32768: s_l - 32768 > SEQ means ROC + 1, otherwise ROC', () => {
    assert.equal(estimateRtpIndex(2 * R + 65535, 0), 3 * R, 'the wrap');
    assert.equal(estimateRtpIndex(2 * R + 40000, 40000 - 32768), 2 * R + 40000 - 32768, 'equal: same ROC');
    assert.equal(estimateRtpIndex(2 * R + 40000, 40000 - 32769), 3 * R + 40000 - 32769);
    assert.equal(estimateRtpIndex(2 * R + 40000, 39000), 2 * R + 39000);
  });
  it('rolloverCounter', () => {
    assert.equal(rolloverCounter(0), 0);
    assert.equal(rolloverCounter(R - 1), 0);
    assert.equal(rolloverCounter(7 * R + 3), 7);
    assert.equal(rolloverCounter(0xffffffff * R + 0xffff), 0xffffffff);
  });
});

describe('ReplayWindow (RFC 3711 §3.3.2)', () => {
  it('accepts anything first, then tracks replays and the left edge', () => {
    const w = new ReplayWindow(64);
    assert.equal(w.check(1000), 'ok');
    w.accept(1000);
    assert.equal(w.check(1000), 'replay');
    assert.equal(w.check(1001), 'ok');
    assert.equal(w.check(937), 'ok', 'highest - 63 is inside');
    assert.equal(w.check(936), 'too-old', 'highest - 64 is outside');
    w.accept(990);
    assert.equal(w.check(990), 'replay');
    assert.equal(w.check(991), 'ok');
    assert.equal(w.highest, 1000);
  });
  it('sliding forward forgets what falls out and clears reused slots', () => {
    const w = new ReplayWindow(64);
    for (let i = 0; i < 64; i++) w.accept(i);
    w.accept(100); // the window is now 37..100: 37..63 seen, 64..99 not
    for (let i = 37; i < 64; i++) assert.equal(w.check(i), 'replay', `index ${i}`);
    for (let i = 64; i < 100; i++) assert.equal(w.check(i), 'ok', `index ${i}`);
    assert.equal(w.check(36), 'too-old');
    w.accept(10_000); // jump beyond the capacity
    assert.equal(w.check(9_999), 'ok');
    assert.equal(w.check(10_000 - 64), 'too-old');
  });
  it('sizes that are not a multiple of 32 work', () => {
    const w = new ReplayWindow(100);
    w.accept(200);
    assert.equal(w.check(101), 'ok');
    assert.equal(w.check(100), 'too-old');
    w.accept(101);
    assert.equal(w.check(101), 'replay');
    w.accept(210);
    assert.equal(w.check(111), 'ok');
    assert.equal(w.check(110), 'too-old');
    assert.equal(w.check(200), 'replay');
  });
  it('works at 48-bit indices', () => {
    const w = new ReplayWindow(128);
    const top = 2 ** 48 - 1;
    w.accept(top - 5);
    w.accept(top);
    assert.equal(w.check(top - 5), 'replay');
    assert.equal(w.check(top - 6), 'ok');
  });
  it('rejects sizes outside 64..32768', () => {
    for (const s of [0, 63, 32769, 64.5, Number.NaN]) assert.throws(() => new ReplayWindow(s), RangeError);
  });
});

describe('RTP/RTCP headers', () => {
  it('parseRtpHeader finds the payload after CSRCs and the header extension (RFC 3550 §5.1, §5.3.1)', () => {
    const o = { csrcs: [1, 2, 3], extension: Buffer.alloc(12), ssrc: 0xfeedface };
    const h = parseRtpHeader(rtp(513, o));
    assert.deepEqual(h, { ssrc: 0xfeedface, sequenceNumber: 513, headerLength: rtpHeaderLen(o) });
    assert.equal(rtpHeaderLen(o), 12 + 12 + 4 + 12);
    assert.equal(parseRtpHeader(rtp(1))?.headerLength, 12);
  });
  it('parseRtpHeader refuses short headers, overflowing CSRC lists/extensions and other versions', () => {
    assert.equal(parseRtpHeader(Buffer.alloc(11, 0x80)), null);
    const cc = rtp(1, { payload: Buffer.alloc(3) }); cc[0] |= 0x01;
    assert.equal(parseRtpHeader(cc), null);
    const x = rtp(1, { payload: Buffer.alloc(3) }); x[0] |= 0x10;
    assert.equal(parseRtpHeader(x), null);
    const v = rtp(1); v[0] = 0x40;
    assert.equal(parseRtpHeader(v), null);
    // The limit excludes the tag: a header that only fits thanks to the tag does not fit.
    const t = rtp(1, { extension: Buffer.alloc(4), payload: Buffer.alloc(0) });
    assert.equal(parseRtpHeader(t, t.length - 1), null);
  });
  it('isRtcpCompound walks the length fields (RFC 3550 §6.1, A.2)', () => {
    const c = rtcpCompound();
    assert.equal(isRtcpCompound(c), true);
    assert.equal(isRtcpCompound(c.subarray(0, c.length - 4)), false);
    assert.equal(isRtcpCompound(Buffer.concat([c, Buffer.alloc(4)])), false);
    const v = Buffer.from(c); v[52] = 0x01;
    assert.equal(isRtcpCompound(v), false);
  });
  it('aesCmIv places SSRC at octets 4–7 and the 48-bit index at octets 8–13 (RFC 3711 §4.1.1)', () => {
    const iv = aesCmIv(Buffer.alloc(14), 0x01020304, 0x0a0b0c0d0e0f);
    assert.equal(iv.toString('hex'), '00000000010203040a0b0c0d0e0f0000');
    const salted = aesCmIv(Buffer.alloc(14, 0xff), 0, 0);
    assert.equal(salted.toString('hex'), 'ffffffffffffffffffffffffffff0000');
  });
});
