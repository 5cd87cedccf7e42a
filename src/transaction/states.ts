/**
 * State names of the four transaction machines of RFC 3261 §17, with the `accepted` state
 * RFC 6026 §7 adds to both INVITE machines. The names are the strings
 * `ClientTransaction.state` / `ServerTransaction.state` report.
 * @module
 */

/** Every state name used by any of the machines. */
export const TransactionState = Object.freeze({
  /** ICT after sending the INVITE (RFC 3261 §17.1.1.2). */
  Calling: 'calling',
  /** NICT after sending the request; NIST after receiving it (RFC 3261 §17.1.2.2, §17.2.2). */
  Trying: 'trying',
  /** A provisional response was received (client) or sent (server). */
  Proceeding: 'proceeding',
  /** A 2xx to an INVITE was received or sent (RFC 6026 §7.1, §7.2). */
  Accepted: 'accepted',
  /** A final response (non-2xx for INVITE) was received or sent. */
  Completed: 'completed',
  /** IST only: the ACK for a 300-699 response arrived (RFC 3261 §17.2.1). */
  Confirmed: 'confirmed',
  /** The transaction is gone; its timers are cancelled and the layer has forgotten it. */
  Terminated: 'terminated',
} as const);

/** Any state name. */
export type TransactionStateName = (typeof TransactionState)[keyof typeof TransactionState];

/** INVITE client transaction states (RFC 3261 Figure 5, RFC 6026 Figure 5). */
export type IctState = 'calling' | 'proceeding' | 'accepted' | 'completed' | 'terminated';

/** Non-INVITE client transaction states (RFC 3261 Figure 6). */
export type NictState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/** INVITE server transaction states (RFC 3261 Figure 7, RFC 6026 Figure 7). */
export type IstState = 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';

/** Non-INVITE server transaction states (RFC 3261 Figure 8). */
export type NistState = 'trying' | 'proceeding' | 'completed' | 'terminated';
