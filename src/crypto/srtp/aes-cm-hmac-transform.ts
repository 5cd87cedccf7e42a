/**
 * The AES-CM + HMAC-SHA1 transform (RFC 3711 §4.1.1 encryption, §4.2.1 authentication) of the
 * `AES_CM_128_HMAC_SHA1_80` and `AES_CM_128_HMAC_SHA1_32` profiles.
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AesCm, aesCmIv } from './aes-cm.js';
import type { SrtpSessionKeys, SrtpSessionKeySet } from './key-derivation.js';
import { rolloverCounter } from './packet-index.js';
import type { SrtpProfile, SrtpProfileParams } from './profiles.js';
import { RTCP_CLEAR_PREFIX, rtpHeaderLength } from './rtp-header.js';
import type { SrtpTransform, TransformFailure } from './transform.js';

const E_FLAG = 0x80000000;

class Direction {
  readonly cm: AesCm;
  readonly salt: Buffer;
  readonly authKey: Buffer;
  constructor(keys: SrtpSessionKeys) {
    this.cm = new AesCm(keys.encryptionKey);
    this.salt = Buffer.from(keys.salt);
    this.authKey = Buffer.from(keys.authKey);
  }

  /** HMAC-SHA1 over `data` (|| `roc` for SRTP, RFC 3711 §4.2), full 20 bytes. */
  mac(data: Uint8Array, roc?: number): Buffer {
    const h = createHmac('sha1', this.authKey).update(data);
    if (roc !== undefined) {
      const r = Buffer.allocUnsafe(4);
      r.writeUInt32BE(roc >>> 0, 0);
      h.update(r);
    }
    return h.digest();
  }
}

/** AES-CM encryption with truncated HMAC-SHA1 authentication. */
export class AesCmHmacTransform implements SrtpTransform {
  /** The profile this transform implements. */
  readonly profile: SrtpProfile;
  /** SRTP tag length: 10 or 4 bytes (RFC 4568 §6.2). */
  readonly rtpTagLength: number;
  /** SRTCP tag length: always 10 bytes (RFC 3711 §5.2). */
  readonly rtcpTagLength: number;
  /** 8 clear octets + E/index word + 10-byte tag. */
  readonly minRtcpLength: number;
  readonly #rtp: Direction;
  readonly #rtcp: Direction;

  /** @param p - profile parameters; @param keys - derived session keys. */
  constructor(p: SrtpProfileParams, keys: SrtpSessionKeySet) {
    this.profile = p.name;
    this.rtpTagLength = p.rtpTagLength;
    this.rtcpTagLength = p.rtcpTagLength;
    this.minRtcpLength = RTCP_CLEAR_PREFIX + 4 + p.rtcpTagLength;
    this.#rtp = new Direction(keys.rtp);
    this.#rtcp = new Direction(keys.rtcp);
  }

  /** RFC 3711 §3.4: the E/index word sits right before the (absent) MKI and the tag. */
  rtcpIndexOffset(length: number): number {
    return length - this.rtcpTagLength - 4;
  }

  /** {@inheritDoc SrtpTransform.protectRtp} */
  protectRtp(packet: Uint8Array, headerLength: number, ssrc: number, index: number): Buffer {
    const len = packet.length;
    const out = Buffer.allocUnsafe(len + this.rtpTagLength);
    out.set(packet, 0);
    // RFC 3711 §3.1: only the payload (incl. RTP padding) is encrypted.
    this.#rtp.cm.xorInPlace(aesCmIv(this.#rtp.salt, ssrc, index), out, headerLength, len);
    // RFC 3711 §4.2: tag = first n_tag bytes of HMAC(k_a, authenticated portion || ROC).
    this.#rtp.mac(out.subarray(0, len), rolloverCounter(index)).copy(out, len, 0, this.rtpTagLength);
    return out;
  }

  /** {@inheritDoc SrtpTransform.unprotectRtp} */
  unprotectRtp(packet: Uint8Array, ssrc: number, index: number): Buffer | TransformFailure {
    const end = packet.length - this.rtpTagLength;
    // RFC 3711 §3.3 step 5: authenticate before decrypting (and before trusting the header).
    const mac = this.#rtp.mac(packet.subarray(0, end), rolloverCounter(index));
    if (!timingSafeEqual(mac.subarray(0, this.rtpTagLength), packet.subarray(end))) return 'auth';
    const headerLength = rtpHeaderLength(packet, end);
    if (headerLength < 0) return 'malformed';
    const out = Buffer.allocUnsafe(end);
    out.set(packet.subarray(0, end), 0);
    this.#rtp.cm.xorInPlace(aesCmIv(this.#rtp.salt, ssrc, index), out, headerLength, end);
    return out;
  }

  /** {@inheritDoc SrtpTransform.protectRtcp} */
  protectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypt: boolean): Buffer {
    const len = packet.length;
    const out = Buffer.allocUnsafe(len + 4 + this.rtcpTagLength);
    out.set(packet, 0);
    // RFC 3711 §3.4: everything after the first 8 octets is encrypted, with the SRTCP index
    // as the packet index of the §4.1.1 IV.
    if (encrypt) this.#rtcp.cm.xorInPlace(aesCmIv(this.#rtcp.salt, ssrc, index), out, RTCP_CLEAR_PREFIX, len);
    out.writeUInt32BE(((encrypt ? E_FLAG : 0) | index) >>> 0, len);
    // RFC 3711 §3.4: the authenticated portion ends with the E flag and index; no ROC.
    this.#rtcp.mac(out.subarray(0, len + 4)).copy(out, len + 4, 0, this.rtcpTagLength);
    return out;
  }

  /** {@inheritDoc SrtpTransform.unprotectRtcp} */
  unprotectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypted: boolean): Buffer | TransformFailure {
    const end = packet.length - this.rtcpTagLength;
    const mac = this.#rtcp.mac(packet.subarray(0, end));
    if (!timingSafeEqual(mac.subarray(0, this.rtcpTagLength), packet.subarray(end))) return 'auth';
    const plainEnd = end - 4;
    const out = Buffer.allocUnsafe(plainEnd);
    out.set(packet.subarray(0, plainEnd), 0);
    if (encrypted) this.#rtcp.cm.xorInPlace(aesCmIv(this.#rtcp.salt, ssrc, index), out, RTCP_CLEAR_PREFIX, plainEnd);
    return out;
  }
}
