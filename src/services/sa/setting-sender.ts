/**
 * Sends one setting request to a device and waits for its final answer (SPEC SA-5; seed 000
 * §4.1 a23/a43: "SIP request (encryption information)" and the "SIP response for
 * notification of completion"). The request is a `MESSAGE` (docs/protocol.md §3.6) in a
 * non-INVITE client transaction, so UDP retransmission (Timer E) and the 32 s give-up
 * (Timer F) come from RFC 3261 §17.1.2; the SA layer seals it under the generation in force.
 * @module
 */
import { field, SipRequest, type SipResponse } from '../../sip/message.js';
import { SETTING_CONTENT_TYPE } from '../../security/sa/index.js';
import type { TransactionLayer } from '../../transaction/transaction-layer.js';
import { hostOf, type Endpoint, type Target } from '../../transport/types.js';
import { randomToken, type Random } from '../../util/random.js';

/** The final outcome of one setting transaction. */
export type SettingAnswer = { kind: 'response'; response: SipResponse } | { kind: 'timeout' } | { kind: 'transport'; error: Error };

/** Where and how to reach a device. */
export interface DeviceAddress {
  /** Request-URI: the device's registered contact. */
  contact: string;
  aor: string;
  target: Target;
}

/** Builds and sends setting requests. */
export class SettingSender {
  private readonly transactions: TransactionLayer;
  private readonly random: Random;
  private readonly domain: string;
  private readonly localEndpointFor: (target: Target) => Endpoint | undefined;

  constructor(opts: { transactions: TransactionLayer; random: Random; domain: string; localEndpointFor: (target: Target) => Endpoint | undefined }) {
    this.transactions = opts.transactions;
    this.random = opts.random;
    this.domain = opts.domain;
    this.localEndpointFor = opts.localEndpointFor;
  }

  /** Sends `body` to the device; resolves with the final response, a timeout or a transport error. */
  send(device: DeviceAddress, body: Uint8Array): Promise<SettingAnswer> {
    const local = this.localEndpointFor(device.target);
    if (!local) return Promise.resolve({ kind: 'transport', error: new Error(`no local ${device.target.protocol} endpoint`) });
    const branch = this.transactions.newBranch();
    const req = new SipRequest('MESSAGE', device.contact, [
      field('Via', `SIP/2.0/${local.protocol.toUpperCase()} ${hostOf(local.address)}:${local.port};branch=${branch};rport`),
      field('Max-Forwards', '70'),
      field('From', `<sip:sipher@${this.domain}>;tag=${randomToken(this.random, 10)}`),
      field('To', `<${device.aor}>`),
      field('Call-ID', `${randomToken(this.random, 20)}@${this.domain}`),
      field('CSeq', '1 MESSAGE'),
    ]);
    req.setBody(Buffer.from(body.buffer, body.byteOffset, body.byteLength), SETTING_CONTENT_TYPE);
    return new Promise((resolve) => {
      let done = false;
      const finish = (a: SettingAnswer): void => {
        if (!done) {
          done = true;
          resolve(a);
        }
      };
      try {
        this.transactions.createClient(req, device.target, {
          onResponse: (r) => {
            if (r.status >= 200) finish({ kind: 'response', response: r });
          },
          onTimeout: () => finish({ kind: 'timeout' }),
          onTransportError: (error) => finish({ kind: 'transport', error }),
        });
      } catch (error) {
        finish({ kind: 'transport', error: error as Error });
      }
    });
  }
}
