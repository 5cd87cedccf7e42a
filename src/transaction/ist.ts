/**
 * The INVITE server transaction (RFC 3261 §17.2.1, Figure 7, as updated by RFC 6026 §7.1 and
 * §8.5-§8.8 with the Accepted state and Timer L).
 * @module
 */
import { createResponse } from '../sip/response-builder.js';
import type { SipRequest } from '../sip/message.js';
import type { Inbound } from '../transport/types.js';
import { assertNever, STAY, stay, statusClass, step, timerInput, type StatusClass, type Table, type TransactionHost } from './_machine.js';
import { ServerMachine, type ServerInput } from './_server.js';
import type { IstState } from './states.js';
import { sixtyFourT1 } from './timers.js';

/** Timers of the IST; `Trying` is the 200 ms automatic 100 Trying of §17.2.1. */
export type IstTimer = 'Trying' | 'G' | 'H' | 'I' | 'L';

/** Inputs of the IST: `request` from the network (INVITE retransmission or ACK), `response` from the TU. */
export type IstInput = ServerInput<IstTimer>;

/** Table events. */
export type IstEvent =
  | 'invite'
  | 'ack'
  | StatusClass
  | 'timerTrying' | 'timerG' | 'timerH' | 'timerI' | 'timerL'
  | 'transportError'
  | 'terminate';

/** Actions of the IST. */
export type IstAction =
  | 'sendTrying' // build and send 100 Trying, remember it as the last provisional
  | 'sendProvisional'
  | 'sendFinal'
  | 'resendProvisional'
  | 'resendFinal'
  | 'retransmitFinal' // Timer G: resend, G = min(2G, T2)
  | 'cancelTrying'
  | 'startG'
  | 'cancelG'
  | 'startH'
  | 'cancelH'
  | 'startI'
  | 'startL'
  | 'ackToTu'
  | 'timeoutToTu'
  | 'errorToTu';

