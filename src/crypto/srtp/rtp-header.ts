/**
 * Just enough RTP (RFC 3550 §5.1, §5.3.1) and RTCP (RFC 3550 §6.4.1, §6.1 compound packets)
 * parsing for SRTP: where the RTP payload — the part SRTP encrypts (RFC 3711 §3.1) — starts,
 * and the SSRC/sequence number that select the cryptographic context (RFC 3711 §3.2.3).
 * @module
 */

/** RTP fixed header length in bytes (RFC 3550 §5.1). */
export const RTP_FIXED_HEADER = 12;
/** RTCP bytes SRTCP leaves in the clear: header word and sender SSRC (RFC 3711 §3.4). */
export const RTCP_CLEAR_PREFIX = 8;

/** The fields of an RTP header SRTP needs. */
export interface RtpHeaderInfo {
  /** Synchronization source (RFC 3550 §5.1). */
  readonly ssrc: number;
  /** 16-bit sequence number. */
  readonly sequenceNumber: number;
  /** Header length in bytes: 12 + 4·CC + the header extension if X is set (RFC 3550 §5.3.1). */
  readonly headerLength: number;
}

/** RTP version (the two high bits of octet 0). */
export function rtpVersion(packet: Uint8Array): number {
  return packet.length === 0 ? -1 : packet[0] >>> 6;
}

/** The SSRC at octets 8–11 of an RTP packet of at least 12 bytes. */
export function rtpSsrc(packet: Uint8Array): number {
  return ((packet[8] << 24) | (packet[9] << 16) | (packet[10] << 8) | packet[11]) >>> 0;
}

/** The sequence number at octets 2–3 of an RTP packet. */
export function rtpSequenceNumber(packet: Uint8Array): number {
  return (packet[2] << 8) | packet[3];
}

/**
 * The RTP header length of `packet` considering only its first `limit` bytes (the SRTP packet
 * without its authentication tag), or -1 when the CSRC list or header extension does not fit.
 * The version is not checked here.
 */
export function rtpHeaderLength(packet: Uint8Array, limit: number = packet.length): number {
  if (limit < RTP_FIXED_HEADER) return -1;
  const cc = packet[0] & 0x0f;
  let len = RTP_FIXED_HEADER + 4 * cc;
  if (packet[0] & 0x10) {
    // RFC 3550 §5.3.1: 16-bit profile-defined field, 16-bit length in 32-bit words (excluding
    // the 4-octet extension header), then the extension data.
    if (len + 4 > limit) return -1;
    len += 4 + 4 * ((packet[len + 2] << 8) | packet[len + 3]);
  }
  return len > limit ? -1 : len;
}

/**
 * Parses the RTP header of `packet` (version 2 required), considering only its first `limit`
 * bytes, or returns null if it is not a well-formed RTP header.
 */
export function parseRtpHeader(packet: Uint8Array, limit: number = packet.length): RtpHeaderInfo | null {
  if (rtpVersion(packet) !== 2) return null;
  const headerLength = rtpHeaderLength(packet, limit);
  if (headerLength < 0) return null;
  return { ssrc: rtpSsrc(packet), sequenceNumber: rtpSequenceNumber(packet), headerLength };
}

/** The sender SSRC at octets 4–7 of an RTCP packet of at least 8 bytes. */
export function rtcpSsrc(packet: Uint8Array): number {
  return ((packet[4] << 24) | (packet[5] << 16) | (packet[6] << 8) | packet[7]) >>> 0;
}

/**
 * Whether `packet` is a well-formed RTCP compound packet (RFC 3550 §6.1, Appendix A.2): one or
 * more RTCP packets, each version 2 with a length field (in 32-bit words minus one) that fits,
 * together exactly filling `packet`. The first packet type is not restricted to SR/RR, so
 * reduced-size RTCP (RFC 5506) is accepted.
 */
export function isRtcpCompound(packet: Uint8Array): boolean {
  if (packet.length < RTCP_CLEAR_PREFIX) return false;
  let off = 0;
  while (off < packet.length) {
    if (off + 4 > packet.length) return false;
    if (packet[off] >>> 6 !== 2) return false;
    const words = ((packet[off + 2] << 8) | packet[off + 3]) + 1;
    off += 4 * words;
  }
  return off === packet.length;
}
