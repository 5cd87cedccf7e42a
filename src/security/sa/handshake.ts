/**
 * The SA handshake (SPEC SA-1; seed 004 [0030], [0047]–[0049], FIG. 4: key exchange, mutual
 * authentication, then name registration through the channel): Noise XX over X25519 with
 * ChaCha20-Poly1305 or AES-256-GCM and SHA-256, its three messages carried in the bodies of
 * REGISTER / 401 / REGISTER (`application/sipher-handshake`, docs/protocol.md §3.1):
 *
 * ```
 *  0      version 1
 *  1      step: 1 (→ e), 2 (← e, ee, s, es), 3 (→ s, se)
 *  2      cipher: 1 = ChaChaPoly, 2 = AESGCM (chosen by the device in step 1)
 *  3..10  SA id: zero in step 1, chosen by the server in step 2, echoed in step 3
 *  11..   the Noise message
 * ```
 *
 * The Noise prologue binds the SIP context the handshake runs in: `SIPHER-SA/1` 0x00 Call-ID
 * 0x00 the device's `Security-Client` value — so its capability cannot be downgraded by a
 * man in the middle. The step-3 payload is the device's real REGISTER (with its credentials),
 * read only by the server whose static key the device accepted.
 * @module
 */
import { createHmac } from 'node:crypto';
import { HandshakeError } from '../../errors.js';
import { aeadRule } from '../../crypto/aead-rules.js';
import { HandshakeState, type NoiseKeyPair } from '../../crypto/noise/index.js';
import { Generation } from './generation.js';
import { SA_ID_LENGTH } from './record.js';

/** Handshake ciphers (byte 2 of the frame) and the record rule of generation 0. */
export const HANDSHAKE_CIPHERS = {
  1: { noise: 'ChaChaPoly', rule: 'chacha20-poly1305' },
  2: { noise: 'AESGCM', rule: 'aes-256-gcm' },
} as const;

/** A handshake cipher code. */
export type HandshakeCipher = keyof typeof HANDSHAKE_CIPHERS;

const FRAME_HEADER = 3 + SA_ID_LENGTH;
const ZERO_ID = Buffer.alloc(SA_ID_LENGTH);

/** A decoded handshake body. */
export interface HandshakeFrame {
  step: 1 | 2 | 3;
  cipher: HandshakeCipher;
  saId: Buffer;
  noise: Buffer;
}

/** Encodes a handshake body. */
export function encodeHandshakeFrame(f: HandshakeFrame): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + f.noise.length);
  out[0] = 1;
  out[1] = f.step;
  out[2] = f.cipher;
  f.saId.copy(out, 3, 0, SA_ID_LENGTH);
  f.noise.copy(out, FRAME_HEADER);
  return out;
}

/** Decodes a handshake body; `HandshakeError` (400) when malformed. */
export function decodeHandshakeFrame(body: Buffer): HandshakeFrame {
  if (body.length < FRAME_HEADER + 32 || body.length > 65_535 + FRAME_HEADER) throw new HandshakeError('handshake body has a bad length');
  if (body[0] !== 1) throw new HandshakeError(`unsupported handshake version ${body[0]}`);
  const step = body[1];
  if (step !== 1 && step !== 2 && step !== 3) throw new HandshakeError(`bad handshake step ${step}`);
  const cipher = body[2];
  if (cipher !== 1 && cipher !== 2) throw new HandshakeError(`unsupported handshake cipher ${cipher}`);
  return { step, cipher, saId: Buffer.from(body.subarray(3, FRAME_HEADER)), noise: body.subarray(FRAME_HEADER) };
}

/** The Noise prologue for a handshake in this SIP context. */
export function handshakePrologue(callId: string, securityClient: string): Buffer {
  return Buffer.from(`SIPHER-SA/1\0${callId}\0${securityClient}`, 'utf8');
}

function protocolName(cipher: HandshakeCipher): string {
  return `Noise_XX_25519_${HANDSHAKE_CIPHERS[cipher].noise}_SHA256`;
}

/** What a completed handshake yields. */
export interface HandshakeResult {
  saId: Buffer;
  /** Generation 0: the handshake's Split() keys under the handshake cipher's rule. */
  generation: Generation;
  /** Final handshake hash h (channel binding). */
  handshakeHash: Buffer;
  /** The peer's static public key. */
  remoteStatic: Buffer;
}

function generationZero(hs: HandshakeState, cipher: HandshakeCipher): Generation {
  const k = hs.split();
  const rule = aeadRule(HANDSHAKE_CIPHERS[cipher].rule)!;
  const i2r = Buffer.from(k.initiatorToResponderKey);
  const r2i = Buffer.from(k.responderToInitiatorKey);
  return hs.isInitiator ? new Generation(0, rule, i2r, r2i) : new Generation(0, rule, r2i, i2r);
}

/** The device's side (Noise initiator). */
export class HandshakeInitiator {
  private readonly hs: HandshakeState;
  private readonly cipher: HandshakeCipher;
  private saId: Buffer = ZERO_ID;
  private h2: Buffer | undefined;

