/**
 * The dialog state of RFC 3261 §12: its id (Call-ID, local and remote tags), the local and
 * remote sequence numbers, the remote target (from the peer's Contact), the route set (from
 * Record-Route) and the construction of requests inside it (§12.2.1.1), loose and strict.
 * @module
 */
import { SipParseError } from '../../errors.js';
import type { SipRequest, SipResponse } from '../../sip/message.js';
import { formatNameAddr, type NameAddr } from '../../sip/name-addr.js';
import { formatUri, parseUri, type SipUri } from '../../sip/uri.js';
import type { RequestSpec } from '../request-builder.js';

/** Builds an out-of-dialog-shaped request with this device's Via, From and User-Agent (the client's `build`). */
export type RequestFactory = (spec: Omit<RequestSpec, 'from' | 'via' | 'userAgent'>) => SipRequest;

/** Options of {@link Dialog.createRequest}. */
export interface InDialogRequestOptions {
  /** Extra header fields, in order. */
  headers?: readonly (readonly [string, string])[];
  body?: Uint8Array;
  contentType?: string;
  /** A Contact (target refresh requests, RFC 3261 §12.2.1.1); none by default. */
  contact?: string;
  /**
   * CSeq number to use instead of the next local one — the ACK for a 2xx carries the INVITE's
   * (RFC 3261 §13.2.2.4) and does not advance the local sequence number.
   */
  cseq?: number;
}

/** The key of a dialog in a table: Call-ID, local tag, remote tag (RFC 3261 §12). */
export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  // A Call-ID is a word (RFC 3261 §25.1) and tags are tokens: none contains a line feed.
  return `${callId}\n${localTag}\n${remoteTag}`;
}

/** Values of a Record-Route list, each as a name-addr (RFC 3261 §20.30). */
function recordRouteSet(m: SipMessage): string[] {
  return m.recordRoutes().map((r) => formatNameAddr(r));
}

type SipMessage = SipRequest | SipResponse;

/** The URI of the first Contact of `m` (RFC 3261 §12.1.1, §12.1.2: the remote target). */
function contactTarget(m: SipMessage): string | undefined {
  const c = m.contacts();
  if (c === '*' || c.length === 0) return undefined;
  return formatUri(c[0]!.uri);
}

function aor(na: NameAddr): string {
  return formatUri(na.uri);
}

/** One dialog (RFC 3261 §12), as seen from this device. */
export class Dialog {
  /** Whether this device sent (`uac`) or received (`uas`) the INVITE that created it. */
  readonly role: 'uac' | 'uas';
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** From of our requests (RFC 3261 §12.1: the local URI). */
  readonly localUri: string;
  /** To of our requests (the remote URI). */
  readonly remoteUri: string;
  /** Route set, in the order our requests carry it (RFC 3261 §12.1.1, §12.1.2). */
  readonly routeSet: readonly string[];
  /** Where our requests are addressed (the peer's Contact, updated by target refreshes). */
  remoteTarget: string;
  private localSeq: number | undefined;
  private remoteSeq: number | undefined;
  /** First local CSeq of a UAS dialog (its local sequence number starts empty). */
  private initialSeq = 1;

  private constructor(o: {
    role: 'uac' | 'uas'; callId: string; localTag: string; remoteTag: string; localUri: string; remoteUri: string;
    routeSet: string[]; remoteTarget: string; localSeq: number | undefined; remoteSeq: number | undefined;
  }) {
    this.role = o.role;
    this.callId = o.callId;
    this.localTag = o.localTag;
    this.remoteTag = o.remoteTag;
    this.localUri = o.localUri;
    this.remoteUri = o.remoteUri;
    this.routeSet = Object.freeze(o.routeSet);
    this.remoteTarget = o.remoteTarget;
    this.localSeq = o.localSeq;
    this.remoteSeq = o.remoteSeq;
  }

  /**
   * The UAC's dialog from its INVITE and a 2xx (or 101-199 with a To tag) to it
   * (RFC 3261 §12.1.2): route set = the response's Record-Route in reverse order, remote
   * target = its Contact, local sequence number = the INVITE's CSeq, remote one empty, remote
   * tag = the To tag of the response.
   * @throws SipParseError when the response has no To tag, or no Contact (a 2xx to INVITE
   *   MUST carry one, §13.3.1.4).
   */
  static fromResponse(invite: SipRequest, response: SipResponse): Dialog {
    const remoteTag = response.toTag();
    if (remoteTag === undefined) throw new SipParseError('response to INVITE has no To tag');
    const remoteTarget = contactTarget(response);
    if (remoteTarget === undefined) throw new SipParseError('response to INVITE has no Contact');
    return new Dialog({
      role: 'uac',
      callId: invite.callId(),
      localTag: invite.fromTag() ?? '',
      remoteTag,
      localUri: aor(invite.from()),
      remoteUri: aor(invite.to()),
      routeSet: recordRouteSet(response).reverse(),
      remoteTarget,
      localSeq: invite.cseq().seq,
      remoteSeq: undefined,
    });
  }

