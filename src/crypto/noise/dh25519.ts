/**
 * The 25519 DH functions of Noise §12.1 (X25519, RFC 7748 §5) over `node:crypto`: raw 32-byte
 * keys are wrapped in PKCS#8/SPKI DER so OpenSSL can use them.
 * @module
 */
import { createPrivateKey, createPublicKey, diffieHellman, randomBytes, type KeyObject } from 'node:crypto';
import { HandshakeError } from '../../errors.js';

/** DHLEN for 25519 (Noise §12.1). */
export const DH25519_LENGTH = 32;

/** An X25519 key pair as raw 32-byte strings (RFC 7748 §5). */
export interface NoiseKeyPair {
  /** The 32-byte public key (u-coordinate, little-endian). */
  publicKey: Buffer;
  /** The 32-byte private scalar (clamped by X25519 itself, RFC 7748 §5). */
  privateKey: Buffer;
}

/** PKCS#8 PrivateKeyInfo prefix for an X25519 key (RFC 8410 §7), followed by the 32 raw bytes. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
/** SubjectPublicKeyInfo prefix for an X25519 key (RFC 8410 §4), followed by the 32 raw bytes. */
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

function checkLength(what: string, key: Uint8Array): void {
  if (key.length !== DH25519_LENGTH) throw new RangeError(`X25519 ${what} key must be ${DH25519_LENGTH} bytes, got ${key.length}`);
}

/**
 * A KeyObject for a raw X25519 private key.
 * @throws RangeError for a key that is not 32 bytes.
 */
export function x25519PrivateKeyObject(privateKey: Uint8Array): KeyObject {
  checkLength('private', privateKey);
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, privateKey]), format: 'der', type: 'pkcs8' });
}

/**
 * The key pair of a raw X25519 private key (copied).
 * @throws RangeError for a key that is not 32 bytes.
 */
export function noiseKeyPairFromPrivate(privateKey: Uint8Array): NoiseKeyPair {
  const key = x25519PrivateKeyObject(privateKey);
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return { publicKey: Buffer.from(spki.subarray(SPKI_PREFIX.length)), privateKey: Buffer.from(privateKey) };
}

/** GENERATE_KEYPAIR() of Noise §4.1: a fresh X25519 key pair from the CSPRNG. */
export function generateNoiseKeyPair(): NoiseKeyPair {
  return noiseKeyPairFromPrivate(randomBytes(DH25519_LENGTH));
}

/**
 * DH(key_pair, public_key) of Noise §4.1 for 25519.
 * @param privateKey The local private key, raw bytes or a prepared KeyObject.
 * @param publicKey The peer's raw 32-byte public key.
 * @throws HandshakeError when the peer key is not 32 bytes or is a low-order point (OpenSSL
 * refuses an all-zero shared secret; Noise §12.1 allows signalling an error for it).
 */
export function dh25519(privateKey: Uint8Array | KeyObject, publicKey: Uint8Array): Buffer {
  if (publicKey.length !== DH25519_LENGTH) throw new HandshakeError(`X25519 public key must be ${DH25519_LENGTH} bytes, got ${publicKey.length}`);
  const priv = privateKey instanceof Uint8Array ? x25519PrivateKeyObject(privateKey) : privateKey;
  let pub: KeyObject;
  try {
    pub = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    return diffieHellman({ privateKey: priv, publicKey: pub });
  } catch (e) {
    throw new HandshakeError('X25519 key agreement failed (invalid or low-order public key)', { cause: e });
  }
}
