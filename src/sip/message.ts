/**
 * The SIP message model (RFC 3261 §7). Headers are kept as written — name, value and the
 * exact line(s) — so a proxy forwards unknown headers byte for byte (SIP-1); the typed
 * accessors parse on first use and cache the result until the header is changed.
 *
 * Strings in the model are wire strings: one character per byte (latin1), so that any
 * byte sequence round-trips exactly. Use {@link wireToText} to read UTF-8 text.
 * @module
 */
import { SipParseError } from '../errors.js';
import { canonicalName, headerKey, LIST_HEADERS } from './header-names.js';
import { splitList } from './lexer.js';
import { parseNameAddr, type NameAddr } from './name-addr.js';
import { parseUri, type Uri } from './uri.js';
import { parseVia, type Via } from './via.js';

/** One header field as it appears in the message. */
export interface HeaderField {
  /** The name as written (`v`, `VIA`, `Via`). */
  readonly name: string;
  /** Lower-case long name (compact forms expanded): the lookup key. */
  readonly key: string;
  /** The value with folding replaced by a single space and outer whitespace trimmed. */
  readonly value: string;
  /** The exact header line(s) as received, without the final CRLF; absent for fields Sipher wrote. */
  readonly raw: string | undefined;
}

/** CSeq (RFC 3261 §20.16). */
export interface CSeq {
  seq: number;
  method: string;
}

/** Decodes a wire string (latin1) as UTF-8 text. */
export function wireToText(s: string): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}

