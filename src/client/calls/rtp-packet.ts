/**
 * RTP packets (RFC 3550 §5.1) as the media session sends and receives them: the fixed header
 * with no CSRC or extension on the way out; CSRCs, a header extension and padding tolerated
 * on the way in. Demultiplexing of RTCP sharing the port follows RFC 5761 §4.
 * @module
 */

/** The fields of an RTP header a listener sees (RFC 3550 §5.1). */
export interface RtpHeader {
  payloadType: number;
  marker: boolean;
  /** 16-bit sequence number. */
  sequenceNumber: number;
  /** 32-bit media timestamp. */
  timestamp: number;
  /** Synchronization source. */
  ssrc: number;
}

const FIXED = 12;

/** A version-2 RTP packet: 12-byte header (no padding, extension or CSRC) and `payload`. */
export function buildRtpPacket(h: RtpHeader, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FIXED + payload.length);
  out[0] = 0x80; // V=2, P=0, X=0, CC=0
  out[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  out.writeUInt16BE(h.sequenceNumber & 0xffff, 2);
  out.writeUInt32BE(h.timestamp >>> 0, 4);
  out.writeUInt32BE(h.ssrc >>> 0, 8);
  out.set(payload, FIXED);
  return out;
}

/**
 * Header and payload of an RTP packet (after SRTP removed its tag), or undefined when it is
 * not well-formed: version 2, CSRC list and header extension inside the packet (RFC 3550
 * §5.3.1), padding count not larger than what follows the header (§5.1, P bit).
 */
export function parseRtpPacket(pkt: Buffer): { header: RtpHeader; payload: Buffer } | undefined {
  if (pkt.length < FIXED || pkt[0]! >>> 6 !== 2) return undefined;
  let off = FIXED + 4 * (pkt[0]! & 0x0f);
  if (pkt[0]! & 0x10) {
    if (off + 4 > pkt.length) return undefined;
    off += 4 + 4 * pkt.readUInt16BE(off + 2);
  }
  if (off > pkt.length) return undefined;
  let end = pkt.length;
  if (pkt[0]! & 0x20) {
    const pad = pkt[pkt.length - 1]!;
    if (pad === 0 || off + pad > pkt.length) return undefined;
    end -= pad;
  }
  return {
    header: {
      payloadType: pkt[1]! & 0x7f,
      marker: (pkt[1]! & 0x80) !== 0,
      sequenceNumber: pkt.readUInt16BE(2),
      timestamp: pkt.readUInt32BE(4),
      ssrc: pkt.readUInt32BE(8),
    },
    payload: pkt.subarray(off, end),
  };
}

/**
 * RFC 5761 §4: with RTP and RTCP on one port, a packet whose second octet is 192–223 (RTCP
 * packet types 192–223, i.e. RTP payload types 64–95 with the marker bit) is RTCP.
 */
export function looksLikeRtcp(pkt: Uint8Array): boolean {
  return pkt.length >= 8 && pkt[1]! >= 192 && pkt[1]! <= 223;
}
