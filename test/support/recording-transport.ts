/**
 * A fake {@link TransportLayer} that records every send with the clock time it happened at,
 * and can be told to reject sends (style G9: a real transaction layer over a recorder).
 * @module
 */
import { TransportError } from '../../src/errors.js';
import { SipRequest, SipResponse, type SipMessage } from '../../src/sip/message.js';
import type { Endpoint, Target, TransportLayer, TransportProtocol } from '../../src/transport/types.js';
import type { Clock } from '../../src/util/clock.js';

/** One recorded send. */
export interface SentRecord {
  message: SipMessage;
  target: Target;
  /** `clock.now()` at the time of the send. */
  at: number;
}

/** Decides whether a send fails: return an error to reject it. */
export type FailurePolicy = (message: SipMessage, target: Target) => Error | undefined;

/** The recording transport. */
export class RecordingTransport implements TransportLayer {
  readonly sent: SentRecord[] = [];
  private readonly clock: Clock | undefined;
  private policy: FailurePolicy | undefined;

  constructor(clock?: Clock) {
    this.clock = clock;
  }

  send(message: SipMessage, target: Target): Promise<void> {
    this.sent.push({ message, target, at: this.clock?.now() ?? 0 });
    const error = this.policy?.(message, target);
    return error ? Promise.reject(error) : Promise.resolve();
  }

  localEndpoint(protocol: TransportProtocol, family?: 4 | 6): Endpoint | undefined {
    return { protocol, address: family === 6 ? '::1' : '127.0.0.1', port: protocol === 'tls' ? 5061 : 5060 };
  }

  /** Makes sends matching `policy` fail from now on (`undefined` restores success). */
  failWhen(policy: FailurePolicy | undefined): void {
    this.policy = policy;
  }

  /** Makes every send fail with a {@link TransportError}. */
  failAll(message = 'connection refused'): void {
    this.policy = () => new TransportError(message);
  }

  /** Sent requests, optionally of one method. */
  requests(method?: string): SentRecord[] {
    return this.sent.filter((r) => r.message instanceof SipRequest && (method === undefined || r.message.method === method));
  }

  /** Sent responses, optionally of one status. */
  responses(status?: number): SentRecord[] {
    return this.sent.filter((r) => r.message instanceof SipResponse && (status === undefined || r.message.status === status));
  }

  /** Send times of `records` relative to `origin`. */
  static times(records: readonly SentRecord[], origin: number): number[] {
    return records.map((r) => r.at - origin);
  }

  /** Forgets what was recorded. */
  clear(): void {
    this.sent.length = 0;
  }
}

/** Lets rejected send promises settle (their handlers run as microtasks). */
export async function settle(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}
