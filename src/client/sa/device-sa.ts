/**
 * The device side of a signalling SA (SPEC SA-1 … SA-10): runs the handshake inside the
 * REGISTER exchange (docs/protocol.md §3.1), checks the server's static key (pinned or
 * trusted on first use), and applies the server's setting requests — stage, answer under the
 * generation in force, then switch (seed 000 §4.3 l41–l45), keeping the old generation for the
 * grace period (13th embodiment).
 * @module
 */
import { createHash } from 'node:crypto';
import { HandshakeError, SaSettingError } from '../../errors.js';
import { aeadRule, aeadRules } from '../../crypto/aead-rules.js';
import { generateNoiseKeyPair, type NoiseKeyPair } from '../../crypto/noise/index.js';
import {
  decodeSetting, deriveGeneration, formatCapability, formatRange, HandshakeInitiator, parseRange, RANGE_KINDS, SA_VERSION,
  SaEndpoint, SecurityAssociation, type HandshakeResult,
} from '../../security/sa/index.js';
import type { SipRequest } from '../../sip/message.js';
import type { Target } from '../../transport/types.js';
import type { Clock } from '../../util/clock.js';
import type { DeviceSaOptions, SaEvent } from './device-sa-options.js';

/** What the registration code needs to answer a setting request. */
export type SettingReply = (status: number, reason?: string) => void;

/** SA state of one device. */
export class DeviceSa {
  readonly endpoint: SaEndpoint;
  readonly capabilityValue: string;
  readonly mode: 'required' | 'preferred';
  private readonly staticKey: NoiseKeyPair;
  private readonly rules: string[];
  private readonly ranges: string[];
  private readonly clock: Clock;
  private readonly emit: (e: SaEvent) => void;
  private readonly cipher: 1 | 2;
  private pinned: string | undefined;
  private readonly tofu: boolean;
  private token: { id: string; secretHash: Buffer } | undefined;
  private sa: SecurityAssociation | undefined;
  private initiator: HandshakeInitiator | undefined;
  /** Set when the server answered without a handshake (it offers no SA). */
  unavailable = false;

