/**
 * Size limits applied by the parsers (SIP-1, SPEC §3: bad input never grows memory).
 * @module
 */

/** Limits on one message. */
export interface MessageLimits {
  /** Largest whole message in bytes (head + body). Default 65 535 (the largest UDP payload). */
  maxMessageSize: number;
  /** Largest number of header fields. Default 256. */
  maxHeaders: number;
  /** Largest head (start line + headers) in bytes. Default 32 768. */
  maxHeadSize: number;
}

/** The defaults of {@link MessageLimits}. */
export const DEFAULT_LIMITS: Readonly<MessageLimits> = Object.freeze({
  maxMessageSize: 65_535,
  maxHeaders: 256,
  maxHeadSize: 32_768,
});
