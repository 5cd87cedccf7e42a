/**
 * The admin HTTP API for signalling SAs (issue 4 §6; the console of issue 8 builds on it).
 * Every route needs `Authorization: Bearer <admin token>` (the token is created on first
 * start in `DATA/admin-token`, mode 0600). JSON in and out; errors are RFC 9457 problem
 * details. Keys are never accepted or returned (SPEC SA-3).
 *
 * | Method | Path | |
 * |---|---|---|
 * | GET | /api/sa/rules | the rule registry and ranges |
 * | GET | /api/sa/devices | every device's encryption information and last outcome |
 * | GET | /api/sa/devices/{id} | one device |
 * | PUT | /api/sa/devices/{id} | set presence/rule/range/updateTimerSeconds/graceSeconds → outcome |
 * | POST | /api/sa/devices/{id}/rekey | new server-random key now → outcome |
 * | GET | /api/sa/domain | the domain defaults |
 * | PUT | /api/sa/domain | set domain defaults → outcome per live device |
 * | POST | /api/devices/tokens | `{aor, ttlSeconds}` → one-time enrolment token (shown once) |
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PolicyError, SipherError } from '../errors.js';
import { canonicalPolicyAor, REQUEST_KINDS, type RequestKind } from '../services/policy/index.js';
import type { PolicyService } from '../services/policy/policy-service.js';
import { aeadRules } from '../crypto/aead-rules.js';
import { RANGE_KINDS } from '../security/sa/index.js';
import type { SaService, SettingFields } from '../services/sa/sa-service.js';
import type { SaDefaults } from '../services/sa/encryption-info.js';
import type { Store } from '../store/store.js';
import { json, problem } from './http-problem.js';

/** What the admin API works on. */
export interface AdminApiContext {
  adminToken: string;
  /** The connection policy (SPEC POL-2). */
  policy: PolicyService;
  sa: SaService;
  store: Store;
  domain: string;
  defaults: SaDefaults;
}

const MAX_BODY = 16_384;

/** Answers `/api/…` requests; resolves true when the path was an API path. */
export async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string, ctx: AdminApiContext): Promise<boolean> {
  if (!path.startsWith('/api/')) return false;
  // Until the console (issue 8) brings TLS, the API and its bearer token stay on the host.
  if (!isLoopback(req.socket.remoteAddress)) {
    problem(res, 403, 'Forbidden', 'the admin API answers only on the server host (loopback)');
    return true;
  }
  if (!authorized(req, ctx.adminToken)) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="sipher-admin"');
    problem(res, 401, 'Unauthorized', 'an admin bearer token is required');
    return true;
  }
  try {
    if (path.startsWith('/api/policy')) await policyRoute(req, res, path, ctx);
    else await route(req, res, path, ctx);
  } catch (e) {
    if (e instanceof PolicyError) problem(res, 400, e.name, e.message, { problems: e.problems });
    else if (e instanceof SipherError) problem(res, e.httpStatus, e.name, e.message);
    else throw e;
  }
  return true;
}

async function route(req: IncomingMessage, res: ServerResponse, path: string, ctx: AdminApiContext): Promise<void> {
  const method = req.method ?? 'GET';
  if (path === '/api/sa/rules' && method === 'GET') {
    return json(res, 200, { rules: aeadRules().map((r) => ({ name: r.name, label: r.label, keyBits: r.keyLength * 8 })), ranges: RANGE_KINDS, presence: ['on', 'off'] });
  }
  if (path === '/api/sa/devices' && method === 'GET') {
    const list = await ctx.store.listSaDevices();
    return json(res, 200, { devices: await Promise.all(list.map((d) => view(d, ctx))) });
  }
  if (path === '/api/sa/domain') {
    if (method === 'GET') return json(res, 200, { scope: `domain:${ctx.domain}`, defaults: ctx.defaults, setting: (await ctx.store.getSaSetting(`domain:${ctx.domain}`)) ?? null });
    if (method === 'PUT') return json(res, 200, { outcomes: await ctx.sa.configureDomain(fields(await body(req))) });
    return notAllowed(res, 'GET, PUT');
  }
  if (path === '/api/devices/tokens') {
    if (method !== 'POST') return notAllowed(res, 'POST');
    const b = await body(req);
    if (typeof b.aor !== 'string') return problem(res, 400, 'Bad Request', 'aor (string) is required');
    const ttl = b.ttlSeconds === undefined ? 86_400 : b.ttlSeconds;
    if (typeof ttl !== 'number') return problem(res, 400, 'Bad Request', 'ttlSeconds must be a number');
    return json(res, 201, await ctx.sa.createEnrolmentToken(b.aor, ttl));
  }
  const m = /^\/api\/sa\/devices\/([^/]+)(\/rekey)?$/.exec(path);
  if (m) {
    let id: string;
    try {
      id = decodeURIComponent(m[1]!);
    } catch {
      return problem(res, 400, 'Bad Request', 'bad device id encoding');
    }
    if (m[2]) {
      if (method !== 'POST') return notAllowed(res, 'POST');
      return json(res, 200, await ctx.sa.rekey(id));
    }
    if (method === 'GET') {
      const d = await ctx.store.getSaDevice(id);
      if (!d) return problem(res, 404, 'Not Found', 'no such device');
      return json(res, 200, { ...(await view(d, ctx)), setting: (await ctx.store.getSaSetting(`device:${id}`)) ?? null });
    }
    if (method === 'PUT') return json(res, 200, await ctx.sa.configureDevice(id, fields(await body(req))));
    return notAllowed(res, 'GET, PUT');
  }
  problem(res, 404, 'Not Found', `no resource at ${path.slice(0, 100)}`);
}

