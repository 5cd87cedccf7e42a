/** Packet builders and key material shared by the SRTP tests. */
import type { SrtpKeyMaterial, SrtpProfile } from '../../../src/crypto/srtp/index.js';
import { srtpKeyLengths } from '../../../src/crypto/srtp/index.js';

/** Every supported profile. */
export const PROFILES: readonly SrtpProfile[] = [
  'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AEAD_AES_128_GCM', 'AEAD_AES_256_GCM',
];

/** Deterministic key material of the right lengths for `profile`; `seed` varies it. */
export function keyFor(profile: SrtpProfile, seed = 1): SrtpKeyMaterial {
  const { masterKey, masterSalt } = srtpKeyLengths(profile);
  return {
    profile,
    masterKey: Buffer.from(Array.from({ length: masterKey }, (_, i) => (i * 7 + seed * 31) & 0xff)),
    masterSalt: Buffer.from(Array.from({ length: masterSalt }, (_, i) => (i * 13 + seed * 17 + 5) & 0xff)),
  };
}

/** Options of {@link rtp}. */
export interface RtpOptions {
  ssrc?: number;
  csrcs?: number[];
  /** Header extension data (a multiple of 4 bytes); profile-defined field 0xBEDE. */
  extension?: Buffer;
  payload?: Buffer;
  /** RTP padding octets (P bit, last octet is the count). */
  padding?: number;
  marker?: boolean;
  payloadType?: number;
  timestamp?: number;
}

/** An RTP packet (RFC 3550 §5.1). */
export function rtp(seq: number, o: RtpOptions = {}): Buffer {
  const csrcs = o.csrcs ?? [];
  const ext = o.extension;
  const payload = o.payload ?? Buffer.from(`payload for sequence number ${seq}`);
  const pad = o.padding ?? 0;
  const head = Buffer.alloc(12 + 4 * csrcs.length);
  head[0] = 0x80 | (pad > 0 ? 0x20 : 0) | (ext ? 0x10 : 0) | csrcs.length;
  head[1] = (o.marker ? 0x80 : 0) | ((o.payloadType ?? 96) & 0x7f);
  head.writeUInt16BE(seq & 0xffff, 2);
  head.writeUInt32BE((o.timestamp ?? seq * 160) >>> 0, 4);
  head.writeUInt32BE((o.ssrc ?? 0x11223344) >>> 0, 8);
  csrcs.forEach((c, i) => head.writeUInt32BE(c >>> 0, 12 + 4 * i));
  const parts: Buffer[] = [head];
  if (ext) {
    const eh = Buffer.alloc(4);
    eh.writeUInt16BE(0xbede, 0);
    eh.writeUInt16BE(ext.length / 4, 2);
    parts.push(eh, ext);
  }
  parts.push(payload);
  if (pad > 0) {
    const p = Buffer.alloc(pad);
    p[pad - 1] = pad;
    parts.push(p);
  }
  return Buffer.concat(parts);
}

/** The RTP header length of a packet built by {@link rtp}. */
export function rtpHeaderLen(o: RtpOptions = {}): number {
  return 12 + 4 * (o.csrcs?.length ?? 0) + (o.extension ? 4 + o.extension.length : 0);
}

/** A compound RTCP packet: SR (one report block) + SDES CNAME + BYE, all from `ssrc`. */
export function rtcpCompound(ssrc = 0x11223344, tag = 0): Buffer {
  const sr = Buffer.alloc(52);
  sr[0] = 0x81; sr[1] = 200; sr.writeUInt16BE(52 / 4 - 1, 2); sr.writeUInt32BE(ssrc >>> 0, 4);
  sr.writeUInt32BE(0xe1234567, 8); sr.writeUInt32BE((0x89abcdef ^ tag) >>> 0, 12); sr.writeUInt32BE(160 * tag, 16);
  sr.writeUInt32BE(tag, 20); sr.writeUInt32BE(tag * 100, 24);
  sr.writeUInt32BE(0x55667788, 28); // report block SSRC
  const cname = Buffer.from('user@example.com');
  const sdesLen = Math.ceil((4 + 4 + 2 + cname.length + 1) / 4) * 4;
  const sdes = Buffer.alloc(sdesLen);
  sdes[0] = 0x81; sdes[1] = 202; sdes.writeUInt16BE(sdesLen / 4 - 1, 2); sdes.writeUInt32BE(ssrc >>> 0, 4);
  sdes[8] = 1; sdes[9] = cname.length; cname.copy(sdes, 10);
  const bye = Buffer.alloc(8);
  bye[0] = 0x81; bye[1] = 203; bye.writeUInt16BE(1, 2); bye.writeUInt32BE(ssrc >>> 0, 4);
  return Buffer.concat([sr, sdes, bye]);
}

/** Runs `fn` and returns the SrtpError reason it throws, or 'none'. Rethrows anything else. */
export function reasonOf(fn: () => unknown): string {
  try {
    fn();
    return 'none';
  } catch (e) {
    if (e instanceof Error && e.name === 'SrtpError' && 'reason' in e) return String(e.reason);
    throw e;
  }
}
