/**
 * Sending one request of the SDK in a client transaction (RFC 3261 §17.1) and waiting for its
 * final response, with the RFC 3261 §18.1.1 size rule: a request within 200 bytes of the path
 * MTU (1500, so over 1,300 bytes as sent) goes over TCP to the same address and port, the Via
 * saying so; if that connection is refused, it is retried over UDP.
 * @module
 */
import { TransactionTimeoutError, TransportError } from '../errors.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import { serialize } from '../sip/serializer.js';
import type { TransactionLayer } from '../transaction/transaction-layer.js';
import type { Target } from '../transport/types.js';
import type { Logger } from '../util/logger.js';

/** RFC 3261 §18.1.1: over UDP only messages up to 200 bytes below a 1500-byte MTU. */
export const UDP_SIZE_LIMIT = 1300;

/**
 * Sends `req` to `target` and resolves with the final response. `extraBytes`: what the SA
 * layer adds when sealing (the size that counts is the one on the wire). Rejects with
 * `TransactionTimeoutError` (408) or `TransportError` (503), RFC 3261 §8.1.3.1.
 */
export async function sendRequest(
  layer: TransactionLayer,
  req: SipRequest,
  target: Target,
  o: { extraBytes: number; observe?: ((r: SipResponse) => void) | undefined; log: Logger },
): Promise<SipResponse> {
  if (target.protocol !== 'udp' || serialize(req).length + o.extraBytes <= UDP_SIZE_LIMIT) return transaction(layer, req, target, o.observe);
  const via = req.get('via')!;
  req.set('Via', via.replace(/^SIP\/2\.0\/UDP/i, 'SIP/2.0/TCP'));
  try {
    return await transaction(layer, req, { protocol: 'tcp', address: target.address, port: target.port }, o.observe);
  } catch (e) {
    if (!(e instanceof TransportError)) throw e;
    o.log.debug('TCP for a large request failed; retrying over UDP', { method: req.method });
    req.set('Via', via);
    return transaction(layer, req, target, o.observe);
  }
}

function transaction(layer: TransactionLayer, req: SipRequest, target: Target, observe?: (r: SipResponse) => void): Promise<SipResponse> {
  return new Promise<SipResponse>((resolve, reject) => {
    layer.createClient(req, target, {
      onResponse: (r) => {
        observe?.(r);
        if (r.status >= 200) resolve(r);
      },
      onTimeout: () => reject(new TransactionTimeoutError(`${req.method} timed out`)),
      onTransportError: (e) => reject(e instanceof TransportError ? e : new TransportError(`${req.method} could not be sent`, e)),
      onTerminated: () => reject(new TransportError(`${req.method} transaction ended without a response`)),
    });
  });
}
