/**
 * Options of the SDK's SA support (SPEC SA-1, SA-2, SA-10). Kept apart from the
 * implementation so `client-options.ts` can name the type without an import cycle.
 * @module
 */
import type { NoiseKeyPair } from '../../crypto/noise/index.js';

/** How the device sets up and keeps its signalling SA with the server. */
export interface DeviceSaOptions {
  /**
   * `required`: refuse to register with a server that offers no SA; `preferred` (default):
   * run in clear with such a server (SPEC SA-10).
   */
  mode?: 'required' | 'preferred';
  /** SHA-256 fingerprint (hex) of the server's static key, as `sipher server` prints it. */
  serverKey?: string;
  /** Accept and remember the server's key on first use when no `serverKey` is pinned. Default true. */
  trustOnFirstUse?: boolean;
  /** The device's static X25519 key; keep it to be recognised after token enrolment. Default: generated. */
  staticKey?: NoiseKeyPair;
  /** A one-time enrolment token from `sipher device token` (`<id>.<secret>`). */
  token?: string;
  /** Encryption rules offered, in preference order. Default: every rule of the registry. */
  rules?: string[];
  /** Ranges supported. Default `whole` and `partial`. */
  ranges?: string[];
  /** Handshake cipher. Default `chacha20-poly1305`. */
  handshakeCipher?: 'chacha20-poly1305' | 'aes-256-gcm';
}

/** The SA state the SDK reports in its `sa` event (never keys). */
export interface SaEvent {
  state: 'established' | 'updated' | 'lost' | 'unavailable';
  saId?: string | undefined;
  presence?: 'on' | 'off' | undefined;
  rule?: string | undefined;
  range?: string | undefined;
  generation?: number | undefined;
  /** The setting that caused an update, or the fault of a refused one. */
  settingId?: string | undefined;
  /** Fingerprint of the server key (established). */
  serverKey?: string | undefined;
  detail?: string | undefined;
}
