/**
 * Where a server transaction sends its responses (RFC 3261 §18.2.2, RFC 3581 §4). Pure.
 * @module
 */
import type { Via } from '../sip/via.js';
import { isReliable, type Endpoint, type Target, type TransportProtocol } from '../transport/types.js';

const DEFAULT_PORT: Readonly<Record<TransportProtocol, number>> = Object.freeze({ udp: 5060, tcp: 5060, tls: 5061, ws: 80, wss: 443 });
const IPV4_RE = /^[0-9]{1,3}(\.[0-9]{1,3}){3}$/;

/** An address as an {@link Endpoint} holds it: IPv6 without brackets. */
function bare(host: string): string {
  return host.length > 1 && host.charCodeAt(0) === 0x5b /* [ */ ? host.slice(1, -1) : host;
}

function isIpLiteral(host: string): boolean {
  return host.charCodeAt(0) === 0x5b || IPV4_RE.test(host);
}

/**
 * The target of responses to a request whose top Via is `via`, received from `source` (on
 * connection `connectionId` for connection-oriented transports).
 *
 * - Reliable (RFC 3261 §18.2.2): "the response MUST be sent using the existing connection to
 *   the source of the original request [...] if that connection is still open"; else "to the
 *   IP address in the 'received' parameter [the source address], using the port in the
 *   'sent-by' value, or the default port for that transport". The target carries both: the
 *   transport uses `connectionId` while it is open.
 * - Unreliable with `maddr`: "the response MUST be forwarded to the address listed there,
 *   using the port indicated in 'sent-by', or port 5060 if none is present".
 * - Unreliable with `rport` (RFC 3581 §4): "the response MUST be sent to the IP address listed
 *   in the 'received' parameter, and the port in the 'rport' parameter" (the source address
 *   and port when the transport left them unfilled).
 * - Otherwise: the `received` address, or the sent-by host, with the sent-by port or 5060.
 */
export function responseTarget(via: Via, source: Endpoint, connectionId?: string): Target {
  const protocol = source.protocol;
  if (isReliable(protocol)) {
    return { protocol, address: source.address, port: via.port ?? DEFAULT_PORT[protocol], connectionId };
  }
  const params = via.params;
  const maddr = params.get('maddr');
  if (maddr) return { protocol, address: bare(maddr), port: via.port ?? 5060 };
  const received = params.get('received');
  const rport = params.get('rport');
  if (rport !== undefined) {
    const port = rport === null ? NaN : Number(rport);
    return {
      protocol,
      address: received ? bare(received) : source.address,
      port: Number.isInteger(port) && port > 0 && port <= 65535 ? port : source.port,
    };
  }
  let address: string;
  if (received) address = bare(received);
  else if (isIpLiteral(via.host)) address = bare(via.host);
  // Deviation: a sent-by host name without `received` means the transport skipped RFC 3261
  // §18.2.1 (which adds `received` whenever sent-by is a name); this layer resolves no names
  // (RFC 3263 §5), and the source address is where §18.2.1 would have pointed.
  else address = source.address;
  return { protocol, address, port: via.port ?? 5060 };
}
