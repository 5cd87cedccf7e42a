/**
 * The HandshakeState object of Noise §5.3: runs a handshake pattern token by token, then
 * Split()s into the two transport CipherStates.
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { HandshakeError } from '../../errors.js';
import { NOISE_TAG_LENGTH, type NoiseCipherName } from './cipher-functions.js';
import { CipherState, MAX_NOISE_MESSAGE } from './cipher-state.js';
import { DH25519_LENGTH, dh25519, generateNoiseKeyPair, x25519PrivateKeyObject, type NoiseKeyPair } from './dh25519.js';
import type { NoiseHashName } from './hash-functions.js';
import type { HandshakePattern, NoisePreMessageToken } from './patterns.js';
import { parseProtocolName } from './protocol-name.js';
import { SymmetricState } from './symmetric-state.js';

/** Length of a pre-shared key (Noise §9.2: a 32-byte secret). */
export const NOISE_PSK_LENGTH = 32;

/** Options of a {@link HandshakeState}: Initialize() of Noise §5.3. */
export interface HandshakeOptions {
  /** Full protocol name, e.g. `Noise_XX_25519_ChaChaPoly_SHA256` (Noise §8). */
  protocolName: string;
  /** Whether this party is the initiator. */
  initiator: boolean;
  /** Prologue (Noise §6); both parties must use the same one. Default empty. */
  prologue?: Uint8Array;
  /** Local static key pair, required when the pattern sends or pre-shares it. */
  s?: NoiseKeyPair;
  /** Local ephemeral key pair: only for test vectors (Noise §5.3 normally generates it). */
  e?: NoiseKeyPair;
  /** Remote static public key known in advance (pre-message `s`, e.g. for NK, IK, KK). */
  rs?: Uint8Array;
  /** Remote ephemeral public key known in advance (pre-message `e`). */
  re?: Uint8Array;
  /** Pre-shared keys, 32 bytes each, consumed in the order of the pattern's psk tokens (Noise §9). */
  psks?: readonly Uint8Array[];
  /** Ephemeral key generator; defaults to {@link generateNoiseKeyPair} (CSPRNG). */
  generateKeyPair?: () => NoiseKeyPair;
}

/** The result of {@link HandshakeState.split}. */
export interface NoiseSplit {
  /** CipherState for messages this party sends. */
  send: CipherState;
  /** CipherState for messages this party receives. */
  receive: CipherState;
  /** First Split() key: initiator→responder (Noise §5.2). */
  initiatorToResponderKey: Buffer;
  /** Second Split() key: responder→initiator (Noise §5.2). */
  responderToInitiatorKey: Buffer;
}

/** A local key pair with the KeyObject OpenSSL needs, prepared once. */
interface LocalKey {
  readonly publicKey: Buffer;
  readonly privateKey: KeyObject;
}

const EMPTY = Buffer.alloc(0);

function localKey(pair: NoiseKeyPair, what: string): LocalKey {
  if (pair.publicKey.length !== DH25519_LENGTH) throw new RangeError(`${what}: public key must be ${DH25519_LENGTH} bytes, got ${pair.publicKey.length}`);
  return { publicKey: Buffer.from(pair.publicKey), privateKey: x25519PrivateKeyObject(pair.privateKey) };
}

function remoteKey(key: Uint8Array, what: string): Buffer {
  if (key.length !== DH25519_LENGTH) throw new RangeError(`${what} must be ${DH25519_LENGTH} bytes, got ${key.length}`);
  return Buffer.from(key);
}

/**
 * A Noise handshake in progress (Noise §5.3). Call {@link writeMessage} and
 * {@link readMessage} alternately as {@link isMyTurn} says; once {@link isComplete},
 * {@link split} gives the transport CipherStates.
 *
 * Errors while processing a message (bad tag, truncation, invalid public key) abort the
 * handshake: every later call throws {@link HandshakeError}. A message refused before any
 * processing (out of turn, over 65535 bytes) leaves the state unchanged.
 */
