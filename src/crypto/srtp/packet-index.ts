/**
 * SRTP packet index estimation (RFC 3711 §3.3.1, Appendix A): the 48-bit index
 * i = 2^16 · ROC + SEQ is never sent; the receiver (and the sender) infer the rollover counter
 * from the highest index seen so far.
 * @module
 */

/** 2^16: sequence numbers per rollover. */
export const SEQ_MODULUS = 0x10000;
/** 2^48: number of SRTP packet indices (RFC 3711 §3.3.1). */
export const MAX_RTP_INDEX = 0x1000000000000;
/** 2^31: number of SRTCP indices (RFC 3711 §3.4). */
export const MAX_RTCP_INDEX = 0x80000000;

/** The rollover counter of a 48-bit packet index. */
export function rolloverCounter(index: number): number {
  return Math.floor(index / SEQ_MODULUS);
}

/**
 * Estimates the packet index of sequence number `seq` given the highest index `highest`
 * accepted so far (-1 if none: then ROC = 0 and s_l = SEQ, RFC 3711 §3.3.1), per the pseudocode
 * of RFC 3711 Appendix A:
 *
 *     if (s_l < 32768)  v = (SEQ - s_l > 32768) ? ROC - 1 : ROC
 *     else              v = (s_l - 32768 > SEQ) ? ROC + 1 : ROC
 *     index = SEQ + v * 2^16
 *
 * The result is negative when v = ROC - 1 with ROC = 0 (a packet from before the stream's first
 * rollover period), and may reach 2^48 at the very end of the index space; callers refuse both.
 */
export function estimateRtpIndex(highest: number, seq: number): number {
  if (highest < 0) return seq;
  const roc = rolloverCounter(highest);
  const sl = highest - roc * SEQ_MODULUS;
  let v: number;
  if (sl < 0x8000) v = seq - sl > 0x8000 ? roc - 1 : roc;
  else v = sl - 0x8000 > seq ? roc + 1 : roc;
  return v * SEQ_MODULUS + seq;
}
