/**
 * The SymmetricState object of Noise §5.2: the chaining key `ck`, the handshake hash `h` and
 * the CipherState keyed from them during a handshake.
 * @module
 */
import { NOISE_KEY_LENGTH, type NoiseCipherFunction } from './cipher-functions.js';
import { CipherState } from './cipher-state.js';
import type { NoiseHashFunction } from './hash-functions.js';

/** Noise §5.2: a HASHLEN of 64 truncates derived cipher keys to 32 bytes. */
function cipherKey(out: Buffer): Buffer {
  return out.length === NOISE_KEY_LENGTH ? out : out.subarray(0, NOISE_KEY_LENGTH);
}

/** A Noise SymmetricState (Noise §5.2). */
export class SymmetricState {
  /** The hash function. */
  readonly hash: NoiseHashFunction;
  /** The CipherState keyed by MixKey(). */
  readonly cipherState: CipherState;
  #ck: Buffer;
  #h: Buffer;

  /**
   * InitializeSymmetric(protocol_name) of Noise §5.2.
   * @param protocolName The full protocol name, e.g. `Noise_XX_25519_ChaChaPoly_SHA256`.
   */
  constructor(protocolName: string, cipher: NoiseCipherFunction, hash: NoiseHashFunction) {
    this.hash = hash;
    const name = Buffer.from(protocolName, 'ascii');
    // Noise §5.2: a name of at most HASHLEN bytes is zero-padded, a longer one is hashed.
    if (name.length <= hash.hashLen) {
      this.#h = Buffer.alloc(hash.hashLen);
      name.copy(this.#h);
    } else {
      this.#h = hash.hash(name);
    }
    this.#ck = this.#h;
    this.cipherState = new CipherState(cipher);
  }

  /** MixKey(input_key_material) of Noise §5.2. */
  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = this.hash.hkdf(this.#ck, inputKeyMaterial, 2) as [Buffer, Buffer];
    this.#ck = ck;
    this.cipherState.initializeKey(cipherKey(tempK));
  }

  /** MixHash(data) of Noise §5.2: `h = HASH(h || data)`. */
  mixHash(data: Uint8Array): void {
    this.#h = this.hash.hash(this.#h, data);
  }

  /** MixKeyAndHash(input_key_material) of Noise §5.2, used for psk tokens (Noise §9). */
  mixKeyAndHash(inputKeyMaterial: Uint8Array): void {
    const [ck, tempH, tempK] = this.hash.hkdf(this.#ck, inputKeyMaterial, 3) as [Buffer, Buffer, Buffer];
    this.#ck = ck;
    this.mixHash(tempH);
    this.cipherState.initializeKey(cipherKey(tempK));
  }

  /** GetHandshakeHash() of Noise §5.2 (a copy of `h`). */
  handshakeHash(): Buffer {
    return Buffer.from(this.#h);
  }

  /** Whether the CipherState has a key (decides whether `s` is encrypted, Noise §5.3). */
  hasKey(): boolean {
    return this.cipherState.hasKey();
  }

  /**
   * EncryptAndHash(plaintext) of Noise §5.2: encrypts with `h` as associated data, then mixes
   * the ciphertext into `h`.
   * @throws HandshakeError from the CipherState (nonce exhausted, message too long).
   */
  encryptAndHash(plaintext: Uint8Array): Buffer {
    const ciphertext = this.cipherState.encryptWithAd(this.#h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /**
   * DecryptAndHash(ciphertext) of Noise §5.2.
   * @throws HandshakeError when authentication fails.
   */
  decryptAndHash(ciphertext: Uint8Array): Buffer {
    const plaintext = this.cipherState.decryptWithAd(this.#h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /**
   * Split() of Noise §5.2: the two transport keys, initiator→responder first. The caller builds
   * the CipherStates.
   */
  splitKeys(): [Buffer, Buffer] {
    const [k1, k2] = this.hash.hkdf(this.#ck, Buffer.alloc(0), 2) as [Buffer, Buffer];
    return [Buffer.from(cipherKey(k1)), Buffer.from(cipherKey(k2))];
  }
}
