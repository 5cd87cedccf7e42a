/**
 * The registrar (RFC 3261 §10.3, RFC 3327 Path, RFC 5626 outbound). Given an authenticated
 * REGISTER it updates the location service and builds the response; it does no I/O of its
 * own beyond the injected store and location service.
 * @module
 */
import type { DigestAuthenticator } from '../auth/digest-authenticator.js';
import { answerOrRefuse, authenticateUas } from './uas-auth.js';
import { createResponse } from '../sip/response-builder.js';
import { formatNameAddr, type NameAddr } from '../sip/name-addr.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import { formatUri, uriKey, parseUri } from '../sip/uri.js';
import type { BindingChange, BindingRecord, DeviceRecord, Store } from '../store/store.js';
import { endpointKey, type Inbound } from '../transport/types.js';
import type { Clock } from '../util/clock.js';
import { nullLogger, type Logger } from '../util/logger.js';
import type { LocalDomain } from './local-domain.js';
import type { LocationService } from './location-service.js';

/** Opaque result of {@link RegistrationIdentityHook.inspect}. */
export type PendingIdentity = { readonly kind: string };

/**
 * Certificates with registration (SPEC ID-2, ID-3), plugged into the registrar so that the
 * certificate is stored in the same transaction as the binding. Errors thrown are
 * catalogued {@link SipherError}s and become the response status.
 */
export interface RegistrationIdentityHook {
  /** After authentication: reads the body; `undefined` for a plain registration. */
  inspect(req: SipRequest, ctx: { aor: string; username: string }): Promise<PendingIdentity | undefined>;
  /** For the device's new binding: the store changes to add, and the response body once the contacts are known. */
  complete(
    pending: PendingIdentity,
    ctx: { aor: string; binding: BindingRecord; deviceId: string },
  ): Promise<{ changes: BindingChange[]; seal: (contacts: string[]) => { contentType: string; body: Uint8Array } }>;
}

/** Options of {@link Registrar}; times in seconds. */
/** Per-request options of {@link Registrar.handle}. */
export interface RegisterOptions {
  /**
   * The AOR the request is already authenticated as (it arrived on an SA bound to it, or its
   * handshake proved it): digest authentication is skipped and only this AOR may register.
   */
  authenticatedAor?: string | undefined;
}

export interface RegistrarOptions {
  /** Served domains (the first is the digest realm) and local-address aliases. */
  local: LocalDomain;
  location: LocationService;
  store: Store;
  clock: Clock;
  /** Digest authenticator; `undefined` disables authentication (closed networks, benchmarks). */
  authenticator: DigestAuthenticator | undefined;
  logger?: Logger;
  /** Shortest accepted registration (RFC 3261 §10.3 step 7, 423 below it). Default 60. */
  minExpires?: number;
  /** Longest granted registration; longer requests are shortened. Default 7200. */
  maxExpires?: number;
  /** Used when neither the Contact nor the request has an expiry. Default 3600. */
  defaultExpires?: number;
  /** Most bindings per AOR. Default 10. */
  maxContacts?: number;
  /** RFC 5626 §4.4.1 Flow-Timer (keep-alive interval) sent to outbound clients. Default 120. */
  flowTimer?: number;
  /** Bumps a device's `lastSeen` in the store at most this often, ms. Default 60 000. */
  deviceTouchMs?: number;
  /** Certificates with registration; absent: bodies are ignored. */
  identity?: RegistrationIdentityHook | undefined;
}

/** Counters for metrics. */
export interface RegistrarCounters {
  registered: number;
  unregistered: number;
  challenged: number;
  authFailures: number;
  rejected: number;
}

/**
 * Handles REGISTER requests for the served domains. {@link handle} resolves with the
 * response to send; it never throws for bad input (that becomes a 4xx response).
 */
export class Registrar {
  private readonly o: Required<Omit<RegistrarOptions, 'authenticator' | 'logger' | 'identity'>> & {
    authenticator: DigestAuthenticator | undefined;
    logger: Logger;
    identity: RegistrationIdentityHook | undefined;
  };
  private readonly devices = new Map<string, DeviceRecord>();
  readonly counters: RegistrarCounters = { registered: 0, unregistered: 0, challenged: 0, authFailures: 0, rejected: 0 };

  constructor(opts: RegistrarOptions) {
    this.o = {
      minExpires: 60, maxExpires: 7200, defaultExpires: 3600, maxContacts: 10, flowTimer: 120, deviceTouchMs: 60_000,
      ...opts,
      logger: opts.logger ?? nullLogger,
      identity: opts.identity,
    };
    if (this.o.minExpires > this.o.maxExpires) throw new RangeError('minExpires must not exceed maxExpires');
  }