  constructor(o: DeviceSaOptions, deps: { clock: Clock; emit: (e: SaEvent) => void }) {
    this.mode = o.mode ?? 'preferred';
    this.staticKey = o.staticKey ?? generateNoiseKeyPair();
    this.rules = (o.rules ?? aeadRules().map((r) => r.name)).map((r) => r.toLowerCase());
    for (const r of this.rules) if (!aeadRule(r)) throw new SaSettingError('invalid', `unknown rule ${r}`);
    this.ranges = o.ranges ?? [...RANGE_KINDS];
    this.clock = deps.clock;
    this.emit = deps.emit;
    this.cipher = o.handshakeCipher === 'aes-256-gcm' ? 2 : 1;
    this.pinned = o.serverKey?.toLowerCase();
    this.tofu = o.trustOnFirstUse ?? true;
    if (o.token !== undefined) {
      const m = /^([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{16,128})$/.exec(o.token);
      if (!m) throw new HandshakeError('enrolment token must look like <id>.<secret>');
      this.token = { id: m[1]!, secretHash: createHash('sha256').update(m[2]!).digest() };
    }
    this.capabilityValue = formatCapability({ version: SA_VERSION, rules: this.rules, ranges: this.ranges });
    this.endpoint = new SaEndpoint();
  }

  /** True while an SA with the server is established. */
  get established(): boolean {
    return this.sa?.established === true;
  }

  /** The device's static public key (hex): what the server records after token enrolment. */
  get publicKey(): string {
    return this.staticKey.publicKey.toString('hex');
  }

  /** Current state (for the `sa` event and tests). */
  state(): SaEvent | undefined {
    const sa = this.sa;
    if (!sa) return undefined;
    const s = sa.state();
    return { state: 'updated', saId: s.saId, presence: s.presence, rule: s.rule, range: formatRange(s.range), generation: s.generation };
  }

  /** Step 1 of a new handshake for this registration Call-ID. */
  begin(callId: string): Buffer {
    this.initiator = new HandshakeInitiator({ staticKey: this.staticKey, cipher: this.cipher, callId, securityClient: this.capabilityValue });
    return this.initiator.first();
  }

  /**
   * Reads step 2 from the 401 and checks the server's key (pin or trust on first use).
   * Returns the handshake hash (the digest nonce the server expects).
   */
  second(body: Buffer): Buffer {
    if (!this.initiator) throw new HandshakeError('no handshake in progress');
    const r = this.initiator.second(body);
    const fp = createHash('sha256').update(r.serverStatic).digest('hex');
    if (this.pinned === undefined) {
      if (!this.tofu) throw new HandshakeError('server key not pinned and trust on first use is off', { sipStatus: 403 });
      this.pinned = fp; // trust on first use: later handshakes must show the same key
    } else if (fp !== this.pinned) {
      throw new HandshakeError(`server key ${fp.slice(0, 16)}… does not match the pinned key`, { sipStatus: 403 });
    }
    return r.hash;
  }

  /** Fingerprint of the server key accepted (pinned or first seen). */
  get serverKey(): string | undefined {
    return this.pinned;
  }

  /** The enrolment token proof header for this handshake, once (the token is one-time). */
  tokenHeader(hash: Buffer, proof: (secretHash: Buffer, h: Buffer) => Buffer): [string, string] | undefined {
    const t = this.token;
    if (!t) return undefined;
    return ['Sipher-Token', `id=${t.id};proof=${proof(t.secretHash, hash).toString('base64url')}`];
  }

  /** The token was accepted: later handshakes authenticate by the static key. */
  tokenUsed(): void {
    this.token = undefined;
  }

  /** Step 3 carrying the real REGISTER; installs the SA (not yet established) for `server`. */
  third(register: Buffer, server: Target): Buffer {
    if (!this.initiator) throw new HandshakeError('no handshake in progress');
    const { body, result } = this.initiator.third(register);
    this.initiator = undefined;
    this.install(result, server);
    return body;
  }

  private install(r: HandshakeResult, server: Target): void {
    if (this.sa) this.endpoint.remove(this.sa);
    this.sa = new SecurityAssociation({ id: r.saId, role: 'initiator', generation: r.generation, clock: this.clock, range: parseRange('whole') });
    this.endpoint.add(this.sa, server);
    // Requests too large for UDP go over TCP to the same address (RFC 3261 §18.1.1): same SA.
    if (server.protocol === 'udp') this.endpoint.bindPeer(this.sa, { protocol: 'tcp', address: server.address, port: server.port });
  }

  /** After the sealed 200: report the SA. */
  confirmed(): void {
    const s = this.state();
    if (s) this.emit({ ...s, state: 'established', serverKey: this.pinned });
  }

  /** Forgets the SA (refused handshake, server restarted): the next registration makes a new one. */
  drop(detail: string): void {
    if (!this.sa) return;
    this.endpoint.remove(this.sa);
    const id = this.sa.idHex;
    this.sa = undefined;
    this.emit({ state: 'lost', saId: id, detail });
  }

  /**
   * A setting request from the server (docs/protocol.md §3.6). Checks it (seed 000 a41:
   * "normality"), stages the new generation, answers 200 under the generation in force, then
   * switches (l42–l45). Refusals: 488 for a rule or range this device does not support, 400
   * for a malformed setting; the server records them as the setting's failure.
   */
  onSetting(req: SipRequest, saId: string | undefined, reply: SettingReply): void {
    const sa = this.sa;
    if (!sa || saId !== sa.idHex) {
      reply(403, 'Setting Not Protected');
      return;
    }
    let s;
    try {
      s = decodeSetting(req.body);
      if (!this.rules.includes(s.rule)) throw new SaSettingError('rule-unsupported', 'Rule Not Supported');
      if (!this.ranges.includes(s.range.kind)) throw new SaSettingError('range-unsupported', 'Range Not Supported');
    } catch (e) {
      const err = e instanceof SaSettingError ? e : new SaSettingError('invalid', 'Bad Setting');
      reply(err.reason === 'invalid' ? 400 : 488, err.reason === 'rule-unsupported' ? 'Rule Not Supported' : err.reason === 'range-unsupported' ? 'Range Not Supported' : 'Bad Setting');
      this.emit({ state: 'updated', saId: sa.idHex, detail: `refused setting: ${err.message}` });
      return;
    }
    // A setting for the generation in force again (a new transaction after a lost answer): acknowledge.
    if (s.generation <= sa.current.number) {
      reply(200);
      return;
    }
    const rule = aeadRule(s.rule)!;
    const ikm = s.keySource === 'random' ? s.key! : sa.current.keyMaterial('initiator');
    sa.stage(deriveGeneration(ikm, sa.id, s.generation, rule, 'initiator'), s.presence, s.range);
    reply(200); // sealed under the generation in force (seed 000 l44)
    sa.commit(s.graceSeconds * 1000);
    const st = this.state();
    if (st) this.emit({ ...st, state: 'updated', settingId: s.id });
  }
}
