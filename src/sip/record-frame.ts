/**
 * Framing of SA records among SIP messages (docs/protocol.md §3.2). A record starts with
 * the byte 0xD3, which no SIP message, STUN packet (RFC 7983: 0–3), RTP packet (128–191) or
 * CRLF keep-alive can start with, so one socket carries both; its 24-byte header ends with
 * the length of what follows. The record's content is the SA layer's business
 * (`security/sa/record.ts`); this file only tells where a record ends on a stream.
 * @module
 */

/** First byte of every SA record. */
export const RECORD_MAGIC = 0xd3;
/** Length of the record header. */
export const RECORD_HEADER_LENGTH = 24;
/** Offset of the big-endian 16-bit length of the sealed part that follows the header. */
export const RECORD_LENGTH_OFFSET = 22;

/** True if `buf` (at `off`) starts an SA record rather than SIP text. */
export function isRecordStart(buf: Uint8Array, off = 0): boolean {
  return buf.length > off && buf[off] === RECORD_MAGIC;
}

/**
 * Total length of the record starting at `off`, or `undefined` while its header is
 * incomplete.
 */
export function recordFrameLength(buf: Buffer, off = 0): number | undefined {
  if (buf.length - off < RECORD_HEADER_LENGTH) return undefined;
  return RECORD_HEADER_LENGTH + buf.readUInt16BE(off + RECORD_LENGTH_OFFSET);
}
