/**
 * Size limits applied by the SDP parser (SPEC §3: bad input never grows memory). Every
 * violation is a {@link SipParseError} naming the line where the limit was crossed.
 * @module
 */

/** Limits on one session description. */
export interface SdpLimits {
  /** Largest description in bytes (UTF-8). Default 65 536 (64 KiB). */
  maxBytes: number;
  /** Largest number of lines. Default 1024. */
  maxLines: number;
  /** Largest number of media sections (`m=` lines). Default 64. */
  maxMedia: number;
  /** Longest single line in characters, without its line ending. Default 4096. */
  maxLineLength: number;
}

/** The defaults of {@link SdpLimits}. */
export const DEFAULT_SDP_LIMITS: Readonly<SdpLimits> = Object.freeze({
  maxBytes: 65_536,
  maxLines: 1024,
  maxMedia: 64,
  maxLineLength: 4096,
});
