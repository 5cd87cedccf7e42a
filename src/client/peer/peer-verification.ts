/**
 * What each end of a data channel checks about the other (SPEC PEER-3): the certificate
 * presented in the TLS 1.3 handshake must match an `a=fingerprint` of the SDP (RFC 8122 §6)
 * and, when trust is configured, chain to a domain root and name the expected AOR; the
 * connection must come from the negotiated address. Also the confirmation exchange that keeps
 * either end from using a stream the other has not verified (see {@link establish}).
 * @module
 */
import { isIP, isIPv6 } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { parseAor } from '../../crypto/x509/aor.js';
import { verifyCertificate } from '../../crypto/x509/index.js';
import { CertificateError, InvalidArgumentError, SipherError } from '../../errors.js';
import {
  fingerprintHex, fingerprintMatches, isAcceptedFingerprintHash, parseFingerprint, type AcceptedFingerprintHash, type Fingerprint,
} from '../../sdp/index.js';
import type { Clock } from '../../util/clock.js';
import { DataChannelError, type DataChannelFailure } from './data-channel-error.js';

/**
 * A peer fingerprint as the caller has it: the parsed form of the `sdp` layer
 * (`negotiation.peerFingerprints`), `{ algorithm, value }` with hex pairs (colons optional),
 * or the text of an `a=fingerprint` value (`sha-256 AB:CD:…`).
 */
export type RemoteFingerprint = Fingerprint | { algorithm: string; value: string } | string;

/** The optional certificate policy on top of the fingerprint. */
export interface DataChannelTrust {
  /** Trust anchors, DER: the peer's certificate must chain to one of them. */
  roots: readonly Uint8Array[];
  /** The AOR the peer's certificate must name (subjectAltName URI), e.g. `sip:bob@example.com`. */
  aor: string;
}

/** Hash functions from most to least preferred (RFC 8122 §5.1: use the most preferred offered). */
const PREFERENCE: readonly AcceptedFingerprintHash[] = ['sha-512', 'sha-384', 'sha-256', 'sha-1'];

function toFingerprint(f: RemoteFingerprint): Fingerprint {
  if (typeof f === 'string') return parseFingerprint(f.trim());
  if (f && typeof f === 'object' && 'hash' in f && f.value instanceof Uint8Array) {
    // Round-trip through the text form so the digest length is checked like parsed input.
    return parseFingerprint(`${String(f.hash).toLowerCase()} ${fingerprintHex(f.value)}`);
  }
  if (f && typeof f === 'object' && 'algorithm' in f && typeof f.algorithm === 'string' && typeof f.value === 'string') {
    const hex = f.value.trim().replace(/:/g, '');
    if (!/^(?:[0-9A-Fa-f]{2})+$/.test(hex)) throw new InvalidArgumentError('fingerprint value must be hex byte pairs');
    return parseFingerprint(`${f.algorithm.trim().toLowerCase()} ${fingerprintHex(Buffer.from(hex, 'hex'))}`);
  }
  throw new InvalidArgumentError('remoteFingerprint must be an a=fingerprint value, { algorithm, value } or { hash, value }');
}

/**
 * The fingerprints a peer certificate is checked against: those with the most preferred hash
 * function we accept (RFC 8122 §5.1; MD5/MD2 and unknown functions are ignored). Throws
 * {@link InvalidArgumentError} when none is usable.
 */
export function expectedFingerprints(input: RemoteFingerprint | readonly RemoteFingerprint[]): Fingerprint[] {
  const list = (Array.isArray(input) ? input : [input]) as readonly RemoteFingerprint[];
  let all: Fingerprint[];
  try {
    all = list.map(toFingerprint);
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw e;
    throw new InvalidArgumentError(`malformed remote fingerprint: ${(e as Error).message}`);
  }
  const usable = all.filter((fp) => isAcceptedFingerprintHash(fp.hash));
  const best = PREFERENCE.find((h) => usable.some((fp) => fp.hash === h));
  if (!best) throw new InvalidArgumentError(`no remote fingerprint with an accepted hash function (${PREFERENCE.join(', ')})`);
  return usable.filter((fp) => fp.hash === best);
}

/** Checks a trust setting up front: at least one root, and a bare SIP AOR. */
export function checkTrust(trust: DataChannelTrust | undefined): { roots: readonly Uint8Array[]; aor: string } | undefined {
  if (trust === undefined) return undefined;
  if (!Array.isArray(trust.roots) || trust.roots.length === 0 || !trust.roots.every((r) => r instanceof Uint8Array)) {
    throw new InvalidArgumentError('trust.roots must be a non-empty list of DER certificates');
  }
  return { roots: [...trust.roots], aor: parseAor(String(trust.aor)).uri };
}

