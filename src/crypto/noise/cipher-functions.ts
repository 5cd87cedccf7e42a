/**
 * Noise cipher functions (Noise §4.2, §12.3, §12.4): ChaChaPoly (AEAD_CHACHA20_POLY1305,
 * RFC 8439 §2.8) and AESGCM (AES-256-GCM, NIST SP 800-38D), both with 32-byte keys and
 * 16-byte tags, over `node:crypto`. The only Noise-specific part is how the 64-bit counter `n`
 * becomes the 96-bit AEAD nonce, and REKEY.
 * @module
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { HandshakeError } from '../../errors.js';

/** Cipher names a Noise protocol name may carry (Noise §12). */
export type NoiseCipherName = 'ChaChaPoly' | 'AESGCM';

/** Cipher key length in bytes (Noise §4.2: "k" is 32 bytes). */
export const NOISE_KEY_LENGTH = 32;
/** AEAD authentication tag length in bytes (Noise §4.2: 16 bytes). */
export const NOISE_TAG_LENGTH = 16;
/** Noise §5.1: the nonce value 2^64-1 is reserved and never used to encrypt. */
export const NOISE_MAX_NONCE = 0xffffffffffffffffn;

/** One Noise cipher function: ENCRYPT, DECRYPT and REKEY of Noise §4.2. */
export interface NoiseCipherFunction {
  /** Name as it appears in a protocol name. */
  readonly name: NoiseCipherName;
  /**
   * The 12-byte AEAD nonce for the Noise nonce `n`: 32 zero bits then the 64-bit counter,
   * little-endian for ChaChaPoly (§12.3), big-endian for AESGCM (§12.4).
   * @throws RangeError when `n` is not in 0..2^64-1.
   */
  nonce(n: bigint): Buffer;
  /** ENCRYPT(k, n, ad, plaintext): ciphertext with the 16-byte tag appended. */
  encrypt(key: Uint8Array, n: bigint, ad: Uint8Array, plaintext: Uint8Array): Buffer;
  /**
   * DECRYPT(k, n, ad, ciphertext).
   * @throws HandshakeError when the ciphertext is shorter than a tag or fails authentication.
   */
  decrypt(key: Uint8Array, n: bigint, ad: Uint8Array, ciphertext: Uint8Array): Buffer;
  /** The bare AEAD with an explicit 12-byte nonce (for primitive test vectors). */
  seal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Buffer;
  /**
   * The bare AEAD open with an explicit 12-byte nonce.
   * @throws HandshakeError on a short or unauthentic ciphertext.
   */
  open(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Buffer;
  /** REKEY(k) of Noise §4.2: the first 32 bytes of ENCRYPT(k, 2^64-1, zerolen, zeros[32]). */
  rekey(key: Uint8Array): Buffer;
}

const ZEROS_32 = Buffer.alloc(32);
const EMPTY = Buffer.alloc(0);

function checkKey(key: Uint8Array): void {
  if (key.length !== NOISE_KEY_LENGTH) throw new RangeError(`Noise cipher key must be ${NOISE_KEY_LENGTH} bytes, got ${key.length}`);
}

function makeCipher(name: NoiseCipherName, algorithm: 'chacha20-poly1305' | 'aes-256-gcm', littleEndian: boolean): NoiseCipherFunction {
  const nonce = (n: bigint): Buffer => {
    const iv = Buffer.alloc(12);
    // Noise §12.3 / §12.4: 4 zero bytes, then the 8-byte counter.
    if (littleEndian) iv.writeBigUInt64LE(n, 4);
    else iv.writeBigUInt64BE(n, 4);
    return iv;
  };
  const seal = (key: Uint8Array, iv: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Buffer => {
    checkKey(key);
    // The overloads differ only in the literal algorithm type; both take authTagLength.
    const c = createCipheriv(algorithm as 'aes-256-gcm', key, iv, { authTagLength: NOISE_TAG_LENGTH });
    c.setAAD(ad);
    const body = c.update(plaintext);
    c.final();
    return Buffer.concat([body, c.getAuthTag()], body.length + NOISE_TAG_LENGTH);
  };
  const open = (key: Uint8Array, iv: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Buffer => {
    checkKey(key);
    if (ciphertext.length < NOISE_TAG_LENGTH) throw new HandshakeError(`${name}: ciphertext of ${ciphertext.length} bytes is shorter than the ${NOISE_TAG_LENGTH}-byte tag`);
    const bodyLength = ciphertext.length - NOISE_TAG_LENGTH;
    const d = createDecipheriv(algorithm as 'aes-256-gcm', key, iv, { authTagLength: NOISE_TAG_LENGTH });
    d.setAAD(ad);
    d.setAuthTag(ciphertext.subarray(bodyLength));
    const plaintext = d.update(ciphertext.subarray(0, bodyLength));
    try {
      d.final();
    } catch (e) {
      throw new HandshakeError(`${name}: authentication failed`, { cause: e });
    }
    return plaintext;
  };
  return {
    name,
    nonce,
    seal,
    open,
    encrypt: (key, n, ad, plaintext) => seal(key, nonce(n), ad, plaintext),
    decrypt: (key, n, ad, ciphertext) => open(key, nonce(n), ad, ciphertext),
    // Noise §4.2: REKEY(k) = ENCRYPT(k, maxnonce, zerolen, zeros), truncated to 32 bytes.
    rekey: (key) => seal(key, nonce(NOISE_MAX_NONCE), EMPTY, ZEROS_32).subarray(0, NOISE_KEY_LENGTH),
  };
}

const CIPHERS: Readonly<Record<NoiseCipherName, NoiseCipherFunction>> = {
  ChaChaPoly: makeCipher('ChaChaPoly', 'chacha20-poly1305', true),
  AESGCM: makeCipher('AESGCM', 'aes-256-gcm', false),
};

/** Names of the cipher functions this implementation supports. */
export const NOISE_CIPHER_NAMES: readonly NoiseCipherName[] = ['ChaChaPoly', 'AESGCM'];

/**
 * The cipher function named `name` in a Noise protocol name.
 * @throws RangeError for a cipher this implementation does not support.
 */
export function noiseCipherFunction(name: string): NoiseCipherFunction {
  if (!Object.prototype.hasOwnProperty.call(CIPHERS, name)) {
    throw new RangeError(`unsupported Noise cipher function "${name}" (supported: ${NOISE_CIPHER_NAMES.join(', ')})`);
  }
  return CIPHERS[name as NoiseCipherName];
}
