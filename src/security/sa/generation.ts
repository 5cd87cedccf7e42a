/**
 * One key generation of an SA (SPEC SA-5, SA-7): the rule, a key per direction, the send
 * counter and the receive replay window. Generation 0 holds the keys of the Noise handshake;
 * later ones are derived with HKDF (RFC 5869) from a key the server generated at random
 * (seed 000, 12th embodiment) or, for the first step of an enablement, from the keys in force
 * (16th embodiment: the synchronously created key).
 * @module
 */
import { hkdfSync } from 'node:crypto';
import type { AeadRule } from '../../crypto/aead-rules.js';
import { ReplayWindow } from './replay-window.js';
import type { Range } from './range.js';

/** Which end of the SA this is: the device starts the handshake (initiator). */
export type SaRole = 'initiator' | 'responder';

/** Keys and counters of one generation. Never serialized, never logged. */
export class Generation {
  readonly number: number;
  readonly rule: AeadRule;
  readonly sendKey: Buffer;
  readonly receiveKey: Buffer;
  readonly window = new ReplayWindow();
  /** Next sequence number to send. */
  sendSeq = 0;
  /** While this generation is the previous one: until when it is still accepted (ms), else undefined. */
  acceptUntil: number | undefined;
  /** The range messages under this generation are sealed with (set when it is put in force or staged). */
  range: Range | undefined;

  constructor(number: number, rule: AeadRule, sendKey: Buffer, receiveKey: Buffer) {
    if (sendKey.length !== rule.keyLength || receiveKey.length !== rule.keyLength) throw new RangeError(`${rule.name} keys must be ${rule.keyLength} bytes`);
    this.number = number;
    this.rule = rule;
    this.sendKey = sendKey;
    this.receiveKey = receiveKey;
  }

  /** Both directions' keys concatenated (initiator→responder first): the input of a derived generation. */
  keyMaterial(role: SaRole): Buffer {
    return role === 'initiator' ? Buffer.concat([this.sendKey, this.receiveKey]) : Buffer.concat([this.receiveKey, this.sendKey]);
  }
}

/**
 * Derives generation `number` of SA `saId` for `rule` from input key material (the
 * server-random key, or {@link Generation.keyMaterial} of the generation in force).
 * RFC 5869 HKDF-SHA-256; salt = SA id ‖ generation (u32 BE); info names direction and rule,
 * so every (SA, generation, direction, rule) gets its own key (docs/protocol.md §3.5).
 */
export function deriveGeneration(ikm: Buffer, saId: Buffer, number: number, rule: AeadRule, role: SaRole): Generation {
  const salt = Buffer.alloc(saId.length + 4);
  saId.copy(salt, 0);
  salt.writeUInt32BE(number, saId.length);
  const i2r = Buffer.from(hkdfSync('sha256', ikm, salt, `sipher-sa/1 i2r ${rule.name}`, rule.keyLength));
  const r2i = Buffer.from(hkdfSync('sha256', ikm, salt, `sipher-sa/1 r2i ${rule.name}`, rule.keyLength));
  return role === 'initiator' ? new Generation(number, rule, i2r, r2i) : new Generation(number, rule, r2i, i2r);
}
