/**
 * The AEAD AES-GCM transform of RFC 7714 (`AEAD_AES_128_GCM`, `AEAD_AES_256_GCM`, 16-octet
 * tags): IV formation (§8.1, §9.1), associated data (§8.2, §9.2, §9.3) and packet layout.
 * @module
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { SrtpSessionKeys, SrtpSessionKeySet } from './key-derivation.js';
import { rolloverCounter, SEQ_MODULUS } from './packet-index.js';
import type { SrtpProfile, SrtpProfileParams } from './profiles.js';
import { RTCP_CLEAR_PREFIX, rtpHeaderLength } from './rtp-header.js';
import type { SrtpTransform, TransformFailure } from './transform.js';

const GCM_TAG = 16;
const E_FLAG = 0x80000000;

/**
 * The 12-octet SRTP IV (RFC 7714 §8.1): (00 00 || SSRC || ROC || SEQ) XOR session salt.
 */
export function gcmRtpIv(sessionSalt: Uint8Array, ssrc: number, roc: number, seq: number): Buffer {
  if (sessionSalt.length !== 12) throw new RangeError('AES-GCM session salt must be 12 bytes');
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(ssrc >>> 0, 2);
  iv.writeUInt32BE(roc >>> 0, 6);
  iv.writeUInt16BE(seq & 0xffff, 10);
  for (let i = 0; i < 12; i++) iv[i] ^= sessionSalt[i];
  return iv;
}

/**
 * The 12-octet SRTCP IV (RFC 7714 §9.1): (00 00 || SSRC || 00 00 || 0 || SRTCP index) XOR
 * session salt — the index without the E flag.
 */
export function gcmRtcpIv(sessionSalt: Uint8Array, ssrc: number, index: number): Buffer {
  if (sessionSalt.length !== 12) throw new RangeError('AES-GCM session salt must be 12 bytes');
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(ssrc >>> 0, 2);
  iv.writeUInt32BE((index & 0x7fffffff) >>> 0, 8);
  for (let i = 0; i < 12; i++) iv[i] ^= sessionSalt[i];
  return iv;
}

class Direction {
  readonly algorithm: 'aes-128-gcm' | 'aes-256-gcm';
  readonly key: Buffer;
  readonly salt: Buffer;
  constructor(keys: SrtpSessionKeys) {
    this.key = Buffer.from(keys.encryptionKey);
    this.salt = Buffer.from(keys.salt);
    this.algorithm = this.key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm';
  }

  seal(iv: Buffer, aad: readonly Uint8Array[], plaintext: Uint8Array): { ct: Buffer; tag: Buffer } {
    const c = createCipheriv(this.algorithm, this.key, iv, { authTagLength: GCM_TAG });
    c.setAAD(aad.length === 1 ? aad[0] : Buffer.concat(aad));
    const ct = plaintext.length === 0 ? Buffer.alloc(0) : c.update(plaintext);
    c.final();
    return { ct, tag: c.getAuthTag() };
  }

  open(iv: Buffer, aad: readonly Uint8Array[], ciphertext: Uint8Array, tag: Uint8Array): Buffer | null {
    try {
      const d = createDecipheriv(this.algorithm, this.key, iv, { authTagLength: GCM_TAG });
      d.setAuthTag(tag);
      d.setAAD(aad.length === 1 ? aad[0] : Buffer.concat(aad));
      const pt = ciphertext.length === 0 ? Buffer.alloc(0) : d.update(ciphertext);
      d.final();
      return pt;
    } catch {
      return null;
    }
  }
}

function esrtcpWord(index: number, encrypted: boolean): Buffer {
  const w = Buffer.allocUnsafe(4);
  w.writeUInt32BE(((encrypted ? E_FLAG : 0) | index) >>> 0, 0);
  return w;
}

/** AEAD AES-GCM per RFC 7714. */
export class AesGcmTransform implements SrtpTransform {
  /** The profile this transform implements. */
  readonly profile: SrtpProfile;
  /** RFC 7714 §14.2: 16-octet tag. */
  readonly rtpTagLength = GCM_TAG;
  /** RFC 7714 §14.2: 16-octet tag. */
  readonly rtcpTagLength = GCM_TAG;
  /** RFC 7714 §9.2: 8 clear octets, the 16-octet tag and the ESRTCP word. */
  readonly minRtcpLength = RTCP_CLEAR_PREFIX + GCM_TAG + 4;
  readonly #rtp: Direction;
  readonly #rtcp: Direction;