/** An IP address in one canonical text form (IPv4-mapped IPv6 as IPv4, IPv6 compressed, lower case). */
export function canonicalIp(address: string): string {
  let a = address.trim().toLowerCase();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  if (isIPv6(a)) {
    a = new URL(`http://[${a}]/`).hostname.slice(1, -1);
    const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
    if (hex) {
      const hi = parseInt(hex[1]!, 16);
      const lo = parseInt(hex[2]!, 16);
      return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
    }
  }
  return a;
}

/** True if `address` is an IP literal. */
export function isIpLiteral(address: string): boolean {
  return isIP(address.replace(/^\[(.*)\]$/, '$1')) !== 0;
}

/** What {@link establish} checks. */
export interface Verification {
  fingerprints: readonly Fingerprint[];
  trust: { roots: readonly Uint8Array[]; aor: string } | undefined;
  clock: Clock;
  /** Absolute deadline, clock milliseconds. */
  deadline: number;
}

/*
 * The verification confirmation (Sipher's data channel, format `sipher-data`): right after
 * the TLS 1.3 handshake each end checks the peer's certificate, then sends one octet inside
 * TLS — 0x01 "verified" — or a refusal octet followed by close_notify. Each end hands the
 * stream to its application only once it has verified the peer AND read the peer's 0x01.
 * This is needed because in TLS 1.3 the client finishes its handshake before the server has
 * seen (and could refuse) the client certificate (RFC 8446 §2, §4.4.2): without it the client
 * would accept a stream the server is about to drop. Application data follows the octet.
 */
const VERIFIED = 0x01;
const REFUSAL: Readonly<Record<'fingerprint-mismatch' | 'untrusted-certificate' | 'tls', number>> = {
  'fingerprint-mismatch': 0x02,
  'untrusted-certificate': 0x03,
  tls: 0x04,
};
/** How long a refusing end waits for its refusal octet to drain before destroying the socket. */
const REFUSAL_LINGER_MS = 1000;

function peerRefusal(octet: number): DataChannelError {
  const which = (Object.entries(REFUSAL) as [DataChannelFailure, number][]).find(([, v]) => v === octet)?.[0];
  if (which === 'fingerprint-mismatch') return new DataChannelError(which, 'the peer refused our certificate: it does not match the fingerprint it was given', { detectedBy: 'peer' });
  if (which === 'untrusted-certificate') return new DataChannelError(which, 'the peer refused our certificate: not trusted or not for the expected AOR', { detectedBy: 'peer' });
  if (which === 'tls') return new DataChannelError('tls', 'the peer refused the connection', { detectedBy: 'peer' });
  return new DataChannelError('tls', `unexpected verification octet 0x${octet.toString(16).padStart(2, '0')} from the peer`);
}

/** What the peer was verified to be. */
export interface VerifiedPeer {
  /** The peer's certificate, DER: it matched the SDP fingerprint (and the trust setting, if any). */
  certificate: Uint8Array;
  /** The AOR the certificate names, when a trust setting checked it. */
  aor: string | undefined;
}

/** The local check of the peer's certificate: what it is, or why it is refused. */
async function checkPeer(sock: TLSSocket, v: Verification): Promise<VerifiedPeer | DataChannelError> {
  // minVersion/maxVersion already pin TLS 1.3; checked again because everything depends on it.
  const protocol = sock.getProtocol();
  if (protocol !== 'TLSv1.3') return new DataChannelError('tls', `negotiated ${protocol ?? 'no protocol'}, TLS 1.3 is required`);
  const der = sock.getPeerX509Certificate()?.raw;
  if (!der || der.length === 0) return new DataChannelError('fingerprint-mismatch', 'the peer presented no certificate');
  // RFC 8122 §6: the certificate presented must match a fingerprint of the SDP.
  if (!v.fingerprints.some((fp) => fingerprintMatches(der, fp))) {
    return new DataChannelError('fingerprint-mismatch', `the peer's certificate does not match its a=fingerprint (${v.fingerprints[0]!.hash})`);
  }
  const certificate = new Uint8Array(der);
  if (!v.trust) return { certificate, aor: undefined };
  let aor: string | undefined;
  try {
    aor = (await verifyCertificate(certificate, { roots: v.trust.roots, now: new Date(v.clock.now()) })).aor;
  } catch (e) {
    const problem = e instanceof CertificateError ? e.problem : 'malformed';
    return new DataChannelError('untrusted-certificate', `the peer's certificate is not trusted (${problem}): ${(e as Error).message}`, { cause: e });
  }
  let named: string | undefined;
  try {
    named = aor === undefined ? undefined : parseAor(aor).uri;
  } catch {
    named = undefined;
  }
  if (named !== v.trust.aor) {
    return new DataChannelError('untrusted-certificate', `the peer's certificate names ${aor === undefined ? 'no AOR' : JSON.stringify(aor)}, expected ${v.trust.aor}`);
  }
  return { certificate, aor: named };
}