  constructor(opts: { staticKey: NoiseKeyPair; cipher?: HandshakeCipher; callId: string; securityClient: string; generateKeyPair?: () => NoiseKeyPair }) {
    this.cipher = opts.cipher ?? 1;
    this.hs = new HandshakeState({
      protocolName: protocolName(this.cipher), initiator: true, s: opts.staticKey,
      prologue: handshakePrologue(opts.callId, opts.securityClient),
      ...(opts.generateKeyPair ? { generateKeyPair: opts.generateKeyPair } : {}),
    });
  }

  /** Step 1 body. */
  first(): Buffer {
    return encodeHandshakeFrame({ step: 1, cipher: this.cipher, saId: ZERO_ID, noise: this.hs.writeMessage() });
  }

  /**
   * Reads step 2. Returns the server's static key (for pinning or trust on first use), the
   * handshake hash after it (the digest nonce of docs/protocol.md §3.1) and its payload.
   */
  second(body: Buffer): { serverStatic: Buffer; hash: Buffer; payload: Buffer; saId: Buffer } {
    const f = decodeHandshakeFrame(body);
    if (f.step !== 2 || f.cipher !== this.cipher) throw new HandshakeError('expected handshake step 2');
    const payload = this.hs.readMessage(f.noise);
    this.saId = f.saId;
    this.h2 = this.hs.handshakeHash();
    return { serverStatic: this.hs.remoteStaticKey()!, hash: this.h2, payload, saId: f.saId };
  }

  /** Step 3 body carrying `payload` (the real REGISTER), and the SA keys. */
  third(payload: Buffer): { body: Buffer; result: HandshakeResult } {
    if (!this.h2) throw new HandshakeError('handshake step 2 not read');
    const noise = this.hs.writeMessage(payload);
    return {
      body: encodeHandshakeFrame({ step: 3, cipher: this.cipher, saId: this.saId, noise }),
      result: { saId: this.saId, generation: generationZero(this.hs, this.cipher), handshakeHash: this.hs.handshakeHash(), remoteStatic: this.hs.remoteStaticKey()! },
    };
  }
}

/** The server's side (Noise responder): one per handshake in progress. */
export class HandshakeResponder {
  private readonly hs: HandshakeState;
  readonly cipher: HandshakeCipher;
  readonly saId: Buffer;
  /** Handshake hash after step 2: the nonce the device's bound digest uses. */
  readonly hashAfterSecond: Buffer;
  /** The step-2 body (the 401 carries it).  */
  readonly secondBody: Buffer;

  private constructor(hs: HandshakeState, cipher: HandshakeCipher, saId: Buffer, second: Buffer) {
    this.hs = hs;
    this.cipher = cipher;
    this.saId = saId;
    this.hashAfterSecond = hs.handshakeHash();
    this.secondBody = second;
  }

  /** Reads step 1 and writes step 2 (payload: what the server tells the device, e.g. its realm). */
  static answer(
    body: Buffer,
    opts: { staticKey: NoiseKeyPair; saId: Buffer; callId: string; securityClient: string; payload?: Buffer; generateKeyPair?: () => NoiseKeyPair },
  ): HandshakeResponder {
    const f = decodeHandshakeFrame(body);
    if (f.step !== 1) throw new HandshakeError('expected handshake step 1');
    const hs = new HandshakeState({
      protocolName: protocolName(f.cipher), initiator: false, s: opts.staticKey,
      prologue: handshakePrologue(opts.callId, opts.securityClient),
      ...(opts.generateKeyPair ? { generateKeyPair: opts.generateKeyPair } : {}),
    });
    hs.readMessage(f.noise);
    const noise = hs.writeMessage(opts.payload ?? Buffer.alloc(0));
    return new HandshakeResponder(hs, f.cipher, opts.saId, encodeHandshakeFrame({ step: 2, cipher: f.cipher, saId: opts.saId, noise }));
  }

  /** Reads step 3: the device's payload and the SA keys. */
  third(body: Buffer): { payload: Buffer; result: HandshakeResult } {
    const f = decodeHandshakeFrame(body);
    if (f.step !== 3 || f.cipher !== this.cipher || !f.saId.equals(this.saId)) throw new HandshakeError('expected handshake step 3 of this SA');
    const payload = this.hs.readMessage(f.noise);
    return {
      payload,
      result: { saId: this.saId, generation: generationZero(this.hs, this.cipher), handshakeHash: this.hs.handshakeHash(), remoteStatic: this.hs.remoteStaticKey()! },
    };
  }
}

/** Header carrying an enrolment token proof in the step-3 REGISTER (lower-case key). */
export const TOKEN_HEADER = 'sipher-token';

/**
 * The enrolment token proof (docs/protocol.md §3.1): HMAC-SHA-256 keyed with SHA-256 of the
 * token secret, over the handshake hash after step 2 — bound to this handshake, so a proof
 * seen by a man in the middle is useless in any other.
 */
export function tokenProof(secretHash: Buffer, handshakeHash: Buffer): Buffer {
  return createHmac('sha256', secretHash).update(handshakeHash).digest();
}
