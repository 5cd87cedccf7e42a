/**
 * The setting request body (docs/protocol.md §3.6; seed 000 §4.1/§4.3: "a SIP request
 * containing the encryption information"): the new presence, rule, range and generation,
 * and how its key is made. It always travels sealed (seed 000, 14th/15th embodiments), so the
 * key in it is never in clear. Line format as the identity documents (fields-document.ts):
 *
 * ```
 * Setting: 3f2a…            id of this setting (the console's handle on its outcome)
 * Presence: on
 * Rule: aes-256-gcm
 * Range: partial
 * Generation: 2
 * Key-Source: random        random (Key below) | derived (from the generation in force)
 * Key: <base64, 32 bytes>
 * Grace: 30                 seconds the previous generation stays acceptable
 * Update-Timer: 3600        seconds between periodic updates (informative)
 * ```
 * @module
 */
import { CryptoFormatError, SaSettingError } from '../../errors.js';
import { aeadRule } from '../../crypto/aead-rules.js';
import { formatFields, parseFields, type Fields } from '../identity/fields-document.js';
import type { SaPresence } from './association.js';
import { formatRange, parseRange, type Range } from './range.js';

/** Length of a server-random generation key (the HKDF input). */
export const SETTING_KEY_LENGTH = 32;

/** A decoded setting. */
export interface SaSetting {
  id: string;
  presence: SaPresence;
  rule: string;
  range: Range;
  generation: number;
  keySource: 'random' | 'derived';
  /** Present iff keySource is 'random'. */
  key?: Buffer | undefined;
  graceSeconds: number;
  updateTimerSeconds: number;
}

/** Encodes a setting. */
export function encodeSetting(s: SaSetting): Uint8Array {
  const f: [string, string][] = [
    ['Setting', s.id], ['Presence', s.presence], ['Rule', s.rule], ['Range', formatRange(s.range)],
    ['Generation', String(s.generation)], ['Key-Source', s.keySource],
  ];
  if (s.keySource === 'random') f.push(['Key', s.key!.toString('base64')]);
  f.push(['Grace', String(s.graceSeconds)], ['Update-Timer', String(s.updateTimerSeconds)]);
  return formatFields(f as Fields);
}

/**
 * Decodes and checks a setting (seed 000, a41: the device "confirms the normality" of the
 * encryption information). `SaSettingError`: `invalid` for format faults, `rule-unsupported`
 * for a rule this side does not implement.
 */
export function decodeSetting(body: Uint8Array): SaSetting {
  let f;
  try {
    f = parseFields(body);
  } catch (e) {
    throw new SaSettingError('invalid', e instanceof CryptoFormatError ? e.message : 'unreadable setting');
  }
  const need = (n: string): string => {
    const v = f.optional(n);
    if (v === undefined) throw new SaSettingError('invalid', `setting lacks ${n}`);
    return v;
  };
  const id = need('Setting');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new SaSettingError('invalid', 'bad setting id');
  const presence = need('Presence');
  if (presence !== 'on' && presence !== 'off') throw new SaSettingError('invalid', 'Presence must be on or off');
  const rule = need('Rule').toLowerCase();
  if (!aeadRule(rule)) throw new SaSettingError('rule-unsupported', `rule ${rule.slice(0, 40)} not supported`);
  const range = parseRange(need('Range'));
  const generation = int(need('Generation'), 'Generation', 0xffffffff);
  const keySource = need('Key-Source');
  if (keySource !== 'random' && keySource !== 'derived') throw new SaSettingError('invalid', 'Key-Source must be random or derived');
  let key: Buffer | undefined;
  if (keySource === 'random') {
    const text = need('Key');
    key = Buffer.from(text, 'base64');
    if (key.length !== SETTING_KEY_LENGTH || key.toString('base64') !== text) throw new SaSettingError('invalid', 'Key must be 32 bytes of base64');
  }
  return {
    id, presence, rule, range, generation, keySource, key,
    graceSeconds: int(need('Grace'), 'Grace', 86_400),
    updateTimerSeconds: int(need('Update-Timer'), 'Update-Timer', 31_536_000),
  };
}

function int(text: string, name: string, max: number): number {
  if (!/^[0-9]{1,10}$/.test(text) || Number(text) > max) throw new SaSettingError('invalid', `${name} must be an integer 0–${max}`);
  return Number(text);
}
