/**
 * Protocol names (Noise §8): `Noise_<pattern>_<DH>_<cipher>_<hash>`, e.g.
 * `Noise_XXpsk3_25519_ChaChaPoly_SHA256`.
 * @module
 */
import { noiseCipherFunction, type NoiseCipherFunction, type NoiseCipherName } from './cipher-functions.js';
import { noiseHashFunction, type NoiseHashFunction } from './hash-functions.js';
import { handshakePattern, type HandshakePattern } from './patterns.js';

/** DH function names this implementation supports (Noise §12.1). */
export type NoiseDhName = '25519';

/** A parsed protocol name with its functions resolved. */
export interface NoiseProtocol {
  /** The full name, e.g. `Noise_XX_25519_ChaChaPoly_SHA256` (the input to InitializeSymmetric). */
  readonly name: string;
  /** The handshake pattern with its modifiers applied. */
  readonly pattern: HandshakePattern;
  /** The DH function name. */
  readonly dh: NoiseDhName;
  /** The cipher function. */
  readonly cipher: NoiseCipherFunction;
  /** The hash function. */
  readonly hash: NoiseHashFunction;
}

/** Noise §8: a protocol name is at most 255 bytes. */
const MAX_PROTOCOL_NAME = 255;

/**
 * Parses a Noise protocol name (Noise §8) and resolves its pattern, DH, cipher and hash.
 * @throws RangeError for a malformed name or an unsupported pattern, modifier, DH, cipher or
 * hash (a configuration mistake, not bad peer input).
 */
export function parseProtocolName(name: string): NoiseProtocol {
  if (Buffer.byteLength(name) > MAX_PROTOCOL_NAME) throw new RangeError(`Noise protocol name longer than ${MAX_PROTOCOL_NAME} bytes`);
  const parts = name.split('_');
  if (parts.length !== 5 || parts[0] !== 'Noise') {
    throw new RangeError(`malformed Noise protocol name "${name}" (expected Noise_<pattern>_<DH>_<cipher>_<hash>)`);
  }
  const [, patternName, dh, cipherName, hashName] = parts as [string, string, string, string, string];
  if (dh !== '25519') throw new RangeError(`unsupported Noise DH function "${dh}" (supported: 25519)`);
  return {
    name,
    pattern: handshakePattern(patternName),
    dh,
    cipher: noiseCipherFunction(cipherName as NoiseCipherName),
    hash: noiseHashFunction(hashName),
  };
}
