/**
 * Handshake patterns (Noise §7): the one-way patterns of §7.4, the fundamental interactive
 * patterns of §7.5, and the `pskN` modifiers of §9 that turn them into PSK patterns.
 * @module
 */

/** A token of a handshake message pattern (Noise §7.1, §9.2). */
export type NoiseToken = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss' | 'psk';
/** A token of a pre-message pattern: only public keys (Noise §7.1). */
export type NoisePreMessageToken = 'e' | 's';

/** A handshake pattern with its modifiers applied. */
export interface HandshakePattern {
  /** Pattern name with modifiers, as in the protocol name (e.g. `XXpsk3`, `NNpsk0+psk2`). */
  readonly name: string;
  /** Base pattern name without modifiers (e.g. `XX`). */
  readonly baseName: string;
  /** Public keys the responder knows of the initiator before the handshake (`-> s ...`). */
  readonly initiatorPreMessage: readonly NoisePreMessageToken[];
  /** Public keys the initiator knows of the responder before the handshake (`<- s ...`). */
  readonly responderPreMessage: readonly NoisePreMessageToken[];
  /** Message patterns; even indexes are initiator→responder, odd ones responder→initiator. */
  readonly messages: readonly (readonly NoiseToken[])[];
  /** True for the one-way patterns N, K and X (Noise §7.4). */
  readonly oneWay: boolean;
  /** Number of psk tokens: how many PSKs each party must supply (Noise §9). */
  readonly pskCount: number;
}

interface BasePattern {
  readonly initiatorPreMessage: readonly NoisePreMessageToken[];
  readonly responderPreMessage: readonly NoisePreMessageToken[];
  readonly messages: readonly (readonly NoiseToken[])[];
}

const p = (initiatorPreMessage: NoisePreMessageToken[], responderPreMessage: NoisePreMessageToken[], ...messages: NoiseToken[][]): BasePattern => ({
  initiatorPreMessage,
  responderPreMessage,
  messages,
});

/** Noise §7.4: one-way patterns (a single initiator→responder message). */
const ONE_WAY: Readonly<Record<string, BasePattern>> = {
  N: p([], ['s'], ['e', 'es']),
  K: p(['s'], ['s'], ['e', 'es', 'ss']),
  X: p([], ['s'], ['e', 'es', 's', 'ss']),
};

/** Noise §7.5: the fundamental interactive patterns. */
const INTERACTIVE: Readonly<Record<string, BasePattern>> = {
  NN: p([], [], ['e'], ['e', 'ee']),
  NK: p([], ['s'], ['e', 'es'], ['e', 'ee']),
  NX: p([], [], ['e'], ['e', 'ee', 's', 'es']),
  XN: p([], [], ['e'], ['e', 'ee'], ['s', 'se']),
  XK: p([], ['s'], ['e', 'es'], ['e', 'ee'], ['s', 'se']),
  XX: p([], [], ['e'], ['e', 'ee', 's', 'es'], ['s', 'se']),
  KN: p(['s'], [], ['e'], ['e', 'ee', 'se']),
  KK: p(['s'], ['s'], ['e', 'es', 'ss'], ['e', 'ee', 'se']),
  KX: p(['s'], [], ['e'], ['e', 'ee', 'se', 's', 'es']),
  IN: p([], [], ['e', 's'], ['e', 'ee', 'se']),
  IK: p([], ['s'], ['e', 'es', 's', 'ss'], ['e', 'ee', 'se']),
  IX: p([], [], ['e', 's'], ['e', 'ee', 'se', 's', 'es']),
};

/** Base pattern names this implementation supports. */
export const NOISE_PATTERN_NAMES: readonly string[] = [...Object.keys(ONE_WAY), ...Object.keys(INTERACTIVE)];

function own(table: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(table, key);
}

const cache = new Map<string, HandshakePattern>();

/**
 * The handshake pattern named `name` (base name plus optional `+`-separated modifiers, Noise
 * §8), with `pskN` modifiers applied per Noise §9.4: `psk0` puts a psk token at the start of
 * the first message, `pskN` (N ≥ 1) at the end of the N-th message.
 * @throws RangeError for an unknown pattern, an unsupported modifier, or a `pskN` beyond the
 * last message.
 */
export function handshakePattern(name: string): HandshakePattern {
  const cached = cache.get(name);
  if (cached) return cached;
  const m = /^([A-Z][A-Z0-9]*)([a-z].*)?$/.exec(name);
  if (!m) throw new RangeError(`malformed Noise pattern name "${name}"`);
  const baseName = m[1]!;
  const oneWay = own(ONE_WAY, baseName);
  const base = oneWay ? ONE_WAY[baseName] : own(INTERACTIVE, baseName) ? INTERACTIVE[baseName] : undefined;
  if (!base) {
    throw new RangeError(`unsupported Noise handshake pattern "${baseName}" (supported: ${NOISE_PATTERN_NAMES.join(', ')})`);
  }
  const messages = base.messages.map((msg) => [...msg]);
  const seen = new Set<number>();
  let pskCount = 0;
  // Noise §8: modifiers are separated by "+"; §9.4: pskN places a psk token.
  for (const modifier of m[2] === undefined ? [] : m[2].split('+')) {
    const psk = /^psk(0|[1-9][0-9]*)$/.exec(modifier);
    if (!psk) throw new RangeError(`unsupported Noise pattern modifier "${modifier}" in "${name}"`);
    const n = Number(psk[1]);
    if (seen.has(n)) throw new RangeError(`duplicate modifier "${modifier}" in "${name}"`);
    seen.add(n);
    if (n === 0) messages[0]!.unshift('psk');
    else if (n <= messages.length) messages[n - 1]!.push('psk');
    else throw new RangeError(`modifier "${modifier}" is beyond the ${messages.length} message(s) of "${baseName}"`);
    pskCount++;
  }
  const pattern: HandshakePattern = {
    name,
    baseName,
    initiatorPreMessage: base.initiatorPreMessage,
    responderPreMessage: base.responderPreMessage,
    messages,
    oneWay,
    pskCount,
  };
  cache.set(name, pattern);
  return pattern;
}
