/**
 * The encryption information a device should have (SPEC SA-3, SA-6, SA-9; seed 000 FIG. 68
 * and embodiments 20 and 24): the operator's per-device setting over the domain default over
 * the built-in default, and the rule chosen from the device's own list. Pure.
 * @module
 */
import { SaSettingError } from '../../errors.js';
import { aeadRule, aeadRules } from '../../crypto/aead-rules.js';
import { parseRange, type Range, type SaPresence } from '../../security/sa/index.js';
import type { SaSettingRecord } from '../../store/store.js';

/** Built-in defaults (docs/configuration.md `sa`). */
export interface SaDefaults {
  presence: SaPresence;
  /** A rule name or `auto` (the first of the device's list the server supports). */
  rule: string;
  range: string;
  /** Periodic update timer, seconds; 0 = none. Default 3600 (SPEC SA-6). */
  updateTimerSeconds: number;
  /** Grace period, seconds. Default 30 (SPEC SA-7). */
  graceSeconds: number;
}

/** The resolved information for one device (rule still possibly `auto`). */
export interface DesiredInfo {
  presence: SaPresence;
  rule: string;
  range: string;
  updateTimerSeconds: number;
  graceSeconds: number;
}

/** Merges device → domain → defaults, field by field. */
export function desiredInfo(defaults: SaDefaults, domain: SaSettingRecord | undefined, device: SaSettingRecord | undefined): DesiredInfo {
  return {
    presence: device?.presence ?? domain?.presence ?? defaults.presence,
    rule: device?.rule ?? domain?.rule ?? defaults.rule,
    range: device?.range ?? domain?.range ?? defaults.range,
    updateTimerSeconds: device?.updateTimerSeconds ?? domain?.updateTimerSeconds ?? defaults.updateTimerSeconds,
    graceSeconds: device?.graceSeconds ?? domain?.graceSeconds ?? defaults.graceSeconds,
  };
}

/**
 * The rule to use with a device (seed 000, 24th embodiment: the server selects from the
 * client's rule list). `auto` → the first rule of the device's list the server implements;
 * a named rule must be in the device's list. `SaSettingError('rule-unsupported')` otherwise.
 */
export function selectRule(wanted: string, deviceRules: readonly string[]): string {
  if (wanted === 'auto') {
    const r = deviceRules.find((x) => aeadRule(x) !== undefined);
    if (!r) throw new SaSettingError('rule-unsupported', 'the device supports none of the server\'s rules');
    return r;
  }
  if (!aeadRule(wanted)) throw new SaSettingError('invalid', `unknown rule ${wanted.slice(0, 40)}`);
  if (!deviceRules.includes(wanted)) throw new SaSettingError('rule-unsupported', `the device does not support ${wanted}`);
  return wanted;
}

/** The range, checked against what the device supports. */
export function selectRange(wanted: string, deviceRanges: readonly string[]): Range {
  const r = parseRange(wanted);
  if (!deviceRanges.includes(r.kind)) throw new SaSettingError('range-unsupported', `the device does not support ${r.kind} ranges`);
  return r;
}

/** Validates an operator's setting fields (HTTP API, CLI) before they are stored. */
export function validateSettingFields(f: { presence?: string; rule?: string; range?: string; updateTimerSeconds?: number; graceSeconds?: number }): void {
  if (f.presence !== undefined && f.presence !== 'on' && f.presence !== 'off') throw new SaSettingError('invalid', 'presence must be on or off');
  if (f.rule !== undefined && f.rule !== 'auto' && !aeadRule(f.rule)) {
    throw new SaSettingError('invalid', `unknown rule ${f.rule.slice(0, 40)}; known: auto, ${aeadRules().map((r) => r.name).join(', ')}`);
  }
  if (f.range !== undefined) parseRange(f.range);
  for (const [k, v, max] of [['updateTimerSeconds', f.updateTimerSeconds, 31_536_000], ['graceSeconds', f.graceSeconds, 86_400]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > max)) throw new SaSettingError('invalid', `${k} must be an integer 0–${max}`);
  }
}
