/**
 * The one error of the peer-to-peer data channel (SPEC PEER-3). It reuses the catalog's
 * stable codes (ARCHITECTURE.md rule 5): a refused certificate is `SIPHER_ERR_CERTIFICATE`,
 * everything else `SIPHER_ERR_TRANSPORT`.
 * @module
 */
import { SipherError } from '../../errors.js';

/**
 * Why a data channel could not be established:
 * - `fingerprint-mismatch`: the certificate presented does not match any `a=fingerprint` of
 *   the SDP (RFC 8122 §6), or no certificate was presented;
 * - `untrusted-certificate`: the certificate does not chain to a trusted domain root, is
 *   outside its validity, or names another AOR;
 * - `wrong-peer`: the accept deadline passed and the only connections that came were from
 *   addresses other than the one negotiated in the SDP (all refused);
 * - `timeout`: nothing (or no complete handshake) within the time bound;
 * - `connect`: the TCP connection to the passive end could not be made (refused, unreachable);
 * - `tls`: the TLS handshake failed (e.g. the peer does not speak TLS 1.3), or the connection
 *   closed before both ends confirmed their verification;
 * - `closed`: the listener was closed by its owner while accepting.
 */
export type DataChannelFailure = 'fingerprint-mismatch' | 'untrusted-certificate' | 'wrong-peer' | 'timeout' | 'connect' | 'tls' | 'closed';

/** Raised (as a rejected promise) by `connectDataChannel` and `DataChannelListener.accept`. */
export class DataChannelError extends SipherError {
  /** The machine-readable reason. */
  readonly reason: DataChannelFailure;
  /**
   * `'local'` when this end found the problem; `'peer'` when the peer refused our certificate
   * and said so in its verification confirmation (see `data-channel.ts`).
   */
  readonly detectedBy: 'local' | 'peer';

  constructor(reason: DataChannelFailure, message: string, opts: { cause?: unknown; detectedBy?: 'local' | 'peer' } = {}) {
    const certificate = reason === 'fingerprint-mismatch' || reason === 'untrusted-certificate';
    super(certificate ? 'SIPHER_ERR_CERTIFICATE' : 'SIPHER_ERR_TRANSPORT', message, { cause: opts.cause });
    this.reason = reason;
    this.detectedBy = opts.detectedBy ?? 'local';
  }
}
