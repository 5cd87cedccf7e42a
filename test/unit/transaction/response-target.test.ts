import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseVia } from '../../../src/sip/index.js';
import { responseTarget } from '../../../src/transaction/response-target.js';
import type { Endpoint } from '../../../src/transport/types.js';

const udp: Endpoint = { protocol: 'udp', address: '203.0.113.9', port: 40123 };
const tcp: Endpoint = { protocol: 'tcp', address: '203.0.113.9', port: 50999 };
const tls: Endpoint = { protocol: 'tls', address: '2001:db8::9', port: 50999 };

describe('response target (RFC 3261 §18.2.2, RFC 3581 §4)', () => {
  it('reliable: the response MUST use the existing connection, falling back to the source address and the sent-by port (RFC 3261 §18.2.2)', () => {
    const t = responseTarget(parseVia('SIP/2.0/TCP client.example.com:5070;branch=z9hG4bKa'), tcp, 'conn-7');
    assert.deepEqual(t, { protocol: 'tcp', address: '203.0.113.9', port: 5070, connectionId: 'conn-7' });
  });

  it('reliable without a sent-by port falls back to the default port of the transport (RFC 3261 §18.2.2)', () => {
    assert.equal(responseTarget(parseVia('SIP/2.0/TCP client.example.com;branch=z9hG4bKa'), tcp, 'c').port, 5060);
    const t = responseTarget(parseVia('SIP/2.0/TLS [2001:db8::9];branch=z9hG4bKa'), tls, 'c');
    assert.deepEqual(t, { protocol: 'tls', address: '2001:db8::9', port: 5061, connectionId: 'c' });
  });

  it('unreliable with received: the received address and the sent-by port (RFC 3261 §18.2.2)', () => {
    const t = responseTarget(parseVia('SIP/2.0/UDP client.example.com:5062;branch=z9hG4bKa;received=198.51.100.3'), udp);
    assert.deepEqual(t, { protocol: 'udp', address: '198.51.100.3', port: 5062 });
  });

  it('unreliable without received: the sent-by host, port 5060 when none is given (RFC 3261 §18.2.2)', () => {
    assert.deepEqual(responseTarget(parseVia('SIP/2.0/UDP 198.51.100.4;branch=z9hG4bKa'), udp), { protocol: 'udp', address: '198.51.100.4', port: 5060 });
    assert.deepEqual(responseTarget(parseVia('SIP/2.0/UDP [2001:db8::4]:5080;branch=z9hG4bKa'), udp), { protocol: 'udp', address: '2001:db8::4', port: 5080 });
  });

  it('unreliable with a host name and no received uses the source address (deviation: no DNS in the transaction layer)', () => {
    assert.deepEqual(responseTarget(parseVia('SIP/2.0/UDP client.example.com:5090;branch=z9hG4bKa'), udp), { protocol: 'udp', address: '203.0.113.9', port: 5090 });
  });

  it('rport with a value: the received address and the rport port (RFC 3581 §4)', () => {
    const t = responseTarget(parseVia('SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa;received=203.0.113.9;rport=40123'), udp);
    assert.deepEqual(t, { protocol: 'udp', address: '203.0.113.9', port: 40123 });
  });

  it('rport without a value: the source address and port the request came from (RFC 3581 §4)', () => {
    const t = responseTarget(parseVia('SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa;rport'), udp);
    assert.deepEqual(t, { protocol: 'udp', address: '203.0.113.9', port: 40123 });
  });

  it('maddr: the multicast address with the sent-by port or 5060 (RFC 3261 §18.2.2)', () => {
    const t = responseTarget(parseVia('SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKa;maddr=239.255.255.1;received=203.0.113.9;rport=1'), udp);
    assert.deepEqual(t, { protocol: 'udp', address: '239.255.255.1', port: 5060 });
  });

  it('a received IPv6 address written in brackets is stored bare', () => {
    const t = responseTarget(parseVia('SIP/2.0/UDP host.example;branch=z9hG4bKa;received=[2001:db8::7]'), udp);
    assert.equal(t.address, '2001:db8::7');
  });
});