  /**
   * The UAS's dialog from a received INVITE and the To tag it answers with (RFC 3261 §12.1.1):
   * route set = the request's Record-Route in order, remote target = its Contact, remote
   * sequence number = its CSeq, local sequence number empty until the first request, for which
   * `initialLocalSeq` is used (§8.1.1.5: any value below 2^31).
   * @throws SipParseError when the INVITE has no From tag or no Contact (§8.1.1.8: an INVITE
   *   MUST carry one).
   */
  static fromRequest(invite: SipRequest, localTag: string, initialLocalSeq: number): Dialog {
    const remoteTag = invite.fromTag();
    if (remoteTag === undefined) throw new SipParseError('INVITE has no From tag');
    const remoteTarget = contactTarget(invite);
    if (remoteTarget === undefined) throw new SipParseError('INVITE has no Contact');
    if (!Number.isInteger(initialLocalSeq) || initialLocalSeq < 1 || initialLocalSeq > 0x7fffffff) throw new RangeError('initial CSeq must be 1 to 2^31-1');
    const d = new Dialog({
      role: 'uas',
      callId: invite.callId(),
      localTag,
      remoteTag,
      localUri: aor(invite.to()),
      remoteUri: aor(invite.from()),
      routeSet: recordRouteSet(invite),
      remoteTarget,
      localSeq: undefined,
      remoteSeq: invite.cseq().seq,
    });
    d.initialSeq = initialLocalSeq;
    return d;
  }

  /** The table key of this dialog (see {@link dialogKey}). */
  get id(): string {
    return dialogKey(this.callId, this.localTag, this.remoteTag);
  }

  /** The last CSeq number we used, or undefined while empty. */
  get localCseq(): number | undefined {
    return this.localSeq;
  }

  /** The last CSeq number the peer used, or undefined while empty. */
  get remoteCseq(): number | undefined {
    return this.remoteSeq;
  }

  /**
   * RFC 3261 §12.2.2: a request whose CSeq number is lower than the remote sequence number is
   * out of order and MUST be rejected with 500; otherwise the number becomes the remote
   * sequence number. Returns false for an out-of-order request.
   */
  acceptRemoteCseq(seq: number): boolean {
    if (this.remoteSeq !== undefined && seq < this.remoteSeq) return false;
    this.remoteSeq = seq;
    return true;
  }

  /**
   * The Request-URI and Route values of the next request (RFC 3261 §12.2.1.1): with an empty
   * route set, the remote target and no Route; when the first route is a loose router (`lr`),
   * the remote target and the whole route set; otherwise (a strict router) the first route's
   * URI, stripped of what a Request-URI may not carry, and the rest of the route set followed
   * by the remote target.
   */
  target(): { uri: string; routes: string[] } {
    if (this.routeSet.length === 0) return { uri: this.remoteTarget, routes: [] };
    const first = parseRoute(this.routeSet[0]!);
    if (first.kind !== 'sip' || first.params.has('lr')) return { uri: this.remoteTarget, routes: [...this.routeSet] };
    // §19.1.1 Table 1: `method` and headers are not allowed in a Request-URI.
    const params = new Map(first.params);
    params.delete('method');
    const uri = formatUri({ ...first, params, headers: undefined });
    return { uri, routes: [...this.routeSet.slice(1), `<${this.remoteTarget}>`] };
  }

  /**
   * A request inside the dialog (RFC 3261 §12.2.1.1): To = remote URI with the remote tag,
   * From = local URI with the local tag, the Call-ID, the next local CSeq (or `opts.cseq`), the
   * Request-URI and Route headers of {@link target}; Via, Max-Forwards and User-Agent come from
   * `build`.
   */
  createRequest(method: string, build: RequestFactory, opts: InDialogRequestOptions = {}): SipRequest {
    const cseq = opts.cseq ?? this.nextCseq();
    const { uri, routes } = this.target();
    const headers: [string, string][] = routes.map((r) => ['Route', r] as [string, string]);
    for (const [k, v] of opts.headers ?? []) headers.push([k, v]);
    const req = build({
      method, uri, to: this.remoteUri, callId: this.callId, fromTag: this.localTag, cseq,
      contact: opts.contact, headers, body: opts.body, contentType: opts.contentType,
    });
    req.set('From', `<${this.localUri}>;tag=${this.localTag}`);
    req.set('To', `<${this.remoteUri}>;tag=${this.remoteTag}`);
    return req;
  }

  /** Advances the local sequence number (RFC 3261 §12.2.1.1: incremented by one per request). */
  private nextCseq(): number {
    this.localSeq = this.localSeq === undefined ? this.initialSeq : this.localSeq + 1;
    return this.localSeq;
  }
}

/** The URI of a route set entry (always `<uri>…`, as written by formatNameAddr). */
function parseRoute(value: string): SipUri | { kind: 'opaque' } {
  const m = /<([^>]*)>/.exec(value);
  const u = parseUri(m ? m[1]! : value);
  return u.kind === 'sip' ? u : { kind: 'opaque' };
}
