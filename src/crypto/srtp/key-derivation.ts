/**
 * SRTP key derivation (RFC 3711 §4.3) with key_derivation_rate 0: the session keys are derived
 * once from the master key and master salt with the AES-CM PRF (§4.3.3), never per packet.
 * @module
 */
import { AesCm, AES_BLOCK } from './aes-cm.js';
import { srtpProfileParams, type SrtpProfile } from './profiles.js';

/** Key derivation labels (RFC 3711 §4.3.1 for SRTP, §4.3.2 for SRTCP). */
export const SRTP_LABEL = {
  /** k_e, SRTP encryption key. */
  rtpEncryption: 0x00,
  /** k_a, SRTP authentication key. */
  rtpAuthentication: 0x01,
  /** k_s, SRTP salting key. */
  rtpSalt: 0x02,
  /** SRTCP encryption key. */
  rtcpEncryption: 0x03,
  /** SRTCP authentication key. */
  rtcpAuthentication: 0x04,
  /** SRTCP salting key. */
  rtcpSalt: 0x05,
} as const;

/** The session keys of one direction of one of SRTP or SRTCP. */
export interface SrtpSessionKeys {
  /** Session encryption key (16 or 32 bytes). */
  readonly encryptionKey: Buffer;
  /** Session salt (14 bytes for AES-CM, 12 for AES-GCM). */
  readonly salt: Buffer;
  /** Session authentication key (20 bytes for HMAC-SHA1; empty for AEAD profiles). */
  readonly authKey: Buffer;
}

/** The session keys for SRTP and for SRTCP derived from one master key. */
export interface SrtpSessionKeySet {
  /** Keys for SRTP (labels 0x00–0x02). */
  readonly rtp: SrtpSessionKeys;
  /** Keys for SRTCP (labels 0x03–0x05). */
  readonly rtcp: SrtpSessionKeys;
}

/**
 * The AES-CM PRF of RFC 3711 §4.3.3 for one label with r = index DIV kdr = 0 (kdr = 0, §4.3.1):
 * key_id = label || r (56 bits); x = key_id XOR master_salt, right-aligned on the 112-bit salt;
 * the output is the first `length` bytes of AES-CM keystream under the master key with
 * IV = x * 2^16.
 *
 * A 96-bit master salt (AEAD profiles, RFC 7714 §11) is first extended on the right with 16 zero
 * bits to 112 bits, as libsrtp does — so the label lands on octet 7 of the IV in both cases;
 * the libsrtp `srtp_validate_gcm` reference packets depend on exactly this.
 */
export function srtpKdf(masterKey: Uint8Array, masterSalt: Uint8Array, label: number, length: number, cm?: AesCm): Buffer {
  if (masterSalt.length !== 14 && masterSalt.length !== 12) throw new RangeError('master salt must be 14 or 12 bytes');
  const iv = Buffer.alloc(AES_BLOCK);
  iv.set(masterSalt, 0);
  // RFC 3711 §4.3.1: x = (label || r) XOR master_salt; r is 48 zero bits here, so only the label
  // octet (octet 7 of the 14-octet x) changes. The trailing two zero octets are the "* 2^16".
  iv[7] ^= label;
  return (cm ?? new AesCm(masterKey)).keystream(iv, length);
}

/**
 * Derives the SRTP and SRTCP session keys of `profile` (RFC 3711 §4.3.1/§4.3.2; RFC 7714 §11
 * for the AEAD profiles, which need no authentication key).
 * @throws RangeError when the key or salt length does not match the profile.
 */
export function deriveSrtpSessionKeys(profile: SrtpProfile, masterKey: Uint8Array, masterSalt: Uint8Array): SrtpSessionKeySet {
  const p = srtpProfileParams(profile);
  if (masterKey.length !== p.keyLength) throw new RangeError(`${profile} master key must be ${p.keyLength} bytes`);
  if (masterSalt.length !== p.saltLength) throw new RangeError(`${profile} master salt must be ${p.saltLength} bytes`);
  const cm = new AesCm(masterKey);
  const keys = (enc: number, auth: number, salt: number): SrtpSessionKeys => ({
    encryptionKey: srtpKdf(masterKey, masterSalt, enc, p.keyLength, cm),
    salt: srtpKdf(masterKey, masterSalt, salt, p.saltLength, cm),
    authKey: p.authKeyLength === 0 ? Buffer.alloc(0) : srtpKdf(masterKey, masterSalt, auth, p.authKeyLength, cm),
  });
  return {
    rtp: keys(SRTP_LABEL.rtpEncryption, SRTP_LABEL.rtpAuthentication, SRTP_LABEL.rtpSalt),
    rtcp: keys(SRTP_LABEL.rtcpEncryption, SRTP_LABEL.rtcpAuthentication, SRTP_LABEL.rtcpSalt),
  };
}