/** Classifies an IST input. */
export function istEvent(input: IstInput): IstEvent {
  switch (input.kind) {
    case 'request':
      return input.request.method === 'ACK' ? 'ack' : 'invite';
    case 'response':
      return statusClass(input.response.status);
    case 'timer':
      switch (input.name) {
        case 'Trying': return 'timerTrying';
        case 'G': return 'timerG';
        case 'H': return 'timerH';
        case 'I': return 'timerI';
        case 'L': return 'timerL';
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

const END = step<IstState, IstAction>('terminated');
// RFC 3261 §17.2.4 and Figure 7: a transport error in Proceeding or Completed informs the TU
// and terminates.
const FAILED = step<IstState, IstAction>('terminated', 'errorToTu');

/** The IST table: state × event → (next state, actions). */
export const IST_TABLE: Table<IstState, IstEvent, IstAction> = {
  proceeding: {
    // RFC 3261 §17.2.1: "If a request retransmission is received while in the 'Proceeding'
    // state, the most recent provisional response that was received from the TU MUST be passed
    // to the transport layer for retransmission."
    invite: stay('resendProvisional'),
    ack: STAY,
    // "The TU passes any number of provisional responses to the server transaction. So long as
    // the server transaction is in the 'Proceeding' state, each of these MUST be passed to the
    // transport layer for transmission."
    '1xx': stay('cancelTrying', 'sendProvisional'),
    // RFC 6026 §8.5: "If, while in the 'Proceeding' state, the TU passes a 2xx response to the
    // server transaction, the server transaction MUST pass this response to the transport layer
    // for transmission. It is not retransmitted by the server transaction [...]. The server
    // transaction MUST then transition to the 'Accepted' state."
    '2xx': step('accepted', 'cancelTrying', 'sendFinal', 'startL'),
    // RFC 3261 §17.2.1: "if the TU passes a response with status code from 300 to 699 to the
    // server transaction, the response MUST be passed to the transport layer for transmission,
    // and the state machine MUST enter the 'Completed' state."
    '300-699': step('completed', 'cancelTrying', 'sendFinal', 'startG', 'startH'),
    // "the server transaction MUST generate a 100 (Trying) response unless it knows that the TU
    // will generate a provisional or final response within 200 ms".
    timerTrying: stay('sendTrying'),
    timerG: STAY,
    timerH: STAY,
    timerI: STAY,
    timerL: STAY,
    transportError: FAILED,
    terminate: END,
  },
  accepted: {
    // RFC 6026 §7.1: "any retransmissions of the INVITE received will match this transaction
    // state machine and will be absorbed by the machine without changing its state. These
    // retransmissions are not passed onto the TU."
    invite: STAY,
    // RFC 6026 Figure 7: an ACK matching the transaction in 'Accepted' is passed to the TU
    // (only a peer reusing the INVITE's branch sends one; the ACK for 2xx normally has its own).
    ack: stay('ackToTu'),
    '1xx': STAY,
    // RFC 6026 §8.7: "While in the 'Accepted' state, if the TU passes a 2xx response, the server
    // transaction MUST pass the response to the transport layer for transmission."
    '2xx': stay('sendFinal'),
    '300-699': STAY,
    timerTrying: STAY,
    timerG: STAY,
    timerH: STAY,
    timerI: STAY,
    // RFC 6026 §8.7: "If Timer L fires while the INVITE server transaction is in the 'Accepted'
    // state, the transaction MUST transition to the 'Terminated' state."
    timerL: END,
    // RFC 6026 §8.8: "the server transaction SHOULD inform the TU that a failure has occurred,
    // and MUST remain in the current state."
    transportError: stay('errorToTu'),
    terminate: END,
  },
  completed: {
    // RFC 3261 §17.2.1: "while in the 'Completed' state, if a request retransmission is
    // received, the server SHOULD pass the response to the transport for retransmission."
    invite: stay('resendFinal'),
    // "If an ACK is received while the server transaction is in the 'Completed' state, the
    // server transaction MUST transition to the 'Confirmed' state. As Timer G is ignored in this
    // state, any retransmissions of the response will cease."
    ack: step('confirmed', 'cancelG', 'cancelH', 'startI'),
    '1xx': STAY,
    '2xx': STAY,
    '300-699': STAY,
    timerTrying: STAY,
    // "If timer G fires, the response is passed to the transport layer once more for
    // retransmission, and timer G is set to fire in MIN(2*T1, T2) seconds."
    timerG: stay('retransmitFinal'),
    // "If timer H fires while in the 'Completed' state, it implies that the ACK was never
    // received. In this case, the server transaction MUST transition to the 'Terminated'
    // state, and MUST indicate to the TU that a transaction failure has occurred."
    timerH: step('terminated', 'timeoutToTu'),
    timerI: STAY,
    timerL: STAY,
    transportError: FAILED,
    terminate: END,
  },
  confirmed: {
    // "The purpose of the 'Confirmed' state is to absorb any additional ACK messages that
    // arrive, triggered from retransmissions of the final response."
    invite: STAY,
    ack: STAY,
    '1xx': STAY,
    '2xx': STAY,
    '300-699': STAY,
    timerTrying: STAY,
    timerG: STAY,
    timerH: STAY,
    // "Once timer I fires, the server MUST transition to the 'Terminated' state."
    timerI: END,
    timerL: STAY,
    transportError: STAY,
    terminate: END,
  },
  terminated: {
    invite: STAY, ack: STAY, '1xx': STAY, '2xx': STAY, '300-699': STAY, timerTrying: STAY, timerG: STAY,
    timerH: STAY, timerI: STAY, timerL: STAY, transportError: STAY, terminate: STAY,
  },
};

const TIMER_TRYING = timerInput('Trying');
const TIMER_G = timerInput('G');
const TIMER_H = timerInput('H');
const TIMER_I = timerInput('I');
const TIMER_L = timerInput('L');

/** An INVITE server transaction. Created by the layer for each new INVITE. */
export class InviteServerTransaction extends ServerMachine<IstState, IstEvent, IstAction, IstTimer> {
  private intervalG: number;

  constructor(id: string, request: SipRequest, inbound: Inbound, host: TransactionHost) {
    super(id, request, inbound, host, IST_TABLE, 'proceeding');
    this.intervalG = host.timers.t1;
  }

  /** Enters Proceeding; arms the automatic 100 Trying unless disabled. */
  start(): void {
    const delay = this.host.tryingDelay;
    if (delay !== undefined) this.startTimer('Trying', delay, TIMER_TRYING);
    this.drain();
  }

  protected classify(input: IstInput): IstEvent {
    return istEvent(input);
  }

  protected run(action: IstAction, input: IstInput): void {
    const t = this.host.timers;
    switch (action) {
      case 'sendTrying': {
        const trying = createResponse(this.request, 100);
        this.lastProvisional = trying;
        this.send(trying, this.target);
        break;
      }
      case 'sendProvisional':
        this.sendProvisional(input);
        break;
      case 'sendFinal':
        this.sendFinal(input);
        break;
      case 'resendProvisional':
        this.resend(this.lastProvisional);
        break;
      case 'resendFinal':
        this.resend(this.lastFinal);
        break;
      case 'retransmitFinal':
        this.resend(this.lastFinal);
        this.intervalG = Math.min(2 * this.intervalG, t.t2);
        this.startTimer('G', this.intervalG, TIMER_G);
        break;
      case 'cancelTrying':
        this.cancelTimer('Trying');
        break;
      case 'startG':
        // RFC 3261 §17.2.1: "For unreliable transports, timer G is set to fire in T1 seconds,
        // and is not set to fire for reliable transports."
        if (!this.reliable) this.startTimer('G', this.intervalG, TIMER_G);
        break;
      case 'cancelG':
        this.cancelTimer('G');
        break;
      case 'startH':
        // "When the 'Completed' state is entered, timer H MUST be set to fire in 64*T1 seconds
        // for all transports."
        this.startTimer('H', sixtyFourT1(t), TIMER_H);
        break;
      case 'cancelH':
        this.cancelTimer('H');
        break;
      case 'startI':
        // "When this state is entered, timer I is set to fire in T4 seconds for unreliable
        // transports, and zero seconds for reliable transports."
        this.startTimer('I', this.reliable ? 0 : t.t4, TIMER_I);
        break;
      case 'startL':
        // RFC 6026 §8.7: Timer L = 64*T1.
        this.startTimer('L', sixtyFourT1(t), TIMER_L);
        break;
      case 'ackToTu':
        if (input.kind === 'request') this.host.requestToTu(input.request, this, input.inbound);
        break;
      case 'timeoutToTu':
        this.host.countTimeout();
        this.callTu(() => this.onTimeout?.());
        break;
      case 'errorToTu':
        this.errorToTu(input);
        break;
      default:
        assertNever(action);
    }
  }
}
