/**
 * The events a {@link SipherClient} emits, and a small typed wrapper over `node:events`.
 * @module
 */
import type { CertificateEvent } from './identity/device-identity-options.js';
import type { SaEvent } from './sa/device-sa-options.js';
import type { IncomingCall } from './calls/incoming-call.js';
import type { SipherError } from '../errors.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import type { Inbound } from '../transport/types.js';

/** Payload of `registered`: the binding the registrar granted. */
export interface RegisteredEvent {
  /** Expiry granted for our Contact, seconds (RFC 3261 §10.2.4). */
  expires: number;
  /** Every Contact the registrar lists for the AOR (ours and other devices'), as written. */
  contacts: string[];
  /** The 2xx to the REGISTER. */
  response: SipResponse;
}

/** Payload of `registration-failed`. */
export interface RegistrationFailedEvent {
  error: SipherError;
  /** The final status that failed the registration, when there was one. */
  status?: number | undefined;
}

/** What a `respond()` of an {@link IncomingRequest} may carry. */
export interface RespondOptions {
  reason?: string;
  headers?: readonly [string, string][];
  body?: Uint8Array;
  contentType?: string;
}

/** An out-of-dialog request that reached the client (e.g. a MESSAGE relayed by the server). */
export interface IncomingRequest {
  readonly request: SipRequest;
  readonly inbound: Inbound;
  /**
   * Sends the final (or provisional) response through the server transaction (RFC 3261 §17.2).
   * Only the first final response counts; later calls are ignored by the transaction.
   */
  respond(status: number, opts?: RespondOptions): void;
  /** True once a final response was sent. */
  readonly answered: boolean;
}

/** Event name → listener argument. */
export interface SipherClientEvents {
  registered: RegisteredEvent;
  'registration-failed': RegistrationFailedEvent;
  unregistered: undefined;
  request: IncomingRequest;
  /**
   * An INVITE reached this device (SPEC PEER-1): `accept()` or `reject()` it. 100 Trying is
   * sent at once and 180 Ringing after the listeners ran, unless one already answered.
   */
  call: IncomingCall;
  /** A certificate was issued (or renewed) with a registration. */
  certificate: CertificateEvent;
  /** SA established, updated by a setting, lost, or unavailable at this server (SPEC SA-*). */
  sa: SaEvent;
  error: Error;
}

export { TypedEmitter } from './typed-emitter.js';
