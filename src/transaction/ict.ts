/**
 * The INVITE client transaction (RFC 3261 §17.1.1, Figure 5, as updated by RFC 6026 §8.4
 * with the Accepted state and Timer M).
 * @module
 */
import type { SipRequest } from '../sip/message.js';
import type { Target } from '../transport/types.js';
import { buildAckForNon2xx } from './ack.js';
import {
  assertNever, STAY, stay, statusClass, step, timerInput,
  type ResponseInput, type StatusClass, type Table, type TerminateInput, type TimerInput, type TransactionHost, type TransportErrorInput,
} from './_machine.js';
import type { IctState } from './states.js';
import { sixtyFourT1 } from './timers.js';
import type { ClientTransactionUser } from './types.js';
import { ClientMachine } from './_client.js';

/** Timers of the ICT. */
export type IctTimer = 'A' | 'B' | 'D' | 'M';

/** Inputs of the ICT. */
export type IctInput = ResponseInput | TimerInput<IctTimer> | TransportErrorInput | TerminateInput;

/** Table events: the input with the response reduced to its status class. */
export type IctEvent = StatusClass | 'timerA' | 'timerB' | 'timerD' | 'timerM' | 'transportError' | 'terminate';

/** Actions of the ICT. */
export type IctAction =
  | 'retransmit' // Timer A: resend the INVITE, double A (no T2 cap)
  | 'cancelA'
  | 'cancelB'
  | 'sendAck' // build the ACK for this 300-699 response and send it
  | 'resendAck' // a retransmitted 300-699: send the same ACK again
  | 'startD'
  | 'startM'
  | 'toTu' // the response to the TU
  | 'timeoutToTu'
  | 'errorToTu';

/** Classifies an ICT input. */
export function ictEvent(input: IctInput): IctEvent {
  switch (input.kind) {
    case 'response':
      return statusClass(input.response.status);
    case 'timer':
      switch (input.name) {
        case 'A': return 'timerA';
        case 'B': return 'timerB';
        case 'D': return 'timerD';
        case 'M': return 'timerM';
        default: return assertNever(input.name);
      }
    case 'transportError':
      return 'transportError';
    case 'terminate':
      return 'terminate';
    default:
      return assertNever(input);
  }
}

const END = step<IctState, IctAction>('terminated');

/** The ICT table: state × event → (next state, actions). */
export const ICT_TABLE: Table<IctState, IctEvent, IctAction> = {
  calling: {
    // RFC 3261 §17.1.1.2: "If the client transaction receives a provisional response while in
    // the 'Calling' state, it transitions to the 'Proceeding' state [...] SHOULD NOT retransmit
    // the request any longer"; the response is passed to the TU.
    '1xx': step('proceeding', 'cancelA', 'cancelB', 'toTu'),
    // RFC 6026 §8.4: "If a 2xx response is received while the client INVITE state machine is in
    // the 'Calling' or 'Proceeding' states, it MUST transition to the 'Accepted' state, pass the
    // 2xx response to the TU, and set Timer M to 64*T1."
    '2xx': step('accepted', 'cancelA', 'cancelB', 'startM', 'toTu'),
    // RFC 3261 §17.1.1.2: "When in either the 'Calling' or 'Proceeding' states, reception of a
    // response with status code from 300-699 MUST cause the client transaction to transition to
    // 'Completed'. The client transaction MUST pass the received response up to the TU, and the
    // client transaction MUST generate an ACK request."
    '300-699': step('completed', 'cancelA', 'cancelB', 'sendAck', 'startD', 'toTu'),
    timerA: stay('retransmit'),
    // "If the client transaction is still in the 'Calling' state when timer B fires, the client
    // transaction SHOULD inform the TU that a timeout has occurred."
    timerB: step('terminated', 'timeoutToTu'),
    timerD: STAY,
    timerM: STAY,
    // RFC 3261 §17.1.4: inform the TU and go directly to Terminated.
    transportError: step('terminated', 'errorToTu'),
    terminate: END,
  },
  proceeding: {
    '1xx': stay('toTu'),
    '2xx': step('accepted', 'startM', 'toTu'),
    '300-699': step('completed', 'sendAck', 'startD', 'toTu'),
    timerA: STAY,
    timerB: STAY,
    timerD: STAY,
    timerM: STAY,
    // Nothing is sent in Proceeding; a late failure of the INVITE is moot once a response came.
    transportError: STAY,
    terminate: END,
  },
  accepted: {
    // RFC 6026 §8.4: "Any 2xx responses received while in the 'Accepted' state MUST be passed up
    // to the TU" (retransmissions and forked answers; the TU ACKs them). Other responses are
    // not part of the transaction any more.
    '1xx': STAY,
    '2xx': stay('toTu'),
    '300-699': STAY,
    timerA: STAY,
    timerB: STAY,
    timerD: STAY,
    // "If Timer M fires while the client transaction is in the 'Accepted' state, the client
    // transaction MUST move to the 'Terminated' state."
    timerM: END,
    transportError: STAY,
    terminate: END,
  },
  completed: {
    '1xx': STAY,
    '2xx': STAY,
    // RFC 3261 §17.1.1.2: "Any retransmissions of the final response that are received while in
    // the 'Completed' state MUST cause the ACK to be re-passed to the transport layer for
    // retransmission, but the newly received response MUST NOT be passed up to the TU."
    '300-699': stay('resendAck'),
    timerA: STAY,
    timerB: STAY,
    // "If timer D fires while the client transaction is in the 'Completed' state, the client
    // transaction MUST move to the 'Terminated' state."
    timerD: END,
    timerM: STAY,
    // Deviation: §17.1.4 would inform the TU, but it already holds its final response and would
    // answer a second time (a proxy would send a 503 after forwarding the failure). The ACK
    // could not be sent; the transaction just ends.
    transportError: END,
    terminate: END,
  },
  terminated: {
    '1xx': STAY, '2xx': STAY, '300-699': STAY, timerA: STAY, timerB: STAY, timerD: STAY, timerM: STAY,
    transportError: STAY, terminate: STAY,
  },
};