export class HandshakeState {
  /** Whether this party is the initiator. */
  readonly isInitiator: boolean;
  /** Cipher of the protocol name. */
  readonly cipherName: NoiseCipherName;
  /** Hash of the protocol name (`SHA256`, `SHA512`, `BLAKE2s`, `BLAKE2b`). */
  readonly hashName: NoiseHashName;
  /** The full protocol name. */
  readonly protocolName: string;
  /** The handshake pattern with its modifiers. */
  readonly pattern: HandshakePattern;

  readonly #symmetric: SymmetricState;
  readonly #generateKeyPair: () => NoiseKeyPair;
  #s: LocalKey | undefined;
  #e: LocalKey | undefined;
  #rs: Buffer | undefined;
  #re: Buffer | undefined;
  #psks: Buffer[];
  #pskIndex = 0;
  #messageIndex = 0;
  #aborted = false;
  #split: NoiseSplit | undefined;

  /**
   * Initialize() of Noise §5.3.
   * @throws RangeError for an unsupported protocol name, keys or PSKs of the wrong length, a
   * PSK count that does not match the pattern, or an `rs`/`re` the pattern does not pre-share.
   * @throws TypeError when a key the pattern needs is missing.
   */
  constructor(options: HandshakeOptions) {
    const protocol = parseProtocolName(options.protocolName);
    const pattern = protocol.pattern;
    this.isInitiator = options.initiator;
    this.cipherName = protocol.cipher.name;
    this.hashName = protocol.hash.name;
    this.protocolName = protocol.name;
    this.pattern = pattern;
    this.#generateKeyPair = options.generateKeyPair ?? generateNoiseKeyPair;

    const localPre = this.isInitiator ? pattern.initiatorPreMessage : pattern.responderPreMessage;
    const remotePre = this.isInitiator ? pattern.responderPreMessage : pattern.initiatorPreMessage;
    const ownMessages = pattern.messages.filter((_, i) => (i % 2 === 0) === this.isInitiator);
    const needsS = localPre.includes('s') || ownMessages.some((m) => m.includes('s'));

    if (options.s) this.#s = localKey(options.s, 's');
    else if (needsS) throw new TypeError(`${protocol.name}: the ${this.#role} needs a static key pair (option s)`);
    if (options.e) this.#e = localKey(options.e, 'e');
    else if (localPre.includes('e')) throw new TypeError(`${protocol.name}: the ${this.#role} needs a pre-shared ephemeral key pair (option e)`);
    this.#rs = this.#preShared(options.rs, 's', remotePre, 'rs');
    this.#re = this.#preShared(options.re, 'e', remotePre, 're');

    // Noise §9: one 32-byte PSK per psk token.
    const psks = options.psks ?? [];
    if (psks.length !== pattern.pskCount) throw new RangeError(`${protocol.name} needs ${pattern.pskCount} PSK(s), got ${psks.length}`);
    this.#psks = psks.map((k, i) => {
      if (k.length !== NOISE_PSK_LENGTH) throw new RangeError(`PSK ${i} must be ${NOISE_PSK_LENGTH} bytes, got ${k.length}`);
      return Buffer.from(k);
    });

    // Noise §5.3 Initialize(): InitializeSymmetric, MixHash(prologue), then the pre-message
    // public keys, the initiator's first (Noise §7.1).
    this.#symmetric = new SymmetricState(protocol.name, protocol.cipher, protocol.hash);
    this.#symmetric.mixHash(options.prologue ?? EMPTY);
    this.#mixPreMessage(pattern.initiatorPreMessage, this.isInitiator);
    this.#mixPreMessage(pattern.responderPreMessage, !this.isInitiator);
  }

  /** Whether the handshake has processed its last message (Split() is available). */
  isComplete(): boolean {
    return this.#messageIndex >= this.pattern.messages.length;
  }

  /** Whether the next step of this party is {@link writeMessage} (false once complete or aborted). */
  isMyTurn(): boolean {
    return !this.#aborted && !this.isComplete() && this.#senderIsInitiator() === this.isInitiator;
  }

  /** GetHandshakeHash() of Noise §5.2: the current `h`, valid at any time (Noise §11.2 channel binding). */
  handshakeHash(): Buffer {
    return this.#symmetric.handshakeHash();
  }

  /** The peer's static public key, once pre-shared or received. */
  remoteStaticKey(): Buffer | undefined {
    return this.#rs === undefined ? undefined : Buffer.from(this.#rs);
  }

  /** The peer's ephemeral public key, once received. */
  remoteEphemeralKey(): Buffer | undefined {
    return this.#re === undefined ? undefined : Buffer.from(this.#re);
  }

  /**
   * WriteMessage(payload, message_buffer) of Noise §5.3.
   * @param payload Application payload (default empty); encrypted once a key is established.
   * @returns The handshake message.
   * @throws HandshakeError when it is not this party's turn, the handshake is complete or
   * aborted, or the message would exceed {@link MAX_NOISE_MESSAGE} bytes.
   */
  writeMessage(payload: Uint8Array = EMPTY): Buffer {
    this.#checkUsable();
    if (!this.isMyTurn()) throw new HandshakeError(`${this.protocolName}: the ${this.#role} cannot write message ${this.#messageIndex + 1}; it is the peer's turn`);
    if (payload.length > MAX_NOISE_MESSAGE) throw new HandshakeError(`Noise payload of ${payload.length} bytes exceeds ${MAX_NOISE_MESSAGE}`);
    const ss = this.#symmetric;
    const parts: Buffer[] = [];
    try {
      for (const token of this.pattern.messages[this.#messageIndex]!) {
        switch (token) {
          case 'e': {
            // Noise §5.3: a fresh ephemeral unless one was supplied (test vectors).
            const e = (this.#e ??= localKey(this.#generateKeyPair(), 'generated ephemeral'));
            parts.push(e.publicKey);
            ss.mixHash(e.publicKey);
            // Noise §9.2: with PSKs, "e" also calls MixKey(e.public_key).
            if (this.pattern.pskCount > 0) ss.mixKey(e.publicKey);
            break;
          }
          case 's':
            parts.push(ss.encryptAndHash(this.#s!.publicKey));
            break;
          case 'psk':
            ss.mixKeyAndHash(this.#psks[this.#pskIndex++]!);
            break;
          default:
            this.#mixDh(token);
        }
      }
      parts.push(ss.encryptAndHash(payload));
    } catch (e) {
      this.#aborted = true;
      throw e;
    }
    const message = Buffer.concat(parts);
    if (message.length > MAX_NOISE_MESSAGE) {
      this.#aborted = true;
      throw new HandshakeError(`Noise handshake message of ${message.length} bytes exceeds ${MAX_NOISE_MESSAGE}`);
    }
    this.#advance();
    return message;
  }

  /**
   * ReadMessage(message, payload_buffer) of Noise §5.3.
   * @returns The decrypted payload.
   * @throws HandshakeError when the message is out of turn, too long, truncated, fails
   * authentication or carries an invalid public key, or the handshake is complete or aborted.
   */
  readMessage(message: Uint8Array): Buffer {
    this.#checkUsable();
    if (this.#senderIsInitiator() === this.isInitiator) {
      throw new HandshakeError(`${this.protocolName}: the ${this.#role} cannot read message ${this.#messageIndex + 1}; it is its own turn to write`);
    }
    if (message.length > MAX_NOISE_MESSAGE) throw new HandshakeError(`Noise handshake message of ${message.length} bytes exceeds ${MAX_NOISE_MESSAGE}`);
    const ss = this.#symmetric;
    const msg = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
    let offset = 0;
    const take = (n: number, what: string): Buffer => {
      if (msg.length - offset < n) throw new HandshakeError(`Noise handshake message ${this.#messageIndex + 1} truncated: ${what} needs ${n} bytes, ${msg.length - offset} left`);
      const out = msg.subarray(offset, offset + n);
      offset += n;
      return out;
    };
    let payload: Buffer;
    try {
      for (const token of this.pattern.messages[this.#messageIndex]!) {
        switch (token) {
          case 'e': {
            const re = Buffer.from(take(DH25519_LENGTH, 'e'));
            this.#re = re;
            ss.mixHash(re);
            // Noise §9.2: with PSKs, "e" also calls MixKey(e.public_key).
            if (this.pattern.pskCount > 0) ss.mixKey(re);
            break;
          }
          case 's':
            // Noise §5.3: DHLEN + 16 bytes if k is set, else DHLEN.
            this.#rs = ss.decryptAndHash(take(DH25519_LENGTH + (ss.hasKey() ? NOISE_TAG_LENGTH : 0), 's'));
            break;
          case 'psk':
            ss.mixKeyAndHash(this.#psks[this.#pskIndex++]!);
            break;
          default:
            this.#mixDh(token);
        }
      }
      payload = ss.decryptAndHash(msg.subarray(offset));
    } catch (e) {
      // Tokens before the failure were already mixed into h/ck (Noise §5.3 processes them in
      // order), so this state can never agree with the peer again: abort it.
      this.#aborted = true;
      if (e instanceof HandshakeError) throw e;
      throw new HandshakeError(`Noise handshake message ${this.#messageIndex + 1} rejected`, { cause: e });
    }
    this.#advance();
    return payload;
  }

  /**
   * The transport CipherStates of Split() (Noise §5.2), from this party's point of view:
   * the initiator sends with the first, the responder with the second. The same object is
   * returned on every call (a second Split() would reuse nonces). After a one-way pattern
   * (N, K, X) only initiator→responder traffic is allowed (Noise §7.4): the responder must not
   * use `send`.
   * @throws HandshakeError before the handshake is complete.
   */
  split(): NoiseSplit {
    if (this.#split === undefined) throw new HandshakeError(`${this.protocolName}: Split() before the handshake is complete`);
    return this.#split;
  }

  get #role(): string {
    return this.isInitiator ? 'initiator' : 'responder';
  }

  #senderIsInitiator(): boolean {
    return this.#messageIndex % 2 === 0;
  }

  #checkUsable(): void {
    if (this.#aborted) throw new HandshakeError(`${this.protocolName}: handshake aborted after an earlier error`);
    if (this.isComplete()) throw new HandshakeError(`${this.protocolName}: handshake already complete`);
  }

  #preShared(key: Uint8Array | undefined, token: NoisePreMessageToken, remotePre: readonly NoisePreMessageToken[], what: string): Buffer | undefined {
    if (!remotePre.includes(token)) {
      if (key !== undefined) throw new RangeError(`${this.protocolName}: option ${what} is only valid when the pattern pre-shares the peer's "${token}"`);
      return undefined;
    }
    if (key === undefined) throw new TypeError(`${this.protocolName}: the ${this.#role} needs the peer's pre-shared key (option ${what})`);
    return remoteKey(key, what);
  }

  #mixPreMessage(tokens: readonly NoisePreMessageToken[], local: boolean): void {
    for (const t of tokens) {
      const key = local ? (t === 's' ? this.#s : this.#e)!.publicKey : (t === 's' ? this.#rs : this.#re)!;
      this.#symmetric.mixHash(key);
    }
  }

  /** Noise §5.3: ee, es, se, ss call MixKey(DH(...)); "es" is initiator e with responder s. */
  #mixDh(token: 'ee' | 'es' | 'se' | 'ss'): void {
    const initiatorKey = token[0] === 'e' ? 'e' : 's';
    const responderKey = token[1] === 'e' ? 'e' : 's';
    const localWhich = this.isInitiator ? initiatorKey : responderKey;
    const remoteWhich = this.isInitiator ? responderKey : initiatorKey;
    const local = localWhich === 'e' ? this.#e : this.#s;
    const remote = remoteWhich === 'e' ? this.#re : this.#rs;
    if (local === undefined || remote === undefined) throw new TypeError(`internal: ${token} without the keys it needs`);
    this.#symmetric.mixKey(dh25519(local.privateKey, remote));
  }

  #advance(): void {
    this.#messageIndex++;
    if (!this.isComplete()) return;
    // Noise §5.3: after the last message, Split(); the ephemeral and PSKs are no longer needed.
    const [k1, k2] = this.#symmetric.splitKeys();
    const cipher = this.#symmetric.cipherState.cipher;
    const c1 = new CipherState(cipher, k1);
    const c2 = new CipherState(cipher, k2);
    this.#split = {
      send: this.isInitiator ? c1 : c2,
      receive: this.isInitiator ? c2 : c1,
      initiatorToResponderKey: k1,
      responderToInitiatorKey: k2,
    };
    this.#e = undefined;
    this.#psks = [];
  }
}
