/**
 * The address Sipher writes into Via, Record-Route and Contact when it listens on a wildcard
 * address (`0.0.0.0`, `::`): a socket bound to every interface has no single address, so
 * one is chosen per destination — loopback for loopback peers, otherwise the configured
 * advertised address or the first non-internal interface of the right family.
 * @module
 */
import { networkInterfaces } from 'node:os';
import type { Endpoint, Target, TransportLayer } from '../transport/types.js';

/** True for `0.0.0.0` and `::`. */
export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** The first non-internal interface address of `family`, if any. */
export function primaryInterfaceAddress(family: 4 | 6): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) {
      if (!i.internal && (i.family === (family === 4 ? 'IPv4' : 'IPv6')) && !i.address.startsWith('fe80')) return i.address;
    }
  }
  return undefined;
}

/**
 * A function giving the local endpoint to advertise for a destination.
 * @param advertised - configured address to use for non-loopback peers (optional).
 */
export function localEndpointFor(transport: TransportLayer, advertised?: string): (target: Target) => Endpoint | undefined {
  return (target) => {
    const family = target.address.includes(':') ? 6 : 4;
    const ep = transport.localEndpoint(target.protocol, family);
    if (!ep || !isWildcard(ep.address)) return ep;
    const loopback = family === 4 ? target.address.startsWith('127.') : target.address === '::1';
    const address = loopback ? (family === 4 ? '127.0.0.1' : '::1') : advertised ?? primaryInterfaceAddress(family) ?? (family === 4 ? '127.0.0.1' : '::1');
    return { ...ep, address };
  };
}