const TIMER_A = timerInput('A');
const TIMER_B = timerInput('B');
const TIMER_D = timerInput('D');
const TIMER_M = timerInput('M');

/** An INVITE client transaction. Created by `TransactionLayer.createClient`. */
export class InviteClientTransaction extends ClientMachine<IctState, IctEvent, IctAction, IctInput> {
  private intervalA: number;
  private ack: SipRequest | undefined;

  constructor(id: string, request: SipRequest, target: Target, user: ClientTransactionUser, host: TransactionHost) {
    super(id, request, target, user, host, ICT_TABLE, 'calling');
    this.intervalA = host.timers.t1;
  }

  /** Enters Calling: sends the INVITE and starts Timers A and B. */
  start(): void {
    this.send(this.request, this.target);
    // RFC 3261 §17.1.1.2: "If an unreliable transport is being used, the client transaction
    // MUST start timer A with a value of T1. If a reliable transport is being used, the client
    // transaction SHOULD NOT start timer A."
    if (!this.reliable) this.startTimer('A', this.intervalA, TIMER_A);
    // "For any transport, the client transaction MUST start timer B with a value of 64*T1."
    this.startTimer('B', sixtyFourT1(this.host.timers), TIMER_B);
  }

  protected classify(input: IctInput): IctEvent {
    return ictEvent(input);
  }

  protected run(action: IctAction, input: IctInput): void {
    switch (action) {
      case 'retransmit':
        // RFC 3261 §17.1.1.2: "When timer A fires, the client transaction MUST retransmit the
        // request [...] and reset the timer with a value of 2*T1." Doubling goes on without the
        // T2 cap of Timers E and G; Timer B ends it.
        this.send(this.request, this.target);
        this.host.countRetransmission();
        this.intervalA *= 2;
        this.startTimer('A', this.intervalA, TIMER_A);
        break;
      case 'cancelA':
        this.cancelTimer('A');
        break;
      case 'cancelB':
        this.cancelTimer('B');
        break;
      case 'sendAck':
        if (input.kind !== 'response') break;
        this.ack = buildAckForNon2xx(this.request, input.response);
        // RFC 3261 §17.1.1.3: "The ACK MUST be sent to the same address, port, and transport to
        // which the original request was sent."
        this.send(this.ack, this.target);
        break;
      case 'resendAck':
        if (this.ack === undefined) break;
        this.send(this.ack, this.target);
        this.host.countRetransmission();
        break;
      case 'startD':
        // RFC 3261 §17.1.1.2: "timer D [...] at least 32 seconds for unreliable transports, and
        // a value of zero seconds for reliable transports."
        this.startTimer('D', this.reliable ? 0 : this.host.timers.timerD, TIMER_D);
        break;
      case 'startM':
        this.startTimer('M', sixtyFourT1(this.host.timers), TIMER_M);
        break;
      case 'toTu':
        if (input.kind === 'response') this.callTu(() => this.user.onResponse(input.response));
        break;
      case 'timeoutToTu':
        this.host.countTimeout();
        this.callTu(() => this.user.onTimeout());
        break;
      case 'errorToTu':
        if (input.kind === 'transportError') this.callTu(() => this.user.onTransportError(input.error));
        break;
      default:
        assertNever(action);
    }
  }

}
