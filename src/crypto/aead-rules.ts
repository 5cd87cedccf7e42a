/**
 * The one registry of encryption rules (SPEC SA-3, ARCHITECTURE.md rule 5): the AEAD
 * algorithms an SA may use, by the name that travels in `Security-Client`, settings and the
 * admin API. Adding a rule here is all it takes — the console and API list rules from this
 * table (seed 000, 6th embodiment: a new rule "operable in the system" needs no new
 * interface).
 * @module
 */
import { createCipheriv, createDecipheriv, type CipherGCMTypes } from 'node:crypto';

/** An AEAD encryption rule. Nonces are 12 bytes and tags 16 for every rule here. */
export interface AeadRule {
  /** Registry name, lower-case (`aes-256-gcm`). */
  readonly name: string;
  /** Key length in bytes. */
  readonly keyLength: number;
  /** Human-readable label for the console. */
  readonly label: string;
  /** Node cipher name. */
  readonly cipher: CipherGCMTypes | 'chacha20-poly1305';
}

/** Nonce length of every registered rule (RFC 5116 §3.2 recommends 12). */
export const AEAD_NONCE_LENGTH = 12;
/** Tag length of every registered rule. */
export const AEAD_TAG_LENGTH = 16;

const RULES: readonly AeadRule[] = [
  // Order = the server's preference when neither operator nor device names one.
  { name: 'aes-256-gcm', keyLength: 32, label: 'AES-256-GCM (NIST SP 800-38D)', cipher: 'aes-256-gcm' },
  { name: 'chacha20-poly1305', keyLength: 32, label: 'ChaCha20-Poly1305 (RFC 8439)', cipher: 'chacha20-poly1305' },
  { name: 'aes-128-gcm', keyLength: 16, label: 'AES-128-GCM (NIST SP 800-38D)', cipher: 'aes-128-gcm' },
];

const BY_NAME = new Map(RULES.map((r) => [r.name, r]));

/** Every registered rule, in the server's order of preference. */
export function aeadRules(): readonly AeadRule[] {
  return RULES;
}

/** The rule of that name (case-insensitive), or `undefined`. */
export function aeadRule(name: string): AeadRule | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/**
 * Encrypts `plaintext` and returns ciphertext ‖ tag. `key` must have the rule's length and
 * `nonce` 12 bytes (callers guarantee uniqueness per key).
 */
export function aeadSeal(rule: AeadRule, key: Buffer, nonce: Buffer, aad: Buffer, plaintext: Buffer): Buffer {
  const c = createCipheriv(rule.cipher as CipherGCMTypes, key, nonce, { authTagLength: AEAD_TAG_LENGTH });
  c.setAAD(aad, { plaintextLength: plaintext.length });
  const head = c.update(plaintext);
  c.final();
  const tag = c.getAuthTag();
  return head.length === 0 ? tag : Buffer.concat([head, tag], head.length + AEAD_TAG_LENGTH);
}

/** Decrypts ciphertext ‖ tag; `undefined` when the tag does not verify or the input is too short. */
export function aeadOpen(rule: AeadRule, key: Buffer, nonce: Buffer, aad: Buffer, sealed: Buffer): Buffer | undefined {
  if (sealed.length < AEAD_TAG_LENGTH) return undefined;
  const ctLen = sealed.length - AEAD_TAG_LENGTH;
  try {
    const d = createDecipheriv(rule.cipher as CipherGCMTypes, key, nonce, { authTagLength: AEAD_TAG_LENGTH });
    d.setAuthTag(sealed.subarray(ctLen));
    d.setAAD(aad, { plaintextLength: ctLen });
    const out = d.update(sealed.subarray(0, ctLen));
    d.final();
    return out;
  } catch {
    return undefined;
  }
}