/**
 * `/api/policy` (SPEC POL-2): GET the version in force, PUT a new one (`{text, format?,
 * comment?}` → `{version}`, or 400 with every problem), GET `/api/policy/versions`, POST
 * `/api/policy/check` (`{from, to, kind}` → the decision, for operators).
 */
async function policyRoute(req: IncomingMessage, res: ServerResponse, path: string, ctx: AdminApiContext): Promise<void> {
  const method = req.method ?? 'GET';
  if (path === '/api/policy') {
    if (method === 'GET') {
      const v = ctx.policy.version === undefined ? undefined : await ctx.store.getPolicyVersion(ctx.policy.version);
      return json(res, 200, v ? { version: v.version, format: v.format, text: v.text, createdAt: v.createdAt, author: v.author ?? null, comment: v.comment ?? null } : { version: null, text: null });
    }
    if (method === 'PUT') {
      const b = await body(req);
      if (typeof b.text !== 'string') return problem(res, 400, 'Bad Request', 'text (string) is required');
      if (b.format !== undefined && b.format !== 'yaml' && b.format !== 'json') return problem(res, 400, 'Bad Request', 'format must be yaml or json');
      if (b.comment !== undefined && typeof b.comment !== 'string') return problem(res, 400, 'Bad Request', 'comment must be a string');
      const r = await ctx.policy.update(b.text, {
        author: 'admin-api', ...(b.format ? { format: b.format } : {}), ...(typeof b.comment === 'string' ? { comment: b.comment } : {}),
      });
      return json(res, 200, r);
    }
    return notAllowed(res, 'GET, PUT');
  }
  if (path === '/api/policy/versions') {
    if (method !== 'GET') return notAllowed(res, 'GET');
    return json(res, 200, { versions: await ctx.store.listPolicyVersions() });
  }
  if (path === '/api/policy/check') {
    if (method !== 'POST') return notAllowed(res, 'POST');
    const b = await body(req);
    const kind = b.kind;
    if (typeof b.from !== 'string' || typeof b.to !== 'string' || typeof kind !== 'string' || !(REQUEST_KINDS as readonly string[]).includes(kind)) {
      return problem(res, 400, 'Bad Request', `from, to (AORs) and kind (${REQUEST_KINDS.join(', ')}) are required`);
    }
    const from = canonicalPolicyAor(b.from);
    const to = canonicalPolicyAor(b.to);
    if (!from || !to) return problem(res, 400, 'Bad Request', 'from and to must be sip: URIs');
    return json(res, 200, { version: ctx.policy.version ?? null, ...ctx.policy.engine.decide({ from, to, kind: kind as RequestKind }) });
  }
  problem(res, 404, 'Not Found', `no resource at ${path.slice(0, 100)}`);
}

/** One device as the console shows it: in force, wanted (`configured`), live SA, last outcome — never keys. */
async function view(d: Awaited<ReturnType<Store['listSaDevices']>>[number], ctx: AdminApiContext): Promise<Record<string, unknown>> {
  const { staticKey, ...rest } = d;
  const fingerprint = staticKey ? createHash('sha256').update(Buffer.from(staticKey, 'hex')).digest('hex') : undefined;
  return { ...rest, staticKeyFingerprint: fingerprint, configured: await ctx.sa.effectiveInfo(d.deviceId), live: ctx.sa.liveState(d.deviceId) ?? null };
}

const FIELD_NAMES = ['presence', 'rule', 'range', 'updateTimerSeconds', 'graceSeconds'] as const;

function fields(b: Record<string, unknown>): SettingFields {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(b)) {
    if (!(FIELD_NAMES as readonly string[]).includes(k)) throw new SipherError('SIPHER_ERR_INVALID_ARGUMENT', `unknown field ${k.slice(0, 40)} (allowed: ${FIELD_NAMES.join(', ')}; keys are never set by hand)`, { httpStatus: 400 });
    const numeric = k === 'updateTimerSeconds' || k === 'graceSeconds';
    if (numeric ? typeof v !== 'number' : typeof v !== 'string') throw new SipherError('SIPHER_ERR_INVALID_ARGUMENT', `${k} must be a ${numeric ? 'number' : 'string'}`, { httpStatus: 400 });
    out[k] = v;
  }
  return out as SettingFields;
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > MAX_BODY) throw new SipherError('SIPHER_ERR_INVALID_ARGUMENT', 'request body too large', { httpStatus: 413 });
    chunks.push(c as Buffer);
  }
  let v: unknown;
  try {
    v = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new SipherError('SIPHER_ERR_INVALID_ARGUMENT', 'body is not JSON', { httpStatus: 400 });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SipherError('SIPHER_ERR_INVALID_ARGUMENT', 'body must be a JSON object', { httpStatus: 400 });
  return v as Record<string, unknown>;
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\./.test(a);
}

function authorized(req: IncomingMessage, token: string): boolean {
  const h = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function notAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  problem(res, 405, 'Method Not Allowed', `allowed: ${allow}`);
}
