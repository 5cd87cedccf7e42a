/**
 * The non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6).
 * @module
 */
import type { SipRequest } from '../sip/message.js';
import type { Target } from '../transport/types.js';
import {
  assertNever, STAY, stay, step, timerInput,
  type ResponseInput, type Table, type TerminateInput, type TimerInput, type TransactionHost, type TransportErrorInput,
} from './_machine.js';
import type { NictState } from './states.js';
import { sixtyFourT1 } from './timers.js';
import type { ClientTransactionUser } from './types.js';
import { ClientMachine } from './_client.js';

/** Timers of the NICT. */
export type NictTimer = 'E' | 'F' | 'K';

/** Inputs of the NICT. */
export type NictInput = ResponseInput | TimerInput<NictTimer> | TransportErrorInput | TerminateInput;

/** Table events. */
export type NictEvent = '1xx' | '200-699' | 'timerE' | 'timerF' | 'timerK' | 'transportError' | 'terminate';

/** Actions of the NICT. */
export type NictAction =
  | 'retransmit' // Timer E in Trying: resend, E = min(2E, T2)
  | 'retransmitAtT2' // Timer E in Proceeding: resend, E = T2
  | 'cancelE'
  | 'cancelF'
  | 'startK'
  | 'toTu'
  | 'timeoutToTu'
  | 'errorToTu';

/** Classifies a NICT input. */
export function nictEvent(input: NictInput): NictEvent {
  switch (input.kind) {
    case 'response':
      return input.response.status < 200 ? '1xx' : '200-699';
    case 'timer':
      switch (input.name) {
        case 'E': return 'timerE';
        case 'F': return 'timerF';
        case 'K': return 'timerK';
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

const END = step<NictState, NictAction>('terminated');
// RFC 3261 §17.1.2.2: "If a final response (status codes 200-699) is received while in the
// 'Trying' state [or 'Proceeding'], the response MUST be passed to the TU, and the client
// transaction MUST transition to the 'Completed' state."
const FINAL = step<NictState, NictAction>('completed', 'cancelE', 'cancelF', 'startK', 'toTu');
// "If Timer F fires while the client transaction is still in the 'Trying' [or 'Proceeding']
// state, the client transaction SHOULD inform the TU about the timeout, and then it SHOULD
// enter the 'Terminated' state."
const TIMEOUT = step<NictState, NictAction>('terminated', 'timeoutToTu');
// RFC 3261 §17.1.4 and Figure 6: a transport error in Trying or Proceeding informs the TU.
const FAILED = step<NictState, NictAction>('terminated', 'errorToTu');

/** The NICT table: state × event → (next state, actions). */
export const NICT_TABLE: Table<NictState, NictEvent, NictAction> = {
  trying: {
    // "If a provisional response is received while in the 'Trying' state, the response MUST be
    // passed to the TU, and then the client transaction SHOULD move to the 'Proceeding' state."
    '1xx': step('proceeding', 'toTu'),
    '200-699': FINAL,
    // "If timer E fires while still in this state, the timer is reset, but this time with a
    // value of MIN(2*T1, T2). [...] it is reset with a MIN(4*T1, T2)."
    timerE: stay('retransmit'),
    timerF: TIMEOUT,
    timerK: STAY,
    transportError: FAILED,
    terminate: END,
  },
  proceeding: {
    '1xx': stay('toTu'),
    '200-699': FINAL,
    // "If Timer E fires while in the 'Proceeding' state, the request MUST be passed to the
    // transport layer for retransmission, and Timer E MUST be reset with a value of T2 seconds."
    timerE: stay('retransmitAtT2'),
    timerF: TIMEOUT,
    timerK: STAY,
    transportError: FAILED,
    terminate: END,
  },
  completed: {
    // "The 'Completed' state exists to buffer any additional response retransmissions that may
    // be received (which is why the client transaction remains there only for unreliable
    // transports)." They are absorbed.
    '1xx': STAY,
    '200-699': STAY,
    timerE: STAY,
    timerF: STAY,
    // "If Timer K fires while in this state, the client transaction MUST transition to the
    // 'Terminated' state."
    timerK: END,
    // Nothing is sent in Completed; a late failure of an earlier send is moot.
    transportError: STAY,
    terminate: END,
  },
  terminated: {
    '1xx': STAY, '200-699': STAY, timerE: STAY, timerF: STAY, timerK: STAY, transportError: STAY, terminate: STAY,
  },
};

const TIMER_E = timerInput('E');
const TIMER_F = timerInput('F');
const TIMER_K = timerInput('K');

/** A non-INVITE client transaction. Created by `TransactionLayer.createClient`. */
export class NonInviteClientTransaction extends ClientMachine<NictState, NictEvent, NictAction, NictInput> {
  private intervalE: number;

  constructor(id: string, request: SipRequest, target: Target, user: ClientTransactionUser, host: TransactionHost) {
    super(id, request, target, user, host, NICT_TABLE, 'trying');
    this.intervalE = host.timers.t1;
  }

  /** Enters Trying: sends the request and starts Timers E and F. */
  start(): void {
    this.send(this.request, this.target);
    // RFC 3261 §17.1.2.2: "If an unreliable transport is in use, the client transaction MUST set
    // timer E to fire in T1 seconds."
    if (!this.reliable) this.startTimer('E', this.intervalE, TIMER_E);
    // "The 'Trying' state is entered when the TU initiates a new client transaction with a
    // request. When entering this state, the client transaction SHOULD set timer F to fire in
    // 64*T1 seconds."
    this.startTimer('F', sixtyFourT1(this.host.timers), TIMER_F);
  }

  protected classify(input: NictInput): NictEvent {
    return nictEvent(input);
  }

  protected run(action: NictAction, input: NictInput): void {
    const t = this.host.timers;
    switch (action) {
      case 'retransmit':
        this.send(this.request, this.target);
        this.host.countRetransmission();
        this.intervalE = Math.min(2 * this.intervalE, t.t2);
        this.startTimer('E', this.intervalE, TIMER_E);
        break;
      case 'retransmitAtT2':
        this.send(this.request, this.target);
        this.host.countRetransmission();
        this.intervalE = t.t2;
        this.startTimer('E', this.intervalE, TIMER_E);
        break;
      case 'cancelE':
        this.cancelTimer('E');
        break;
      case 'cancelF':
        this.cancelTimer('F');
        break;
      case 'startK':
        // "Once the client transaction enters the 'Completed' state, it MUST set Timer K to fire
        // in T4 seconds for unreliable transports, and zero seconds for reliable transports."
        this.startTimer('K', this.reliable ? 0 : t.t4, TIMER_K);
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
