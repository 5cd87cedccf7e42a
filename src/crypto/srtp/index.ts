/**
 * SRTP and SRTCP (RFC 3711) with the protection profiles `AES_CM_128_HMAC_SHA1_80`,
 * `AES_CM_128_HMAC_SHA1_32` (RFC 4568 §6.2, RFC 5764 §4.1.2) and `AEAD_AES_128_GCM`,
 * `AEAD_AES_256_GCM` (RFC 7714). Pure packet processing, no I/O; primitives from node:crypto.
 * @module
 */
export { SrtpContext } from './srtp-context.js';
export type { SrtpContextOptions, SrtpKeyMaterial } from './srtp-context.js';
export { SrtpError } from './srtp-error.js';
export type { SrtpErrorReason } from './srtp-error.js';
export { isSrtpProfile, SRTP_PROFILES, srtpKeyLengths, srtpProfileParams } from './profiles.js';
export type { SrtpProfile, SrtpProfileParams } from './profiles.js';
export { deriveSrtpSessionKeys, srtpKdf, SRTP_LABEL } from './key-derivation.js';
export type { SrtpSessionKeys, SrtpSessionKeySet } from './key-derivation.js';
export { AesCm, aesCmIv } from './aes-cm.js';
export { gcmRtcpIv, gcmRtpIv } from './aes-gcm-transform.js';
export { createSrtpTransform } from './create-transform.js';
export type { SrtpTransform, TransformFailure } from './transform.js';
export { estimateRtpIndex, rolloverCounter } from './packet-index.js';
export { DEFAULT_REPLAY_WINDOW, ReplayWindow } from './replay.js';
export type { ReplayVerdict } from './replay.js';
export { isRtcpCompound, parseRtpHeader } from './rtp-header.js';
export type { RtpHeaderInfo } from './rtp-header.js';
