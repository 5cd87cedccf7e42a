/**
 * Registering a certificate the device already holds (SPEC ID-3): the REGISTER body is a CMS
 * SignedData made with the certificate's key, whose content names the AOR and the request's
 * Call-ID and CSeq, so a captured body cannot be replayed on another REGISTER. The server
 * checks the signature, the chain, the validity and (in the service) revocation and that the
 * certificate's AOR is the registering one. docs/protocol.md "Presenting a certificate".
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { sign, smimeContentType, verifySigned } from '../../crypto/cms/index.js';
import { verifyCertificate, type CertificateInfo } from '../../crypto/x509/index.js';
import { CertificateError, CryptoFormatError } from '../../errors.js';
import type { TypedBody } from './enrolment.js';
import { formatFields, parseFields } from './fields-document.js';
import { isPkcs7Mime, parseMediaType } from './media-types.js';

/** What the proof binds. */
export interface RegistrationBinding {
  aor: string;
  callId: string;
  cseq: number;
  /**
   * The SA handshake hash (docs/protocol.md §3.1) when the proof authenticates a device
   * inside an SA handshake: `Channel-Binding: base64url(h)`. A verifier that expects one
   * refuses a proof without it, or with another.
   */
  channelBinding?: Buffer | undefined;
}

/** Device side: the REGISTER body presenting `certificate`. */
export function signRegistrationProof(
  binding: RegistrationBinding,
  holder: { certificate: Uint8Array; privateKey: KeyObject; chain?: readonly Uint8Array[]; now: Date },
): TypedBody {
  const doc = formatFields([
    ['AOR', binding.aor],
    ['Call-ID', binding.callId],
    ['CSeq', String(binding.cseq)],
    ['Date', holder.now.toISOString()],
    ...(binding.channelBinding ? [['Channel-Binding', binding.channelBinding.toString('base64url')] as const] : []),
  ]);
  const der = sign(doc, { certificate: holder.certificate, privateKey: holder.privateKey, chain: holder.chain ?? [], signingTime: holder.now });
  return { contentType: smimeContentType(der), body: der };
}

/** Whether a REGISTER body presents a certificate (signed S/MIME). */
export function isRegistrationProof(contentType: string | undefined): boolean {
  const t = parseMediaType(contentType);
  return isPkcs7Mime(t) && t!.smimeType === 'signed-data';
}

/**
 * Server side: verifies the proof against the request it came with and the domain's trust
 * bundle; resolves the presented certificate and its details. Revocation is the caller's.
 */
export async function verifyRegistrationProof(
  body: Uint8Array,
  expected: RegistrationBinding,
  trust: { roots: readonly Uint8Array[]; now: Date },
): Promise<{ certificate: Uint8Array; info: CertificateInfo }> {
  const signed = verifySigned(body);
  if (!signed.content || signed.signers.length !== 1) throw new CryptoFormatError('certificate proof must have exactly one signer');
  const f = parseFields(signed.content);
  if (f.required('AOR') !== expected.aor || f.required('Call-ID') !== expected.callId || f.required('CSeq') !== String(expected.cseq)) {
    throw new CertificateError('subject-mismatch', 'certificate proof was made for another request');
  }
  if (expected.channelBinding && f.optional('Channel-Binding') !== expected.channelBinding.toString('base64url')) {
    throw new CertificateError('subject-mismatch', 'certificate proof was made for another handshake');
  }
  const certificate = signed.signers[0]!.certificate;
  const info = await verifyCertificate(certificate, { roots: trust.roots, intermediates: signed.certificates, now: trust.now });
  if (info.aor === undefined || info.aor.toLowerCase() !== expected.aor.toLowerCase()) {
    throw new CertificateError('subject-mismatch', 'certificate names another AOR');
  }
  return { certificate, info };
}