  /** Processes one REGISTER and returns the response (RFC 3261 §10.3 steps 1–8). */
  async handle(req: SipRequest, inbound: Inbound, toTag: string, opts: RegisterOptions = {}): Promise<SipResponse> {
    // Catalogued errors with a SIP status (bad syntax, bad CMS or CSR, refused certificate)
    // become that response, reason phrase included; anything else is a server fault.
    return answerOrRefuse(req, toTag, () => this.process(req, inbound, toTag, opts), () => {
      this.counters.rejected++;
    });
  }

  private async process(req: SipRequest, inbound: Inbound, toTag: string, opts: RegisterOptions): Promise<SipResponse> {
    const now = this.o.clock.now();
    const to = req.to();
    if (to.uri.kind !== 'sip') return this.reject(req, 404, 'Not Found', toTag);
    // RFC 3261 §10.3 step 5: the AOR is the To URI, canonicalized.
    const aor = this.o.local.canonicalAor(to.uri);
    if (!this.o.local.serves(to.uri.host, to.uri.port)) return this.reject(req, 404, 'Domain Not Served', toTag);

    // Step 2/3: authenticate (RFC 3261 §22, RFC 8760) and authorize the AOR.
    const auth = this.o.authenticator;
    let username = /^sip:([^@]+)@/.exec(aor)?.[1] ?? '';
    if (opts.authenticatedAor !== undefined) {
      // Authenticated by the SA it arrived on (SPEC SA-1): only the SA's own AOR.
      if (opts.authenticatedAor !== aor) return this.reject(req, 403, 'Not Allowed To Register This AOR', toTag);
    } else if (auth) {
      const realm = this.o.local.domains[0]!;
      const result = await authenticateUas(auth, realm, req, toTag);
      if (!result.ok) {
        if (result.failed) this.counters.authFailures++;
        this.counters.challenged++;
        return result.response;
      }
      // Step 6: the authenticated user may only register its own AOR.
      if (`sip:${result.username}@${realm}` !== aor && !this.o.local.domains.some((d) => `sip:${result.username}@${d}` === aor)) {
        return this.reject(req, 403, 'Not Allowed To Register This AOR', toTag);
      }
      username = result.username;
    }
    const pending = this.o.identity ? await this.o.identity.inspect(req, { aor, username }) : undefined;

    const callId = req.callId();
    const cseq = req.cseq().seq;
    const contacts = req.contacts();
    const existing = this.o.location.lookup(aor);
    const changes: BindingChange[] = [];
    let outboundOk = false;

    if (contacts === '*') {
      // RFC 3261 §10.3 step 6: "*" only with Expires: 0 and no other Contact.
      if (req.expires() !== 0) return this.reject(req, 400, 'Wildcard Contact Requires Expires 0', toTag);
      for (const b of existing) {
        if (b.callId === callId && cseq <= b.cseq) return this.reject(req, 500, 'Out Of Order CSeq', toTag);
      }
      changes.push({ kind: 'removeAll', aor });
      this.counters.unregistered++;
    } else {
      const reqExpires = req.expires();
      const path = req.has('path') && /\bpath\b/i.test(req.values('supported').join(',')) ? req.values('path') : [];
      const outbound = /\boutbound\b/i.test(req.values('supported').join(','));
      const current = new Map(existing.map((b) => [uriKey(parseUri(b.contact)), b]));
      for (const c of contacts) {
        const key = uriKey(c.uri);
        const expParam = c.params.get('expires');
        let expires = expParam !== undefined && expParam !== null && /^[0-9]+$/.test(expParam) ? Number(expParam) : reqExpires ?? this.o.defaultExpires;
        const old = current.get(key);
        // RFC 3261 §10.3 step 7: same Call-ID with a CSeq not higher is out of order.
        if (old && old.callId === callId && cseq <= old.cseq) return this.reject(req, 500, 'Out Of Order CSeq', toTag);
        if (expires === 0) {
          if (old) {
            changes.push({ kind: 'remove', aor, contact: old.contact });
            current.delete(key);
          }
          continue;
        }
        if (expires < this.o.minExpires) {
          const r = createResponse(req, 423, undefined, toTag);
          r.append('Min-Expires', String(this.o.minExpires));
          this.counters.rejected++;
          return r;
        }
        expires = Math.min(expires, this.o.maxExpires);
        const binding = this.binding(aor, c, { callId, cseq, now, expires, path, inbound, userAgent: req.get('user-agent') });
        // RFC 5626 §6: a binding with the same instance and reg-id is replaced.
        if (binding.instanceId !== undefined && binding.regId !== undefined) {
          for (const [k, b] of current) {
            if (k !== key && b.instanceId === binding.instanceId && b.regId === binding.regId) {
              changes.push({ kind: 'remove', aor, contact: b.contact });
              current.delete(k);
            }
          }
        }
        current.set(key, binding);
        changes.push({ kind: 'upsert', binding });
      }
      if (current.size > this.o.maxContacts) return this.reject(req, 403, 'Too Many Contacts', toTag);
      if (contacts.length > 0) this.counters.registered++;
      outboundOk = outbound && contacts.some((c) => c.params.has('reg-id'));
    }

    // Device records ride in the same group commit as the bindings (one transaction).
    const devices = this.deviceChanges(changes, now);
    // SPEC ID-2: the certificate is issued for the device's binding and stored with it.
    const own = pending && changes.find((c): c is Extract<BindingChange, { kind: 'upsert' }> => c.kind === 'upsert')?.binding;
    // X.509 times have whole seconds (RFC 5280 §4.1.2.5): the binding's expiry is cut to the
    // second so that it equals the certificate's notAfter exactly.
    if (own && pending) own.expiresAt = Math.floor(own.expiresAt / 1000) * 1000;
    const identity = own && pending ? await this.o.identity!.complete(pending, { aor, binding: own, deviceId: deviceIdOf(own) }) : undefined;
    if (identity) devices.push(...identity.changes);
    if (changes.length > 0) await this.o.location.apply(devices.length > 0 ? [...changes, ...devices] : changes);

    // Step 8: 200 OK listing all current bindings with their remaining expiry.
    const r = createResponse(req, 200, undefined, toTag);
    for (const b of this.o.location.lookup(aor)) {
      // Whole seconds left, rounded up: a binding cut to the second for its certificate
      // (above) still shows the expiry the device asked for.
      r.append('Contact', `${b.contactHeader};expires=${Math.max(0, Math.ceil((b.expiresAt - now) / 1000))}`);
    }
    const path = changes.find((c): c is Extract<BindingChange, { kind: 'upsert' }> => c.kind === 'upsert')?.binding.path;
    if (path && path.length > 0) r.append('Path', path.join(', ')); // RFC 3327 §5.3
    if (outboundOk) {
      r.append('Require', 'outbound'); // RFC 5626 §6
      r.append('Flow-Timer', String(this.o.flowTimer));
    }
    r.append('Date', new Date(now).toUTCString());
    if (identity) {
      const sealed = identity.seal(r.getAll('contact'));
      r.setBody(Buffer.from(sealed.body), sealed.contentType);
    }
    return r;
  }