/** A TLS socket both ends verified, with what this end verified about the peer. */
export type VerifiedSocket = TLSSocket & {
  /**
   * The peer's certificate, DER. Kept here because after a TLS 1.3 session ticket the
   * client's `getPeerX509Certificate()` no longer returns it.
   */
  readonly peerCertificate: Uint8Array;
  /** The AOR the peer's certificate names, when a trust setting was given; else `undefined`. */
  readonly peerAor: string | undefined;
};

/**
 * Completes one data channel over `sock` (client side: TLS started by `tls.connect`; server
 * side: a `TLSSocket` wrapped around an accepted TCP socket): waits for the handshake
 * (`handshakeEvent`), checks the peer (fingerprint, then trust), sends and reads the
 * verification confirmation, all before {@link Verification.deadline}. Resolves with the socket
 * only when both ends verified; otherwise destroys it and rejects with {@link DataChannelError}.
 */
export function establish(sock: TLSSocket, handshakeEvent: 'secure' | 'secureConnect', v: Verification): Promise<VerifiedSocket> {
  return new Promise<VerifiedSocket>((resolve, reject) => {
    let peer: VerifiedPeer | undefined;
    let settled = false;
    let tcpConnected = handshakeEvent === 'secure' || !sock.connecting;
    let phase: 'handshake' | 'verify' | 'confirm' = 'handshake';
    const timer = v.clock.setTimer(Math.max(0, v.deadline - v.clock.now()), () => {
      fail(new DataChannelError('timeout', phase === 'handshake' && !tcpConnected ? 'timed out connecting to the peer' : `timed out during the ${phase === 'handshake' ? 'TLS handshake' : 'verification'}`));
    });

    const onConnect = (): void => {
      tcpConnected = true;
    };
    const onError = (e: Error): void => {
      const code = (e as NodeJS.ErrnoException).code;
      if (!tcpConnected) fail(new DataChannelError('connect', `cannot connect to the peer: ${code ?? e.message}`, { cause: e }));
      else fail(new DataChannelError('tls', `TLS failed: ${code ?? e.message}`, { cause: e }));
    };
    const onClose = (): void => {
      if (phase !== 'handshake') fail(new DataChannelError('tls', 'the peer closed the connection before confirming its verification (it may have refused our certificate)'));
      else fail(new DataChannelError(tcpConnected ? 'tls' : 'connect', tcpConnected ? 'connection closed during the TLS handshake' : 'cannot connect to the peer'));
    };
    const onReadable = (): void => {
      if (settled || phase !== 'confirm') return;
      const b = sock.read(1) as Buffer | null;
      if (b === null) return;
      if (b[0] === VERIFIED) succeed();
      else fail(peerRefusal(b[0]!));
    };

    const cleanup = (): void => {
      timer.cancel();
      sock.off('connect', onConnect);
      sock.off(handshakeEvent, onSecure);
      sock.off('error', onError);
      sock.off('end', onClose);
      sock.off('close', onClose);
      sock.off('readable', onReadable);
    };
    const succeed = (): void => {
      if (settled) return;
      settled = true;
      cleanup();
      Object.defineProperties(sock, {
        peerCertificate: { value: peer!.certificate, enumerable: true },
        peerAor: { value: peer!.aor, enumerable: true },
      });
      resolve(sock as VerifiedSocket);
    };
    function fail(err: DataChannelError, refusal?: number): void {
      if (settled) return;
      settled = true;
      cleanup();
      sock.on('error', () => {}); // late errors of a socket nobody owns any more
      if (refusal !== undefined && sock.writable && !sock.destroyed) {
        // Tell the peer why, then close; incoming data is discarded, never read.
        sock.end(Buffer.from([refusal]));
        sock.resume();
        const linger = v.clock.setTimer(REFUSAL_LINGER_MS, () => sock.destroy());
        sock.once('close', () => linger.cancel());
      } else {
        sock.destroy();
      }
      reject(err);
    }
    function onSecure(): void {
      phase = 'verify';
      void checkPeer(sock, v).then(
        (result) => {
          if (settled) return;
          if (result instanceof DataChannelError) {
            fail(result, REFUSAL[result.reason as keyof typeof REFUSAL] ?? REFUSAL.tls);
            return;
          }
          peer = result;
          phase = 'confirm';
          sock.write(Buffer.from([VERIFIED]));
          // Read only now, one octet: the peer's octet may already be buffered, and
          // application data after it stays in the stream for the caller.
          sock.on('readable', onReadable);
          onReadable();
        },
        (e: unknown) => fail(new DataChannelError('tls', `verification failed: ${e instanceof SipherError || e instanceof Error ? e.message : String(e)}`, { cause: e }), REFUSAL.tls),
      );
    }

    sock.once('connect', onConnect);
    sock.once(handshakeEvent, onSecure);
    sock.on('error', onError);
    sock.on('end', onClose);
    sock.on('close', onClose);
  });
}
