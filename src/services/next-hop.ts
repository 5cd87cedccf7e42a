/**
 * Where to send a request: the static part of RFC 3263 (SIP-6). A URI with an IP literal
 * or a configured host goes straight there; a domain found in the static routing table goes
 * to its next hop. Port and transport come from the URI (`transport` param, `sips` → TLS)
 * with the RFC 3263 §4.2 defaults (5060, 5061 for TLS).
 * @module
 */
import { isIP } from 'node:net';
import type { Uri } from '../sip/uri.js';
import { normalizeHost } from '../sip/uri.js';
import type { Target, TransportProtocol } from '../transport/types.js';

/** A static route: requests for `domain` go to this next hop. */
export interface StaticRoute {
  protocol: TransportProtocol;
  host: string;
  port: number;
}

/** Resolves a host name to an address (injected; the server uses `dns.lookup`). */
export type HostResolver = (host: string) => Promise<string>;

const TRANSPORTS: Record<string, TransportProtocol> = { udp: 'udp', tcp: 'tcp', tls: 'tls', ws: 'ws', wss: 'wss' };

/** Transport, host and port a SIP URI designates (RFC 3263 §4.1/§4.2, static). */
export function uriDestination(uri: Uri): StaticRoute | undefined {
  if (uri.kind !== 'sip') return undefined;
  const tp = uri.params.get('transport');
  let protocol: TransportProtocol = uri.scheme === 'sips' ? 'tls' : 'udp';
  if (tp) {
    const p = TRANSPORTS[tp.toLowerCase()];
    if (!p) return undefined;
    protocol = uri.scheme === 'sips' && p === 'tcp' ? 'tls' : p;
  }
  const maddr = uri.params.get('maddr');
  const host = maddr ?? uri.host;
  const port = uri.port ?? (protocol === 'tls' || protocol === 'wss' ? 5061 : 5060);
  return { protocol, host: host.startsWith('[') ? host.slice(1, -1) : host, port };
}

/** Turns a destination into a transport target, resolving a host name if needed. */
export async function toTarget(dest: StaticRoute, resolve: HostResolver): Promise<Target> {
  const address = isIP(dest.host) ? dest.host : await resolve(normalizeHost(dest.host));
  return { protocol: dest.protocol, address, port: dest.port };
}

/** Parses `proto:host:port` (as used in `source` of a binding, `[v6]` allowed) into a target; optional `#connectionId` suffix. */
export function parseEndpointKey(s: string): Target | undefined {
  const m = /^(udp|tcp|tls|ws|wss):(\[[0-9a-fA-F:.]+\]|[^:#]+):([0-9]+)(?:#(.+))?$/.exec(s);
  if (!m) return undefined;
  const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
  return { protocol: m[1] as TransportProtocol, address: host, port: Number(m[3]), connectionId: m[4] };
}

/**
 * Parses a static route table entry value `host[:port][;transport=x]` or a SIP URI
 * (`sip:host:port;transport=tcp`).
 */
export function parseStaticRoute(s: string): StaticRoute | undefined {
  const m = /^(?:sips?:)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::([0-9]{1,5}))?(?:;transport=(udp|tcp|tls|ws|wss))?$/i.exec(s.trim());
  if (!m) return undefined;
  const protocol = (m[3]?.toLowerCase() as TransportProtocol | undefined) ?? (s.startsWith('sips:') ? 'tls' : 'udp');
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  return { protocol, host, port: m[2] ? Number(m[2]) : protocol === 'tls' ? 5061 : 5060 };
}
