/**
 * What the two client machines (ICT, NICT) share: the request and its target, the
 * transaction user, reliability of the transport, response intake and the Terminated
 * notification. The machines themselves stay in `ict.ts` and `nict.ts`.
 * @module
 */
import type { SipRequest, SipResponse } from '../sip/message.js';
import { isReliable, type Target } from '../transport/types.js';
import { Machine, type ResponseInput, type Table, type TransactionHost } from './_machine.js';
import type { ClientTransaction, ClientTransactionUser } from './types.js';

/** Base of the INVITE and non-INVITE client transactions. */
export abstract class ClientMachine<S extends string, E extends string, A extends string, I extends { readonly kind: string } | ResponseInput>
  extends Machine<S, E, A, I>
  implements ClientTransaction {
  readonly request: SipRequest;
  readonly target: Target;
  protected readonly user: ClientTransactionUser;
  protected readonly reliable: boolean;

  protected constructor(id: string, request: SipRequest, target: Target, user: ClientTransactionUser, host: TransactionHost, table: Table<S, E, A>, initial: S) {
    super(id, host, table, initial, 'terminated' as S, false);
    this.request = request;
    this.target = target;
    this.user = user;
    this.reliable = isReliable(target.protocol);
  }

  /** Sends the request and starts the initial timers. */
  abstract start(): void;

  /** A response matched to this transaction (RFC 3261 §17.1.3). */
  receiveResponse(response: SipResponse): void {
    this.handle({ kind: 'response', response } as I);
  }

  protected finished(): void {
    this.user.onTerminated?.();
  }
}
