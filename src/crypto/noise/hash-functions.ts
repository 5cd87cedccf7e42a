/**
 * Noise hash functions (Noise §4.3, §12.5–12.8): HASH, HMAC-HASH and the HKDF built from them.
 * SHA256 and SHA512 are required; BLAKE2s and BLAKE2b are offered because Node 20's OpenSSL
 * computes HMAC with them over the right block sizes (64 and 128 bytes, RFC 7693 §2.1).
 * @module
 */
import { createHash, createHmac } from 'node:crypto';

/** Hash names a Noise protocol name may carry (Noise §12). */
export type NoiseHashName = 'SHA256' | 'SHA512' | 'BLAKE2s' | 'BLAKE2b';

/** One Noise hash function: HASHLEN, BLOCKLEN and the operations §4.3 defines over it. */
export interface NoiseHashFunction {
  /** Name as it appears in a protocol name. */
  readonly name: NoiseHashName;
  /** HASHLEN: output length in bytes (32 or 64). */
  readonly hashLen: number;
  /** BLOCKLEN: block length in bytes, the HMAC block size. */
  readonly blockLen: number;
  /** HASH(data): the digest of `a || b` (`b` optional, saving a concatenation in MixHash). */
  hash(a: Uint8Array, b?: Uint8Array): Buffer;
  /** HMAC-HASH(key, data) per RFC 2104, data given as `a || b`. */
  hmac(key: Uint8Array, a: Uint8Array, b?: Uint8Array): Buffer;
  /**
   * HKDF(chaining_key, input_key_material, num_outputs) of Noise §4.3: two or three outputs of
   * HASHLEN bytes each.
   */
  hkdf(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array, numOutputs: 2 | 3): Buffer[];
}

const ONE = Buffer.from([0x01]);
const TWO = Buffer.from([0x02]);
const THREE = Buffer.from([0x03]);

function makeHash(name: NoiseHashName, nodeName: string, hashLen: number, blockLen: number): NoiseHashFunction {
  const hash = (a: Uint8Array, b?: Uint8Array): Buffer => {
    const h = createHash(nodeName).update(a);
    if (b) h.update(b);
    return h.digest();
  };
  const hmac = (key: Uint8Array, a: Uint8Array, b?: Uint8Array): Buffer => {
    const m = createHmac(nodeName, key).update(a);
    if (b) m.update(b);
    return m.digest();
  };
  return {
    name,
    hashLen,
    blockLen,
    hash,
    hmac,
    hkdf(chainingKey, inputKeyMaterial, numOutputs) {
      // Noise §4.3: temp_key = HMAC(ck, ikm); output1 = HMAC(temp_key, 0x01);
      // output2 = HMAC(temp_key, output1 || 0x02); output3 = HMAC(temp_key, output2 || 0x03).
      const tempKey = hmac(chainingKey, inputKeyMaterial);
      const out1 = hmac(tempKey, ONE);
      const out2 = hmac(tempKey, out1, TWO);
      if (numOutputs === 2) return [out1, out2];
      return [out1, out2, hmac(tempKey, out2, THREE)];
    },
  };
}

const HASHES: Readonly<Record<NoiseHashName, NoiseHashFunction>> = {
  // Noise §12.5 SHA256 and §12.6 SHA512 (FIPS 180-4); §12.7 BLAKE2s and §12.8 BLAKE2b (RFC 7693).
  SHA256: makeHash('SHA256', 'sha256', 32, 64),
  SHA512: makeHash('SHA512', 'sha512', 64, 128),
  BLAKE2s: makeHash('BLAKE2s', 'blake2s256', 32, 64),
  BLAKE2b: makeHash('BLAKE2b', 'blake2b512', 64, 128),
};

/** Names of the hash functions this implementation supports. */
export const NOISE_HASH_NAMES: readonly NoiseHashName[] = ['SHA256', 'SHA512', 'BLAKE2s', 'BLAKE2b'];

/**
 * The hash function named `name` in a Noise protocol name.
 * @throws RangeError for a hash this implementation does not support.
 */
export function noiseHashFunction(name: string): NoiseHashFunction {
  if (!Object.prototype.hasOwnProperty.call(HASHES, name)) {
    throw new RangeError(`unsupported Noise hash function "${name}" (supported: ${NOISE_HASH_NAMES.join(', ')})`);
  }
  return HASHES[name as NoiseHashName];
}
