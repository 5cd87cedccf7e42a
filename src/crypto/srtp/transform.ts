/**
 * The per-profile packet transform: given a packet, its SSRC and its (already estimated or
 * assigned) index, produce the protected packet or verify and recover the plain one. It holds
 * only session keys — no per-stream state; index estimation and replay protection live in
 * `SrtpContext`.
 * @module
 */
import type { SrtpProfile } from './profiles.js';

/** Outcome of a failed unprotect inside a transform. */
export type TransformFailure = 'auth' | 'malformed';

/** One profile's SRTP/SRTCP transform over fixed session keys. */
export interface SrtpTransform {
  /** The profile. */
  readonly profile: SrtpProfile;
  /** SRTP authentication tag length in bytes. */
  readonly rtpTagLength: number;
  /** SRTCP authentication tag length in bytes. */
  readonly rtcpTagLength: number;
  /** Smallest possible SRTCP packet: 8 clear bytes + E/index word + tag. */
  readonly minRtcpLength: number;
  /** Offset of the 32-bit E flag/SRTCP index word in an SRTCP packet of `length` bytes. */
  rtcpIndexOffset(length: number): number;
  /**
   * RTP → SRTP. `headerLength` is the RTP header length; `index` the 48-bit packet index.
   */
  protectRtp(packet: Uint8Array, headerLength: number, ssrc: number, index: number): Buffer;
  /**
   * SRTP → RTP (the packet is at least 12 bytes + tag). Returns `auth` when the tag does not
   * verify and `malformed` when an authentic packet's header does not fit.
   */
  unprotectRtp(packet: Uint8Array, ssrc: number, index: number): Buffer | TransformFailure;
  /** RTCP → SRTCP with the 31-bit SRTCP `index`; `encrypt` is the E flag (RFC 3711 §3.4). */
  protectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypt: boolean): Buffer;
  /** SRTCP → RTCP (the packet is at least {@link minRtcpLength}); `auth` when the tag fails. */
  unprotectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypted: boolean): Buffer | TransformFailure;
}
