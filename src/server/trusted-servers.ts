/**
 * The other servers whose `Route-Security` entries this one verifies (SPEC POL-4): their
 * identity certificates, as PEM files named in `routeSecurity.trust`.
 * @module
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';

/** Reads every certificate of every file; `ConfigError` naming the file that fails. */
export async function loadTrustedServerKeys(files: readonly string[]): Promise<KeyObject[]> {
  const keys: KeyObject[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`routeSecurity.trust: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (pems.length === 0) throw new ConfigError(`routeSecurity.trust: ${file} holds no PEM certificate`);
    for (const pem of pems) {
      try {
        keys.push(new X509Certificate(pem).publicKey);
      } catch {
        throw new ConfigError(`routeSecurity.trust: ${file} holds a certificate that does not parse`);
      }
    }
  }
  return keys;
}

/**
 * The CA bundle for outgoing TLS (`tls.caFile`) added to Node's roots, or `undefined` for Node's
 * roots alone. `ConfigError` when the file cannot be read or holds no certificate.
 */
export async function trustedCaBundle(file: string): Promise<string | undefined> {
  if (!file) return undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`tls.caFile: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (!/-----BEGIN CERTIFICATE-----/.test(text)) throw new ConfigError(`tls.caFile: ${file} holds no PEM certificate`);
  return [...rootCertificates, text].join('\n');
}
