/**
 * AES in Counter Mode as SRTP uses it (RFC 3711 §4.1.1): the keystream is
 * E(k, IV) || E(k, IV + 1 mod 2^128) || E(k, IV + 2 mod 2^128) || …, XORed onto the data.
 * One AES-ECB cipher object is kept per key and fed all counter blocks of a packet in a single
 * `update` call, so no cipher is created (and no key schedule run) per packet.
 * @module
 */
import { createCipheriv, type Cipher } from 'node:crypto';

/** AES block size in bytes. */
export const AES_BLOCK = 16;

/** An AES-CM keystream generator for one key (AES-128 or AES-256 by key length). */
export class AesCm {
  readonly #ecb: Cipher;
  #counters: Buffer = Buffer.alloc(0);

  /**
   * @param key - 16-byte (AES-128) or 32-byte (AES-256) key.
   * @throws RangeError for any other key length.
   */
  constructor(key: Uint8Array) {
    if (key.length !== 16 && key.length !== 32) throw new RangeError(`AES-CM key must be 16 or 32 bytes, not ${key.length}`);
    this.#ecb = createCipheriv(key.length === 16 ? 'aes-128-ecb' : 'aes-256-ecb', key, null);
    // ECB over whole counter blocks only: nothing is ever buffered, so the object is reusable.
    this.#ecb.setAutoPadding(false);
  }

  /**
   * `length` bytes of keystream starting at the 16-byte counter block `iv` (RFC 3711 §4.1.1).
   * The counter is incremented as a 128-bit big-endian integer.
   */
  keystream(iv: Uint8Array, length: number): Buffer {
    if (iv.length !== AES_BLOCK) throw new RangeError('AES-CM IV must be 16 bytes');
    if (length <= 0) return Buffer.alloc(0);
    const blocks = Math.ceil(length / AES_BLOCK);
    const bytes = blocks * AES_BLOCK;
    if (this.#counters.length < bytes) this.#counters = Buffer.allocUnsafe(Math.max(bytes, 2 * this.#counters.length));
    const c = this.#counters;
    const low = ((iv[12] << 24) | (iv[13] << 16) | (iv[14] << 8) | iv[15]) >>> 0;
    for (let j = 0; j < blocks; j++) {
      const o = j * AES_BLOCK;
      c.set(iv, o);
      const sum = low + j;
      c.writeUInt32BE(sum >>> 0, o + 12);
      if (sum > 0xffffffff) {
        // Carry into the upper 96 bits (never happens for SRTP IVs, whose low 16 bits are zero).
        for (let k = o + 11; k >= o; k--) {
          c[k] = (c[k] + 1) & 0xff;
          if (c[k] !== 0) break;
        }
      }
    }
    const ks = this.#ecb.update(c.subarray(0, bytes));
    return length === bytes ? ks : ks.subarray(0, length);
  }

  /** XORs the keystream starting at counter block `iv` onto `data[start, end)` in place. */
  xorInPlace(iv: Uint8Array, data: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    const ks = this.keystream(iv, n);
    for (let i = 0; i < n; i++) data[start + i] ^= ks[i];
  }
}

/**
 * The AES-CM IV of an SRTP or SRTCP packet (RFC 3711 §4.1.1):
 * IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), where i is the 48-bit SRTP packet index
 * (or the 31-bit SRTCP index, §3.4) and k_s the 112-bit session salt.
 */
export function aesCmIv(sessionSalt: Uint8Array, ssrc: number, index: number): Buffer {
  if (sessionSalt.length !== 14) throw new RangeError('AES-CM session salt must be 14 bytes');
  const iv = Buffer.alloc(AES_BLOCK);
  iv.set(sessionSalt, 0);
  iv[4] ^= ssrc >>> 24;
  iv[5] ^= (ssrc >>> 16) & 0xff;
  iv[6] ^= (ssrc >>> 8) & 0xff;
  iv[7] ^= ssrc & 0xff;
  const hi = Math.floor(index / 0x100000000);
  const lo = index >>> 0;
  iv[8] ^= (hi >>> 8) & 0xff;
  iv[9] ^= hi & 0xff;
  iv[10] ^= lo >>> 24;
  iv[11] ^= (lo >>> 16) & 0xff;
  iv[12] ^= (lo >>> 8) & 0xff;
  iv[13] ^= lo & 0xff;
  return iv;
}