  /** @param p - profile parameters; @param keys - derived session keys. */
  constructor(p: SrtpProfileParams, keys: SrtpSessionKeySet) {
    this.profile = p.name;
    this.#rtp = new Direction(keys.rtp);
    this.#rtcp = new Direction(keys.rtcp);
  }

  /** RFC 7714 §9.2: the ESRTCP word follows the cipher (and tag) — it is the last 4 octets. */
  rtcpIndexOffset(length: number): number {
    return length - 4;
  }

  /** {@inheritDoc SrtpTransform.protectRtp} */
  protectRtp(packet: Uint8Array, headerLength: number, ssrc: number, index: number): Buffer {
    const iv = gcmRtpIv(this.#rtp.salt, ssrc, rolloverCounter(index), index % SEQ_MODULUS);
    // RFC 7714 §8.2: the AAD is the whole RTP header (CSRCs and extension included), the
    // plaintext the payload (RTP padding included).
    const { ct, tag } = this.#rtp.seal(iv, [packet.subarray(0, headerLength)], packet.subarray(headerLength));
    const out = Buffer.allocUnsafe(packet.length + GCM_TAG);
    out.set(packet.subarray(0, headerLength), 0);
    ct.copy(out, headerLength);
    tag.copy(out, packet.length);
    return out;
  }

  /** {@inheritDoc SrtpTransform.unprotectRtp} */
  unprotectRtp(packet: Uint8Array, ssrc: number, index: number): Buffer | TransformFailure {
    const end = packet.length - GCM_TAG;
    const headerLength = rtpHeaderLength(packet, end);
    // The header is the AAD: one that cannot fit the packet cannot be authentic.
    if (headerLength < 0) return 'auth';
    const iv = gcmRtpIv(this.#rtp.salt, ssrc, rolloverCounter(index), index % SEQ_MODULUS);
    const pt = this.#rtp.open(iv, [packet.subarray(0, headerLength)], packet.subarray(headerLength, end), packet.subarray(end));
    if (pt === null) return 'auth';
    const out = Buffer.allocUnsafe(end);
    out.set(packet.subarray(0, headerLength), 0);
    pt.copy(out, headerLength);
    return out;
  }

  /** {@inheritDoc SrtpTransform.protectRtcp} */
  protectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypt: boolean): Buffer {
    const iv = gcmRtcpIv(this.#rtcp.salt, ssrc, index);
    const word = esrtcpWord(index, encrypt);
    if (encrypt) {
      // RFC 7714 §9.2: AAD = first 8 octets || ESRTCP word; packet = 8 octets || cipher || tag || ESRTCP.
      const head = packet.subarray(0, RTCP_CLEAR_PREFIX);
      const { ct, tag } = this.#rtcp.seal(iv, [head, word], packet.subarray(RTCP_CLEAR_PREFIX));
      return Buffer.concat([head, ct, tag, word]);
    }
    // RFC 7714 §9.3: AAD = whole RTCP packet || ESRTCP word, empty plaintext.
    const { tag } = this.#rtcp.seal(iv, [packet, word], new Uint8Array(0));
    return Buffer.concat([packet, tag, word]);
  }

  /** {@inheritDoc SrtpTransform.unprotectRtcp} */
  unprotectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypted: boolean): Buffer | TransformFailure {
    const end = packet.length - 4;
    const word = packet.subarray(end);
    const tag = packet.subarray(end - GCM_TAG, end);
    const iv = gcmRtcpIv(this.#rtcp.salt, ssrc, index);
    if (encrypted) {
      const head = packet.subarray(0, RTCP_CLEAR_PREFIX);
      const pt = this.#rtcp.open(iv, [head, word], packet.subarray(RTCP_CLEAR_PREFIX, end - GCM_TAG), tag);
      if (pt === null) return 'auth';
      return Buffer.concat([head, pt]);
    }
    const body = packet.subarray(0, end - GCM_TAG);
    if (this.#rtcp.open(iv, [body, word], new Uint8Array(0), tag) === null) return 'auth';
    return Buffer.from(body);
  }
}
