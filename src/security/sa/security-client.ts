/**
 * The SA capability of a device (seed 000, embodiments 21 and 24: capability data and the
 * encryption rule list in the first request) and the server's offer, written with RFC 3329
 * §2.2 `Security-Client` / `Security-Server` syntax and a mechanism of our own name:
 *
 * ```
 * Security-Client: sipher-sa;v=1;rules="aes-256-gcm,chacha20-poly1305";ranges="whole,partial"
 * ```
 * @module
 */
import { HandshakeError } from '../../errors.js';

/** Our RFC 3329 mechanism name. */
export const SA_MECHANISM = 'sipher-sa';
/** Version of the SA protocol described in docs/protocol.md §3. */
export const SA_VERSION = 1;

/** What one side supports. */
export interface SaCapability {
  version: number;
  /** Encryption rules, in order of preference. */
  rules: string[];
  /** Ranges supported. */
  ranges: string[];
}

const NAME = /^[a-z0-9][a-z0-9:,-]*$/;

/** Formats a capability as a Security-Client/-Server value. */
export function formatCapability(c: SaCapability): string {
  return `${SA_MECHANISM};v=${c.version};rules="${c.rules.join(',')}";ranges="${c.ranges.join(',')}"`;
}

/**
 * Finds our mechanism among the values of a Security-Client/-Server header (each may list
 * several mechanisms, RFC 3329 §2.2). `undefined` when it is not there; `HandshakeError`
 * when it is there but malformed.
 */
export function findCapability(values: readonly string[]): SaCapability | undefined {
  for (const v of values.flatMap(splitMechanisms)) {
    const semi = v.indexOf(';');
    const mech = (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase();
    if (mech !== SA_MECHANISM) continue;
    const params = new Map<string, string>();
    for (const m of (semi < 0 ? '' : v.slice(semi + 1)).matchAll(/\s*([A-Za-z0-9-]+)\s*=\s*("[^"]*"|[^;\s]*)\s*(?:;|$)/g)) {
      params.set(m[1]!.toLowerCase(), m[2]!.replace(/^"|"$/g, ''));
    }
    const version = Number(params.get('v') ?? '1');
    if (!Number.isInteger(version) || version < 1) throw new HandshakeError('Security-Client sipher-sa: bad version');
    const list = (name: string): string[] => {
      const raw = params.get(name);
      if (raw === undefined || raw.trim() === '') return [];
      const items = raw.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0);
      if (items.length > 32 || items.some((s) => s.length > 64 || !NAME.test(s))) throw new HandshakeError(`Security-Client sipher-sa: bad ${name} list`);
      return items;
    };
    return { version, rules: list('rules'), ranges: list('ranges') };
  }
  return undefined;
}

/** Splits one field value into its mechanisms at commas outside quotes (RFC 3329 §2.2). */
function splitMechanisms(value: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  out.push(value.slice(start));
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}
