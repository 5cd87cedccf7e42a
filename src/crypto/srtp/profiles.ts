/**
 * SRTP protection profiles: the crypto-suite names of RFC 4568 §6.2 (SDES) and RFC 7714 §14.1,
 * which are also the DTLS-SRTP profile names of RFC 5764 §4.1.2 and RFC 7714 §14.2 without their
 * `SRTP_` prefix, with the transform parameters each one fixes.
 * @module
 */
import { SrtpError } from './srtp-error.js';

/** The supported SRTP protection profiles. */
export type SrtpProfile =
  | 'AES_CM_128_HMAC_SHA1_80'
  | 'AES_CM_128_HMAC_SHA1_32'
  | 'AEAD_AES_128_GCM'
  | 'AEAD_AES_256_GCM';

/** Every supported profile, in preference order (AEAD first). */
export const SRTP_PROFILES: readonly SrtpProfile[] = [
  'AEAD_AES_128_GCM',
  'AEAD_AES_256_GCM',
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
];

/** The transform parameters one profile fixes. */
export interface SrtpProfileParams {
  /** Profile name. */
  readonly name: SrtpProfile;
  /** `cm`: AES-CM + HMAC-SHA1 (RFC 3711 §4.1.1, §4.2.1); `gcm`: AEAD AES-GCM (RFC 7714). */
  readonly transform: 'cm' | 'gcm';
  /** Master key and session encryption key length in bytes. */
  readonly keyLength: 16 | 32;
  /** Master salt and session salt length in bytes: 14 (RFC 3711 §8.2), 12 (RFC 7714 §11). */
  readonly saltLength: 14 | 12;
  /** Session authentication key length in bytes (HMAC-SHA1: 160 bits, RFC 3711 §5.2); 0 for AEAD. */
  readonly authKeyLength: 20 | 0;
  /** SRTP authentication tag length in bytes. */
  readonly rtpTagLength: 10 | 4 | 16;
  /** SRTCP authentication tag length in bytes. */
  readonly rtcpTagLength: 10 | 16;
  /** DTLS-SRTP protection profile identifier (RFC 5764 §4.1.2, RFC 7714 §14.2). */
  readonly dtlsId: number;
}

const PARAMS: Readonly<Record<SrtpProfile, SrtpProfileParams>> = {
  // RFC 4568 §6.2.1 / RFC 5764 §4.1.2: AES-CM-128, HMAC-SHA1, 80-bit tags for SRTP and SRTCP.
  AES_CM_128_HMAC_SHA1_80: {
    name: 'AES_CM_128_HMAC_SHA1_80', transform: 'cm', keyLength: 16, saltLength: 14,
    authKeyLength: 20, rtpTagLength: 10, rtcpTagLength: 10, dtlsId: 0x0001,
  },
  // RFC 4568 §6.2.2 / RFC 5764 §4.1.2: the SRTP tag is 32 bits, but the SRTCP tag stays 80 bits
  // (RFC 3711 §5.2: the 32-bit tag is only for SRTP).
  AES_CM_128_HMAC_SHA1_32: {
    name: 'AES_CM_128_HMAC_SHA1_32', transform: 'cm', keyLength: 16, saltLength: 14,
    authKeyLength: 20, rtpTagLength: 4, rtcpTagLength: 10, dtlsId: 0x0002,
  },
  // RFC 7714 §12, §14.2: 128/256-bit key, 96-bit salt, 16-octet tag for SRTP and SRTCP.
  AEAD_AES_128_GCM: {
    name: 'AEAD_AES_128_GCM', transform: 'gcm', keyLength: 16, saltLength: 12,
    authKeyLength: 0, rtpTagLength: 16, rtcpTagLength: 16, dtlsId: 0x0007,
  },
  AEAD_AES_256_GCM: {
    name: 'AEAD_AES_256_GCM', transform: 'gcm', keyLength: 32, saltLength: 12,
    authKeyLength: 0, rtpTagLength: 16, rtcpTagLength: 16, dtlsId: 0x0008,
  },
};

/** Whether `name` is a supported profile. */
export function isSrtpProfile(name: string): name is SrtpProfile {
  return Object.prototype.hasOwnProperty.call(PARAMS, name);
}

/**
 * The parameters of `profile`.
 * @throws SrtpError (`malformed`) for an unknown profile name.
 */
export function srtpProfileParams(profile: SrtpProfile): SrtpProfileParams {
  if (!isSrtpProfile(profile)) throw new SrtpError('malformed', `unknown SRTP profile ${String(profile)}`);
  return PARAMS[profile];
}

/**
 * Master key and master salt lengths in bytes of `profile` — what key management (SDES
 * `inline:` key||salt, or the DTLS-SRTP exporter, RFC 5764 §4.2) must supply.
 * @throws SrtpError (`malformed`) for an unknown profile name.
 */
export function srtpKeyLengths(profile: SrtpProfile): { masterKey: number; masterSalt: number } {
  const p = srtpProfileParams(profile);
  return { masterKey: p.keyLength, masterSalt: p.saltLength };
}
