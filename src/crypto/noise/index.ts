/**
 * The Noise Protocol Framework, revision 34 (https://noiseprotocol.org/noise.html): the
 * one-way and fundamental interactive handshake patterns with `pskN` modifiers, over 25519,
 * ChaChaPoly/AESGCM and SHA256/SHA512/BLAKE2s/BLAKE2b. Primitives come from node:crypto;
 * ephemeral key generation is injectable.
 * @module
 */
export { HandshakeState, NOISE_PSK_LENGTH } from './handshake-state.js';
export type { HandshakeOptions, NoiseSplit } from './handshake-state.js';
export { CipherState, MAX_NOISE_MESSAGE } from './cipher-state.js';
export { SymmetricState } from './symmetric-state.js';
export { generateNoiseKeyPair, noiseKeyPairFromPrivate, dh25519, DH25519_LENGTH } from './dh25519.js';
export type { NoiseKeyPair } from './dh25519.js';
export {
  noiseCipherFunction, NOISE_CIPHER_NAMES, NOISE_KEY_LENGTH, NOISE_MAX_NONCE, NOISE_TAG_LENGTH,
} from './cipher-functions.js';
export type { NoiseCipherFunction, NoiseCipherName } from './cipher-functions.js';
export { noiseHashFunction, NOISE_HASH_NAMES } from './hash-functions.js';
export type { NoiseHashFunction, NoiseHashName } from './hash-functions.js';
export { handshakePattern, NOISE_PATTERN_NAMES } from './patterns.js';
export type { HandshakePattern, NoisePreMessageToken, NoiseToken } from './patterns.js';
export { parseProtocolName } from './protocol-name.js';
export type { NoiseDhName, NoiseProtocol } from './protocol-name.js';
