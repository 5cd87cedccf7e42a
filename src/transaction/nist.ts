/**
 * The non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8). CANCEL gets one too.
 * @module
 */
import type { SipRequest } from '../sip/message.js';
import type { Inbound } from '../transport/types.js';
import { assertNever, STAY, stay, step, timerInput, type Table, type TransactionHost } from './_machine.js';
import { ServerMachine, type ServerInput } from './_server.js';
import type { NistState } from './states.js';
import { sixtyFourT1 } from './timers.js';

/** Timers of the NIST. */
export type NistTimer = 'J';

/** Inputs of the NIST: `request` is a retransmission from the network, `response` comes from the TU. */
export type NistInput = ServerInput<NistTimer>;

/** Table events. */
export type NistEvent = 'request' | '1xx' | '200-699' | 'timerJ' | 'transportError' | 'terminate';

/** Actions of the NIST. */
export type NistAction = 'sendProvisional' | 'sendFinal' | 'resendProvisional' | 'resendFinal' | 'startJ' | 'errorToTu';

/** Classifies a NIST input. */
export function nistEvent(input: NistInput): NistEvent {
  switch (input.kind) {
    case 'request':
      return 'request';
    case 'response':
      return input.response.status < 200 ? '1xx' : '200-699';
    case 'timer':
      return 'timerJ';
    case 'transportError':
      return 'transportError';
    case 'terminate':
      return 'terminate';
    default:
      return assertNever(input);
  }
}

const END = step<NistState, NistAction>('terminated');
// RFC 3261 §17.2.2: "If, while in the 'Trying' [or 'Proceeding'] state, the TU passes a final
// response to the server transaction, the transaction MUST enter the 'Completed' state, and
// the response MUST be passed to the transport layer for transmission."
const FINAL = step<NistState, NistAction>('completed', 'sendFinal', 'startJ');
// RFC 3261 §17.2.4 and Figure 8: transport errors in Proceeding and Completed inform the TU.
const FAILED = step<NistState, NistAction>('terminated', 'errorToTu');

/** The NIST table: state × event → (next state, actions). */
export const NIST_TABLE: Table<NistState, NistEvent, NistAction> = {
  trying: {
    // "While in the 'Trying' state, any further request retransmissions are discarded."
    request: STAY,
    // "If a provisional response is passed to the transaction while in the 'Trying' state, the
    // transaction MUST move to the 'Proceeding' state and the response MUST be passed to the
    // transport layer for transmission."
    '1xx': step('proceeding', 'sendProvisional'),
    '200-699': FINAL,
    timerJ: STAY,
    // Nothing has been sent in Trying.
    transportError: STAY,
    terminate: END,
  },
  proceeding: {
    // "If a retransmission of the request is received while in the 'Proceeding' state, the most
    // recently sent provisional response MUST be passed to the transport layer for
    // retransmission."
    request: stay('resendProvisional'),
    // "Any further provisional responses that are received from the TU while in the
    // 'Proceeding' state MUST be passed to the transport layer for transmission."
    '1xx': stay('sendProvisional'),
    '200-699': FINAL,
    timerJ: STAY,
    transportError: FAILED,
    terminate: END,
  },
  completed: {
    // "While in the 'Completed' state, the server transaction MUST pass the final response to
    // the transport layer for retransmission whenever a retransmission of the request is
    // received."
    request: stay('resendFinal'),
    // "Any other final responses passed by the TU to the server transaction MUST be discarded
    // while in the 'Completed' state."
    '1xx': STAY,
    '200-699': STAY,
    // "The server transaction remains in this state until Timer J fires, at which point it MUST
    // transition to the 'Terminated' state."
    timerJ: END,
    transportError: FAILED,
    terminate: END,
  },
  terminated: {
    request: STAY, '1xx': STAY, '200-699': STAY, timerJ: STAY, transportError: STAY, terminate: STAY,
  },
};

const TIMER_J = timerInput('J');

/** A non-INVITE server transaction. Created by the layer for each new non-INVITE request. */
export class NonInviteServerTransaction extends ServerMachine<NistState, NistEvent, NistAction, NistTimer> {
  constructor(id: string, request: SipRequest, inbound: Inbound, host: TransactionHost) {
    super(id, request, inbound, host, NIST_TABLE, 'trying');
  }

  protected classify(input: NistInput): NistEvent {
    return nistEvent(input);
  }

  protected run(action: NistAction, input: NistInput): void {
    switch (action) {
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
      case 'startJ':
        // "When the server transaction enters the 'Completed' state, it MUST set Timer J to fire
        // in 64*T1 seconds for unreliable transports, and zero seconds for reliable transports."
        this.startTimer('J', this.reliable ? 0 : sixtyFourT1(this.host.timers), TIMER_J);
        break;
      case 'errorToTu':
        this.errorToTu(input);
        break;
      default:
        assertNever(action);
    }
  }
}
