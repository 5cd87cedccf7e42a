/**
 * Shared helpers of the SA record-layer tests: a completed Noise handshake, a pair of SAs in
 * their endpoints, sample SIP messages and a delivery function that takes the receiving
 * path the transport would take (record when the first byte is 0xD3, SIP text otherwise).
 */
import { generateNoiseKeyPair, type NoiseKeyPair } from '../../../src/crypto/noise/index.js';
import {
  HandshakeInitiator, HandshakeResponder, parseRange, SaEndpoint, SecurityAssociation,
  type HandshakeCipher, type HandshakeResult, type SaEndpointOptions, type SaPeer, type SaProtection,
} from '../../../src/security/sa/index.js';
import { parseDatagram, type SipMessage } from '../../../src/sip/index.js';
import { ManualClock } from '../../../src/util/clock.js';

export const PEER: SaPeer = { protocol: 'udp', address: '127.0.0.1', port: 5060 };
export const CALL_ID = 'hs-call-1@device.example';
export const SECURITY_CLIENT = 'sipher-sa;v=1;rules="aes-256-gcm,chacha20-poly1305";ranges="whole,partial"';
export const SA_ID = Buffer.from('0123456789abcdef', 'hex');

/** Static keys are costly enough to share between tests. */
export const DEVICE_KEY: NoiseKeyPair = generateNoiseKeyPair();
export const SERVER_KEY: NoiseKeyPair = generateNoiseKeyPair();

/** Everything a completed handshake yields on both sides. */
export interface Handshake {
  initiator: HandshakeResult;
  responder: HandshakeResult;
  serverStatic: Buffer;
  hashAfterSecond: Buffer;
  payload: Buffer;
  serverPayload: Buffer;
}

/** Runs the three handshake steps in memory. */
export function runHandshake(opts: { cipher?: HandshakeCipher; saId?: Buffer; payload?: Buffer } = {}): Handshake {
  const ini = new HandshakeInitiator({ staticKey: DEVICE_KEY, cipher: opts.cipher ?? 1, callId: CALL_ID, securityClient: SECURITY_CLIENT });
  const resp = HandshakeResponder.answer(ini.first(), {
    staticKey: SERVER_KEY, saId: opts.saId ?? SA_ID, callId: CALL_ID, securityClient: SECURITY_CLIENT, payload: Buffer.from('Realm: sa.example\r\n'),
  });
  const second = ini.second(resp.secondBody);
  const third = ini.third(opts.payload ?? Buffer.from('REGISTER payload'));
  const done = resp.third(third.body);
  return {
    initiator: third.result, responder: done.result, serverStatic: second.serverStatic, hashAfterSecond: second.hash,
    payload: done.payload, serverPayload: second.payload,
  };
}

/** One end: its SA and endpoint. */
export interface Side {
  sa: SecurityAssociation;
  ep: SaEndpoint;
}

/** Two established SAs (a = device/initiator, b = server/responder) sharing one ManualClock. */
export interface Pair {
  a: Side;
  b: Side;
  clock: ManualClock;
  handshake: Handshake;
}

/** Builds a pair of established SAs after a real handshake. */
export function saPair(opts: { cipher?: HandshakeCipher; range?: string; aOptions?: SaEndpointOptions; bOptions?: SaEndpointOptions } = {}): Pair {
  const clock = new ManualClock();
  const handshake = runHandshake({ cipher: opts.cipher ?? 2 });
  const range = parseRange(opts.range ?? 'whole');
  const mk = (r: HandshakeResult, role: 'initiator' | 'responder', o: SaEndpointOptions | undefined): Side => {
    const sa = new SecurityAssociation({ id: r.saId, role, generation: r.generation, clock, range });
    sa.established = true;
    const ep = new SaEndpoint(o);
    ep.add(sa, PEER);
    return { sa, ep };
  };
  return { a: mk(handshake.initiator, 'initiator', opts.aOptions), b: mk(handshake.responder, 'responder', opts.bOptions), clock, handshake };
}

/** What the receiving endpoint made of some wire bytes. */
export interface Delivered {
  message: SipMessage;
  protection: SaProtection | undefined;
}

/** The receive path of the transport: a record or SIP text. `undefined` = dropped. */
export function deliver(ep: SaEndpoint, bytes: Buffer, peer: SaPeer = PEER): Delivered | undefined {
  if (bytes[0] === 0xd3) {
    const r = ep.openRecord(bytes, peer);
    return r && { message: parseDatagram(r.plaintext), protection: r.protection };
  }
  const r = ep.inspectClear(parseDatagram(bytes), peer);
  return r && { message: r.message, protection: r.protection };
}

/** A copy of the faults counters (so a later change does not alter a snapshot). */
export function faults(ep: SaEndpoint): Record<string, number> {
  return { ...ep.counters.faults };
}

/** The faults counters with one kind increased by `n` from a snapshot. */
export function plus(before: Record<string, number>, kind: string, n = 1): Record<string, number> {
  return { ...before, [kind]: (before[kind] ?? 0) + n };
}

export const SDP = [
  'v=0', 'o=alice 2890844526 2890844526 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0',
  'm=audio 49170 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', '',
].join('\r\n');

/** An INVITE with every kind of header the ranges care about, and an SDP body. */
export function invite(opts: { body?: string; extra?: string[] } = {}): SipMessage {
  const body = opts.body ?? SDP;
  const lines = [
    'INVITE sip:bob@sa.example SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKsa1;rport',
    'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsa0',
    'Route: <sip:edge.sa.example;lr>',
    'Record-Route: <sip:core.sa.example;lr>',
    'Max-Forwards: 70',
    'From: "Alice Secret" <sip:alice@sa.example>;tag=1928301774',
    'To: "Bob Hidden" <sip:bob@sa.example>',
    'Call-ID: a84b4c76e66710@pc33.sa.example',
    'CSeq: 314159 INVITE',
    'Contact: <sip:alice@192.0.2.10:5060>',
    'Authorization: Digest username="alice", realm="sa.example", nonce="n0nce", uri="sip:bob@sa.example", response="0123456789abcdef0123456789abcdef"',
    'Subject: confidential-subject-line',
    'User-Agent: sa-test/1',
    ...(opts.extra ?? []),
    ...(body.length > 0 ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body, 'latin1')}`,
    '',
    body,
  ];
  return parseDatagram(Buffer.from(lines.join('\r\n'), 'latin1'));
}

/** A 200 OK with an SDP answer. */
export function ok(): SipMessage {
  const body = SDP.replace('alice', 'bob');
  const lines = [
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKsa1;rport=5060;received=198.51.100.7',
    'Record-Route: <sip:core.sa.example;lr>',
    'From: "Alice Secret" <sip:alice@sa.example>;tag=1928301774',
    'To: "Bob Hidden" <sip:bob@sa.example>;tag=a6c85cf',
    'Call-ID: a84b4c76e66710@pc33.sa.example',
    'CSeq: 314159 INVITE',
    'Contact: <sip:bob@192.0.2.20:5060>',
    'Content-Type: application/sdp',
    `Content-Length: ${body.length}`,
    '',
    body,
  ];
  return parseDatagram(Buffer.from(lines.join('\r\n'), 'latin1'));
}

/** Header fields as comparable `key: value` strings, in order. */
export function headerLines(m: SipMessage): string[] {
  return m.headers.map((h) => `${h.key}: ${h.value}`);
}

/** Header fields as a sorted multiset, ignoring Content-Length (recomputed) and order. */
export function headerSet(m: SipMessage): string[] {
  return headerLines(m).filter((l) => !l.startsWith('content-length:')).sort();
}
