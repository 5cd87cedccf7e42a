/**
 * The SA record (docs/protocol.md §3.2; SPEC SA-4, SA-8): a whole SIP message sealed into one
 * binary unit. Header (24 bytes, all of it associated data):
 *
 * ```
 *  0      magic 0xD3
 *  1      version 1 (high nibble) | type 1 = whole message (low nibble)
 *  2..9   SA id
 *  10..13 key generation, u32 BE
 *  14..21 sequence number, u64 BE (< 2^53)
 *  22..23 length of the sealed part, u16 BE
 *  24..   AEAD(ciphertext ‖ 16-byte tag)
 * ```
 *
 * The nonce is 4 zero bytes ‖ the sequence number (u64 BE); each direction has its own key
 * (generation.ts), so a (key, nonce) pair never repeats.
 * @module
 */
import { RECORD_HEADER_LENGTH, RECORD_LENGTH_OFFSET, RECORD_MAGIC } from '../../sip/record-frame.js';
import { AEAD_NONCE_LENGTH, AEAD_TAG_LENGTH } from '../../crypto/aead-rules.js';

/** Version ‖ type byte of a whole-message record. */
export const RECORD_WHOLE = 0x11;
/** Length of an SA id. */
export const SA_ID_LENGTH = 8;
/** Largest sealed part (the u16 length field). */
export const MAX_SEALED = 0xffff;

/** The header fields of a record, read without allocating more than the id string. */
export interface RecordHeader {
  saId: string;
  generation: number;
  seq: number;
  /** The 24 header bytes (a view): the associated data. */
  aad: Buffer;
  /** The sealed part (a view). */
  sealed: Buffer;
}

/**
 * Parses and sanity-checks a record header: the cheap rejection before any lookup or AEAD.
 * Returns `undefined` for anything that is not a well-formed version-1 whole record.
 */
export function readRecordHeader(buf: Buffer): RecordHeader | undefined {
  if (buf.length < RECORD_HEADER_LENGTH + AEAD_TAG_LENGTH || buf[0] !== RECORD_MAGIC || buf[1] !== RECORD_WHOLE) return undefined;
  const len = buf.readUInt16BE(RECORD_LENGTH_OFFSET);
  if (len !== buf.length - RECORD_HEADER_LENGTH || len < AEAD_TAG_LENGTH) return undefined;
  const hi = buf.readUInt32BE(14);
  if (hi > 0x1fffff) return undefined; // beyond 2^53
  return {
    saId: buf.toString('hex', 2, 10),
    generation: buf.readUInt32BE(10),
    seq: hi * 0x1_0000_0000 + buf.readUInt32BE(18),
    aad: buf.subarray(0, RECORD_HEADER_LENGTH),
    sealed: buf.subarray(RECORD_HEADER_LENGTH),
  };
}

/** Writes a record header for a sealed part of `sealedLength` bytes into a new buffer of the full record size. */
export function allocRecord(saId: Buffer, generation: number, seq: number, sealedLength: number): Buffer {
  if (sealedLength > MAX_SEALED) throw new RangeError('record too large');
  const out = Buffer.allocUnsafe(RECORD_HEADER_LENGTH + sealedLength);
  out[0] = RECORD_MAGIC;
  out[1] = RECORD_WHOLE;
  saId.copy(out, 2, 0, SA_ID_LENGTH);
  out.writeUInt32BE(generation, 10);
  out.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), 14);
  out.writeUInt32BE(seq >>> 0, 18);
  out.writeUInt16BE(sealedLength, RECORD_LENGTH_OFFSET);
  return out;
}

/** The AEAD nonce for `seq` (RFC 5116 §3.2 style: fixed zero prefix ‖ counter). */
export function recordNonce(seq: number): Buffer {
  const n = Buffer.alloc(AEAD_NONCE_LENGTH);
  n.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), 4);
  n.writeUInt32BE(seq >>> 0, 8);
  return n;
}