  private binding(
    aor: string,
    c: NameAddr,
    x: { callId: string; cseq: number; now: number; expires: number; path: string[]; inbound: Inbound; userAgent: string | undefined },
  ): BindingRecord {
    const instance = c.params.get('+sip.instance') ?? undefined;
    const regIdText = c.params.get('reg-id');
    const regId = regIdText !== undefined && regIdText !== null && /^[0-9]{1,9}$/.test(regIdText) ? Number(regIdText) : undefined;
    const qText = c.params.get('q');
    const q = qText ? Math.round(Math.min(1, Math.max(0, Number(qText) || 0)) * 1000) : 1000;
    const params = new Map(c.params);
    params.delete('expires');
    const header = formatNameAddr({ displayName: c.displayName, uri: c.uri, params, angle: true });
    return {
      aor,
      contact: formatUri(c.uri),
      contactHeader: header,
      instanceId: instance ?? undefined,
      regId,
      callId: x.callId,
      cseq: x.cseq,
      expiresAt: x.now + x.expires * 1000,
      q,
      path: x.path,
      source: endpointKey(x.inbound.source) + (x.inbound.connectionId ? `#${x.inbound.connectionId}` : ''),
      userAgent: x.userAgent,
      updatedAt: x.now,
    };
  }

  /** Device upserts for new or changed devices; `lastSeen` alone is refreshed at most every `deviceTouchMs`. */
  private deviceChanges(changes: readonly BindingChange[], now: number): BindingChange[] {
    const out: BindingChange[] = [];
    for (const c of changes) {
      if (c.kind !== 'upsert') continue;
      const b = c.binding;
      const id = deviceIdOf(b);
      const known = this.devices.get(id);
      if (known && known.contact === b.contact && known.source === b.source && known.userAgent === b.userAgent && now - known.lastSeen < this.o.deviceTouchMs) continue;
      const d: DeviceRecord = { id, aor: b.aor, userAgent: b.userAgent, contact: b.contact, source: b.source, firstSeen: known?.firstSeen ?? now, lastSeen: now };
      if (this.devices.size > 100_000) this.devices.clear();
      this.devices.set(id, d);
      out.push({ kind: 'device', device: d });
    }
    return out;
  }

  private reject(req: SipRequest, status: number, reason: string, toTag: string): SipResponse {
    this.counters.rejected++;
    return createResponse(req, status, reason, toTag);
  }
}

/** The device id of a binding: its `+sip.instance`, else `aor|contact` (see {@link DeviceRecord.id}). */
/** The device id of a binding: its RFC 5626 instance, else `aor|contact` (as DeviceRecord.id). */
export function deviceIdOf(b: BindingRecord): string {
  return b.instanceId ?? `${b.aor}|${b.contact}`;
}
