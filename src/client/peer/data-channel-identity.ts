/**
 * The certificate a device presents on a peer-to-peer data channel (SPEC PEER-3). Its
 * fingerprint goes into the SDP as `a=fingerprint` (RFC 8122 §5); the peer pins it. A device
 * with a domain certificate (SPEC ID-*) presents that one, so the peer can also check the
 * chain and the AOR; otherwise a fresh self-signed ECDSA P-256 certificate does (RFC 8122 §5:
 * self-signed certificates are expected, the fingerprint carries the trust).
 * @module
 */
import { KeyObject, X509Certificate, webcrypto } from 'node:crypto';
import { ECDSA_P256_SHA256, nodeCrypto, x509 } from '../../crypto/x509/lib.js';
import { randomSerial } from '../../crypto/x509/serial.js';
import { InvalidArgumentError } from '../../errors.js';
import { computeFingerprint, type AcceptedFingerprintHash, type Fingerprint } from '../../sdp/index.js';
import { systemClock, type Clock } from '../../util/clock.js';
import { createCryptoRandom, type Random } from '../../util/random.js';

/** A certificate (DER) and its private key. */
export interface DataChannelIdentity {
  /** The end-entity certificate, DER. */
  certificate: Uint8Array;
  /** Its private key. */
  privateKey: KeyObject;
}

/** Options of {@link createDataChannelIdentity}. */
export interface CreateDataChannelIdentityOptions {
  /** Time source for the validity period. Default: the system clock. */
  clock?: Clock;
  /** Source of the serial number. Default: the CSPRNG. */
  random?: Random;
  /** Validity in days. Default 30 (a throw-away certificate; a new one per session is fine). */
  validityDays?: number;
  /** Subject CN. Default `sipher-data-channel`. */
  commonName?: string;
}

const DAY_MS = 86_400_000;

/**
 * Generates a self-signed ECDSA P-256 certificate (with `@peculiar/x509` over Node's
 * WebCrypto) and its key. Valid from a minute ago (peers with a slightly slow clock) for
 * {@link CreateDataChannelIdentityOptions.validityDays}.
 */
export async function createDataChannelIdentity(opts: CreateDataChannelIdentityOptions = {}): Promise<DataChannelIdentity> {
  const days = opts.validityDays ?? 30;
  if (!Number.isFinite(days) || days <= 0) throw new InvalidArgumentError('validityDays must be positive');
  const cn = (opts.commonName ?? 'sipher-data-channel').replace(/[,+="<>#;\\]/g, '');
  if (cn.length === 0 || cn.length > 64) throw new InvalidArgumentError('commonName must be 1–64 characters');
  const now = (opts.clock ?? systemClock).now();
  const keys = (await webcrypto.subtle.generateKey(ECDSA_P256_SHA256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(opts.random ?? createCryptoRandom()),
      name: `CN=${cn}`,
      notBefore: new Date(Math.floor((now - 60_000) / 1000) * 1000),
      notAfter: new Date(Math.floor((now + days * DAY_MS) / 1000) * 1000),
      keys,
      signingAlgorithm: ECDSA_P256_SHA256,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, nodeCrypto),
      ],
    },
    nodeCrypto,
  );
  return { certificate: new Uint8Array(cert.rawData), privateKey: KeyObject.from(keys.privateKey) };
}

/** The `a=fingerprint` of an identity's certificate (RFC 8122 §5), SHA-256 by default. */
export function identityFingerprint(identity: DataChannelIdentity, hash: AcceptedFingerprintHash = 'sha-256'): Fingerprint {
  return computeFingerprint(identity.certificate, hash);
}

/**
 * Checks an identity before it is used: a parsable DER certificate and the private key that
 * belongs to it. Throws {@link InvalidArgumentError}.
 */
export function checkIdentity(identity: DataChannelIdentity | undefined): DataChannelIdentity {
  if (!identity || !(identity.certificate instanceof Uint8Array) || identity.certificate.length === 0) {
    throw new InvalidArgumentError('identity.certificate must be a DER certificate');
  }
  if (!(identity.privateKey instanceof KeyObject) || identity.privateKey.type !== 'private') {
    throw new InvalidArgumentError('identity.privateKey must be a private KeyObject');
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(identity.certificate));
  } catch {
    throw new InvalidArgumentError('identity.certificate is not a valid DER certificate');
  }
  if (!cert.checkPrivateKey(identity.privateKey)) throw new InvalidArgumentError('identity.privateKey does not belong to identity.certificate');
  return identity;
}
