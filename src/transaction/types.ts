/**
 * Contracts of the transaction layer (RFC 3261 §17, RFC 6026).
 * @module
 */
import type { SipRequest, SipResponse } from '../sip/message.js';
import type { Target } from '../transport/types.js';

/**
 * Timer base values in ms (RFC 3261 §17.1.1.1, Table 4). Per instance, never global.
 * Defaults: T1 500, T2 4000, T4 5000; Timer B/F/H = 64·T1; D = 32000 on UDP (0 on reliable);
 * I = T4 and J = 64·T1 on UDP (0 on reliable); K = T4 on UDP; L = M = 64·T1 (RFC 6026);
 * Timer C (proxy) > 3 min, default 180000.
 */
export interface TimerConfig {
  t1: number;
  t2: number;
  t4: number;
  timerD: number;
  timerC: number;
}

/** The defaults of {@link TimerConfig}. */
export const DEFAULT_TIMERS: Readonly<TimerConfig> = Object.freeze({ t1: 500, t2: 4000, t4: 5000, timerD: 32000, timerC: 180000 });

/** Upward callbacks of a client transaction (to its transaction user). */
export interface ClientTransactionUser {
  /** Every response the transaction passes up (1xx, and final ones; RFC 6026: 2xx retransmissions in Accepted). */
  onResponse(response: SipResponse): void;
  /** Timer B or F fired (RFC 3261 §17.1.1.2, §17.1.2.2): the TU treats it as 408. */
  onTimeout(): void;
  /** The transport failed (RFC 3261 §17.1.4): the TU treats it as 503. */
  onTransportError(error: Error): void;
  /** The transaction reached Terminated. */
  onTerminated?(): void;
}

/** A client transaction as its user sees it. */
export interface ClientTransaction {
  readonly id: string;
  readonly request: SipRequest;
  readonly target: Target;
  /** Current state name (`calling`, `trying`, `proceeding`, `accepted`, `completed`, `terminated`). */
  readonly state: string;
  /** Stops the transaction's timers and removes it (e.g. on shutdown). */
  terminate(): void;
}

/** A server transaction as its user sees it. */
export interface ServerTransaction {
  readonly id: string;
  readonly request: SipRequest;
  /** Current state name (`trying`, `proceeding`, `accepted`, `completed`, `confirmed`, `terminated`). */
  readonly state: string;
  /**
   * Sends a response through the transaction (RFC 3261 §17.2). Final responses are
   * retransmitted by the machine as the RFC requires; calls after a final response are
   * ignored except 2xx retransmissions asked by the TU for INVITE (RFC 6026 Accepted state).
   */
  respond(response: SipResponse): void;
  /** Set when a CANCEL matched this (INVITE) transaction (RFC 3261 §9.2). */
  onCancel?: ((cancel: SipRequest) => void) | undefined;
  /** Called when the transaction reaches Terminated. */
  onTerminated?: (() => void) | undefined;
  /**
   * Timer H fired: no ACK came for a 300-699 response (RFC 3261 §17.2.1, "MUST indicate to
   * the TU that a transaction failure has occurred"). Added with the transaction layer.
   */
  onTimeout?: (() => void) | undefined;
  /**
   * The transport could not deliver a response (RFC 3261 §17.2.4; in Accepted the transaction
   * stays there, RFC 6026 §8.8). Added with the transaction layer.
   */
  onTransportError?: ((error: Error) => void) | undefined;
}

/** Counters of a transaction layer (`TransactionLayer.stats()`). */
export interface TransactionStats {
  /** Live client transactions (not yet Terminated). */
  clientTransactions: number;
  /** Live server transactions (not yet Terminated). */
  serverTransactions: number;
  /** Requests, ACKs and responses re-sent by the machines (Timers A, E, G; absorbed retransmissions answered). */
  retransmissions: number;
  /** Timer B, F or H fired. */
  timeouts: number;
  /** Sends the transport rejected (RFC 3261 §17.1.4, §17.2.4). */
  transportErrors: number;
}
