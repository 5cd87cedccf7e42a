/**
 * Chooses the packet transform of a profile.
 * @module
 */
import type { SrtpSessionKeySet } from './key-derivation.js';
import { srtpProfileParams, type SrtpProfile } from './profiles.js';
import { AesCmHmacTransform } from './aes-cm-hmac-transform.js';
import { AesGcmTransform } from './aes-gcm-transform.js';
import type { SrtpTransform } from './transform.js';

/**
 * The transform of `profile` over the given session keys. Exposed for known-answer tests whose
 * vectors (RFC 7714 §16–17) are stated in session keys; applications use `SrtpContext`.
 */
export function createSrtpTransform(profile: SrtpProfile, keys: SrtpSessionKeySet): SrtpTransform {
  const p = srtpProfileParams(profile);
  return p.transform === 'cm' ? new AesCmHmacTransform(p, keys) : new AesGcmTransform(p, keys);
}
