/**
 * The error a call attempt fails with.
 * @module
 */
import { SipherError } from '../../errors.js';
import type { SipResponse } from '../../sip/message.js';
import { codeForStatus } from '../client-errors.js';

/**
 * A call that could not be set up or was refused: `status` and `reason` are those of the final
 * response (RFC 3261 §13.2.2.3: a non-2xx final response ends the INVITE attempt), or of the
 * response this device sent or would have sent (`488` when the session description could not
 * be accepted, RFC 3261 §21.4.26; `487` for a cancelled INVITE, §9.1). The code follows
 * {@link codeForStatus}, as for a refused registration.
 */
export class CallError extends SipherError {
  /** The final status, e.g. 486. */
  readonly status: number;
  /** The reason phrase (as received, or the one sent). */
  readonly reason: string;
  /** The response that ended the attempt, when one was received. */
  readonly response: SipResponse | undefined;

  constructor(status: number, reason: string, opts: { response?: SipResponse; message?: string; cause?: unknown } = {}) {
    super(codeForStatus(status), opts.message ?? `call failed: ${status} ${reason}`, { sipStatus: status, sipReason: reason, cause: opts.cause });
    this.status = status;
    this.reason = reason;
    this.response = opts.response;
  }
}
