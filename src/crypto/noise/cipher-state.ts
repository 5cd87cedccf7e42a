/**
 * The CipherState object of Noise §5.1: a key `k` (possibly empty) and a 64-bit nonce `n`,
 * used for the handshake payloads and, after Split(), for transport messages.
 * @module
 */
import { HandshakeError } from '../../errors.js';
import { NOISE_KEY_LENGTH, NOISE_MAX_NONCE, NOISE_TAG_LENGTH, type NoiseCipherFunction } from './cipher-functions.js';

/** Noise §3: every Noise message (handshake or transport) is at most 65535 bytes. */
export const MAX_NOISE_MESSAGE = 65535;

/**
 * A Noise CipherState (Noise §5.1). Without a key, EncryptWithAd/DecryptWithAd pass data
 * through unchanged (as the handshake needs before the first DH). With one, each call uses and
 * then increments `n`; a failed decryption leaves `n` unchanged.
 */
export class CipherState {
  /** The cipher function (ChaChaPoly or AESGCM). */
  readonly cipher: NoiseCipherFunction;
  #k: Buffer | undefined;
  #n = 0n;

  /**
   * @param cipher The cipher function this state encrypts with.
   * @param key Optional 32-byte key: InitializeKey(key) (Noise §5.1). The bytes are copied.
   * @throws RangeError for a key that is not 32 bytes.
   */
  constructor(cipher: NoiseCipherFunction, key?: Uint8Array) {
    this.cipher = cipher;
    if (key !== undefined) this.initializeKey(key);
  }

  /** InitializeKey(key) of Noise §5.1: sets `k = key` (copied) and `n = 0`. */
  initializeKey(key: Uint8Array): void {
    if (key.length !== NOISE_KEY_LENGTH) throw new RangeError(`Noise cipher key must be ${NOISE_KEY_LENGTH} bytes, got ${key.length}`);
    this.#k = Buffer.from(key);
    this.#n = 0n;
  }

  /** HasKey() of Noise §5.1: whether `k` is non-empty. */
  hasKey(): boolean {
    return this.#k !== undefined;
  }

  /** The next nonce `n` this state will use. */
  nonce(): bigint {
    return this.#n;
  }

  /**
   * SetNonce(nonce) of Noise §5.1, for out-of-order transport (Noise §11.4).
   * @throws RangeError when `n` is outside 0..2^64-1.
   */
  setNonce(n: bigint): void {
    if (n < 0n || n > NOISE_MAX_NONCE) throw new RangeError(`Noise nonce ${n} is outside 0..2^64-1`);
    this.#n = n;
  }

  /**
   * EncryptWithAd(ad, plaintext) of Noise §5.1. Without a key the plaintext is returned as is
   * (a copy).
   * @throws HandshakeError when the nonce is exhausted (n = 2^64-1, Noise §5.1) or the
   * resulting message would exceed {@link MAX_NOISE_MESSAGE} (Noise §3).
   */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Buffer {
    const k = this.#k;
    if (k === undefined) return Buffer.from(plaintext);
    if (plaintext.length + NOISE_TAG_LENGTH > MAX_NOISE_MESSAGE) {
      throw new HandshakeError(`Noise message of ${plaintext.length + NOISE_TAG_LENGTH} bytes exceeds ${MAX_NOISE_MESSAGE}`);
    }
    this.#checkNonce();
    const out = this.cipher.encrypt(k, this.#n, ad, plaintext);
    this.#n++;
    return out;
  }

  /**
   * DecryptWithAd(ad, ciphertext) of Noise §5.1. Without a key the ciphertext is returned as
   * is (a copy). On an authentication failure `n` is not incremented.
   * @throws HandshakeError on a bad tag, a short or over-long ciphertext, or an exhausted nonce.
   */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Buffer {
    const k = this.#k;
    if (k === undefined) return Buffer.from(ciphertext);
    if (ciphertext.length > MAX_NOISE_MESSAGE) throw new HandshakeError(`Noise message of ${ciphertext.length} bytes exceeds ${MAX_NOISE_MESSAGE}`);
    this.#checkNonce();
    const out = this.cipher.decrypt(k, this.#n, ad, ciphertext);
    this.#n++;
    return out;
  }

  /**
   * Rekey() of Noise §4.2/§5.1: `k = REKEY(k)` with the default REKEY (encrypting 32 zero
   * bytes under nonce 2^64-1). `n` is left unchanged (Noise §11.3).
   * @throws HandshakeError when the state has no key.
   */
  rekey(): void {
    if (this.#k === undefined) throw new HandshakeError('Noise Rekey() on a CipherState without a key');
    this.#k = Buffer.from(this.cipher.rekey(this.#k));
  }

  #checkNonce(): void {
    // Noise §5.1: 2^64-1 is reserved; once reached the CipherState can no longer be used.
    if (this.#n >= NOISE_MAX_NONCE) throw new HandshakeError('Noise nonce exhausted (2^64-1 is reserved)');
  }
}
