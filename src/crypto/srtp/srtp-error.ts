/**
 * The one error SRTP/SRTCP processing raises for bad input.
 * @module
 */
import { CryptoFormatError } from '../../errors.js';

/**
 * Why a packet (or key material) was refused:
 * - `malformed`: too short to be a packet of the profile, not RTP/RTCP version 2, a header that
 *   does not fit, or key material of the wrong length;
 * - `auth`: the authentication tag does not verify (wrong key, any altered bit, a header that is
 *   inconsistent with the packet so that no authentic packet could look like it);
 * - `replay`: the packet index was already accepted (RFC 3711 §3.3.2), or — on the sending side —
 *   already used to protect a packet (keystream/nonce reuse);
 * - `too-old`: the index is left of the replay window (RFC 3711 §3.3.2), or before the stream's
 *   first rollover period.
 */
export type SrtpErrorReason = 'malformed' | 'auth' | 'replay' | 'too-old';

/**
 * A refused SRTP or SRTCP packet. It is a {@link CryptoFormatError}
 * (`SIPHER_ERR_CRYPTO_FORMAT`) carrying the precise {@link SrtpErrorReason}.
 */
export class SrtpError extends CryptoFormatError {
  /** Why the packet was refused. */
  readonly reason: SrtpErrorReason;

  /**
   * @param reason - why the packet was refused.
   * @param message - human-readable detail (never contains key material).
   */
  constructor(reason: SrtpErrorReason, message: string) {
    super(`SRTP ${reason}: ${message}`);
    this.reason = reason;
  }
}