/** Encodes UTF-8 text as a wire string. */
export function textToWire(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

const EMPTY = Buffer.alloc(0);

/** Common part of requests and responses. */
export abstract class SipMessage {
  /** Header fields in order. Mutate only through the methods so caches stay right. */
  headers: HeaderField[];
  /** The body; empty when none. Content-Length is derived from it when serializing. */
  body: Buffer;
  /** SIP version as written in the start line (`SIP/2.0`). */
  version: string;
  private cache: Map<string, unknown> | undefined;

  constructor(headers: HeaderField[] = [], body: Buffer = EMPTY, version = 'SIP/2.0') {
    this.headers = headers;
    this.body = body;
    this.version = version;
  }

  /** True for requests. */
  abstract get isRequest(): boolean;

  /** The first value of header `key` (lower-case long name), or `undefined`. */
  get(key: string): string | undefined {
    const hs = this.headers;
    for (let i = 0; i < hs.length; i++) if (hs[i]!.key === key) return hs[i]!.value;
    return undefined;
  }

  /** Every field value of header `key`, in order, not split on commas. */
  getAll(key: string): string[] {
    const out: string[] = [];
    for (const h of this.headers) if (h.key === key) out.push(h.value);
    return out;
  }

  /** True if the header is present. */
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * Every element of list header `key` across all its fields, split on top-level commas
   * (RFC 3261 §7.3.1). Throws {@link SipParseError} on a malformed list.
   */
  values(key: string): string[] {
    const out: string[] = [];
    for (const h of this.headers) {
      if (h.key !== key) continue;
      if (LIST_HEADERS.has(key)) for (const v of splitList(h.value, canonicalName(key))) out.push(v);
      else out.push(h.value);
    }
    return out;
  }

  /** Replaces every field of the header with one field holding `value` (at the first one's place). */
  set(name: string, value: string): void {
    const key = headerKey(name);
    const field: HeaderField = { name: canonicalName(key), key, value, raw: undefined };
    const idx = this.headers.findIndex((h) => h.key === key);
    if (idx < 0) this.headers.push(field);
    else {
      this.headers[idx] = field;
      this.headers = this.headers.filter((h, i) => i === idx || h.key !== key);
    }
    this.invalidate(key);
  }

  /** Appends a field after all existing fields. */
  append(name: string, value: string): void {
    const key = headerKey(name);
    this.headers.push({ name: canonicalName(key), key, value, raw: undefined });
    this.invalidate(key);
  }

  /**
   * Inserts a field before the first field of the same header; if there is none, at the top
   * (so a new Via or Record-Route becomes the topmost value, RFC 3261 §16.6 steps 4 and 8).
   */
  prepend(name: string, value: string): void {
    const key = headerKey(name);
    const idx = this.headers.findIndex((h) => h.key === key);
    this.headers.splice(idx < 0 ? 0 : idx, 0, { name: canonicalName(key), key, value, raw: undefined });
    this.invalidate(key);
  }

  /** Removes every field of the header. */
  remove(key: string): void {
    this.headers = this.headers.filter((h) => h.key !== key);
    this.invalidate(key);
  }

  /**
   * Removes the first element of list header `key` (the top Via, the first Route). A field
   * holding several comma-separated values keeps the others.
   */
  removeFirstValue(key: string): void {
    const idx = this.headers.findIndex((h) => h.key === key);
    if (idx < 0) return;
    const vals = splitList(this.headers[idx]!.value, canonicalName(key));
    if (vals.length <= 1) this.headers.splice(idx, 1);
    else {
      const h = this.headers[idx]!;
      this.headers[idx] = { name: h.name, key, value: vals.slice(1).join(', '), raw: undefined };
    }
    this.invalidate(key);
  }

  /** Replaces the body (and, if given, Content-Type). Content-Length follows on serialization. */
  setBody(body: Buffer, contentType?: string): void {
    this.body = body;
    if (contentType !== undefined) this.set('Content-Type', contentType);
    else if (body.length === 0) this.remove('content-type');
  }

  protected cached<T>(key: string, compute: () => T): T {
    if (this.cache === undefined) this.cache = new Map();
    if (this.cache.has(key)) return this.cache.get(key) as T;
    const v = compute();
    this.cache.set(key, v);
    return v;
  }

  protected invalidate(key: string): void {
    this.cache?.delete(key);
  }

  /** Call-ID (RFC 3261 §20.8). Throws if missing. */
  callId(): string {
    const v = this.get('call-id');
    if (v === undefined || v.length === 0) throw new SipParseError('Missing Call-ID header');
    return v;
  }

  /** CSeq (RFC 3261 §20.16). Throws if missing or malformed (sequence number must be < 2**31). */
  cseq(): CSeq {
    return this.cached('cseq', () => {
      const all = this.getAll('cseq');
      if (all.length === 0) throw new SipParseError('Missing CSeq header');
      if (all.length > 1) throw new SipParseError('Multiple CSeq headers');
      const m = /^([0-9]{1,10})[ \t]+([A-Za-z0-9\-.!%*_+`'~]+)$/.exec(all[0]!);
      if (!m) throw new SipParseError('Malformed CSeq header');
      const seq = Number(m[1]);
      if (seq > 0x7fffffff) throw new SipParseError('CSeq number out of range');
      return { seq, method: m[2]! };
    });
  }

  /** From (RFC 3261 §20.20). */
  from(): NameAddr {
    return this.cached('from', () => this.single('from', 'From'));
  }

  /** To (RFC 3261 §20.39). */
  to(): NameAddr {
    return this.cached('to', () => this.single('to', 'To'));
  }

  /** The `tag` parameter of From, or `undefined`. */
  fromTag(): string | undefined {
    return this.from().params.get('tag') ?? undefined;
  }

  /** The `tag` parameter of To, or `undefined`. */
  toTag(): string | undefined {
    return this.to().params.get('tag') ?? undefined;
  }

  private single(key: string, what: string): NameAddr {
    const all = this.getAll(key);
    if (all.length === 0) throw new SipParseError(`Missing ${what} header`);
    if (all.length > 1) throw new SipParseError(`Multiple ${what} headers`);
    return parseNameAddr(all[0]!, what);
  }

  /** Every Via value, topmost first (RFC 3261 §20.42). Throws if malformed. */
  vias(): Via[] {
    return this.cached('via', () => this.values('via').map(parseVia));
  }

  /** The topmost Via. Throws if there is none. */
  topVia(): Via {
    const v = this.vias()[0];
    if (!v) throw new SipParseError('Missing Via header');
    return v;
  }

  /** Contact values, or `'*'` for the REGISTER wildcard (RFC 3261 §10.2.2). */
  contacts(): NameAddr[] | '*' {
    return this.cached('contact', () => {
      const vals = this.values('contact');
      if (vals.length === 1 && vals[0] === '*') return '*' as const;
      if (vals.includes('*')) throw new SipParseError('Contact * mixed with other contacts');
      return vals.map((v) => parseNameAddr(v, 'Contact'));
    });
  }

  /** Route values (RFC 3261 §20.34). */
  routes(): NameAddr[] {
    return this.cached('route', () => this.values('route').map((v) => parseNameAddr(v, 'Route')));
  }

  /** Record-Route values (RFC 3261 §20.30). */
  recordRoutes(): NameAddr[] {
    return this.cached('record-route', () => this.values('record-route').map((v) => parseNameAddr(v, 'Record-Route')));
  }

  /** Path values (RFC 3327). */
  paths(): NameAddr[] {
    return this.cached('path', () => this.values('path').map((v) => parseNameAddr(v, 'Path')));
  }

  /** Max-Forwards (RFC 3261 §20.22), or `undefined` when absent. */
  maxForwards(): number | undefined {
    return this.cached('max-forwards', () => {
      const v = this.get('max-forwards');
      if (v === undefined) return undefined;
      // RFC 3261 §20.22: 1*DIGIT, 0–255 (leading zeros allowed, RFC 4475 wsinv).
      if (!/^[0-9]{1,10}$/.test(v) || Number(v) > 255) throw new SipParseError('Malformed Max-Forwards header');
      return Number(v);
    });
  }

  /** Expires (RFC 3261 §20.19) in seconds, or `undefined`. */
  expires(): number | undefined {
    return this.cached('expires', () => {
      const v = this.get('expires');
      if (v === undefined) return undefined;
      if (!/^[0-9]{1,10}$/.test(v)) throw new SipParseError('Malformed Expires header');
      return Math.min(Number(v), 0xffffffff);
    });
  }

  /** Content-Type media type, lower-cased, without parameters; `undefined` when absent. */
  contentType(): string | undefined {
    const v = this.get('content-type');
    if (v === undefined) return undefined;
    const semi = v.indexOf(';');
    return (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase();
  }
}

/** A SIP request (RFC 3261 §7.1). */
export class SipRequest extends SipMessage {
  /** Method, case-sensitive (RFC 3261 §7.1). */
  method: string;
  /** Request-URI as written. */
  uri: string;

  constructor(method: string, uri: string, headers?: HeaderField[], body?: Buffer, version?: string) {
    super(headers, body, version);
    this.method = method;
    this.uri = uri;
  }

  get isRequest(): boolean {
    return true;
  }

  /** The parsed Request-URI (cached until {@link setUri}). */
  requestUri(): Uri {
    return this.cached('@ruri', () => parseUri(this.uri));
  }

  /** Replaces the Request-URI. */
  setUri(uri: string): void {
    this.uri = uri;
    this.invalidate('@ruri');
  }
}

/** A SIP response (RFC 3261 §7.2). */
export class SipResponse extends SipMessage {
  status: number;
  reason: string;

  constructor(status: number, reason: string, headers?: HeaderField[], body?: Buffer, version?: string) {
    super(headers, body, version);
    this.status = status;
    this.reason = reason;
  }

  get isRequest(): boolean {
    return false;
  }
}

/** Creates a header field Sipher writes itself. */
export function field(name: string, value: string): HeaderField {
  const key = headerKey(name);
  return { name: canonicalName(key), key, value, raw: undefined };
}
