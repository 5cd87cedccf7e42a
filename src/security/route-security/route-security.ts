/**
 * `Route-Security` (SPEC POL-4; seed 004 [0042], FIG. 3; seed 003 claims 13, 14, 37, 38): each
 * server a request passes adds an entry, on top, for the link it arrived on — the previous
 * hop's address as seen, and whether that link was protected (an SA or TLS) — signed with the
 * server's key over the entry, Call-ID, CSeq and the entries below. The next server checks the
 * top entry's sending address against the real source and every signature it can, and says in
 * its own entry whether the chain below held. Responses carry the list back, so both ends learn
 * whether the whole path was protected and, if not, which hop was not (docs/protocol.md §4).
 *
 * ```
 * Route-Security: hop;by=b.example;peer="udp:127.0.0.1:5070";link=none;at="udp:127.0.0.1:5080";
 *   chain=ok;kid=1f2e3d4c5b6a7988;sig=<base64url ECDSA P-256 SHA-256, IEEE P1363>, hop;by=a.example;…
 * ```
 * Pure: keys come in, no I/O.
 * @module
 */
import { createHash, sign, verify, type KeyObject } from 'node:crypto';

/** How a request arrived at the server that wrote an entry. */
export type LinkProtection = 'sa' | 'tls' | 'none';

/** One entry, as on the wire. */
export interface RouteSecurityEntry {
  /** Domain of the server that added it. */
  by: string;
  /** The previous hop as that server saw it: `proto:address:port`. */
  peer: string;
  link: LinkProtection;
  /** Where that server sent the request from (`proto:address:port`): the next hop checks it. */
  at: string;
  /** Whether the entries below verified at that server. */
  chain: 'ok' | 'broken';
  /** Key id: the first 16 hex digits of SHA-256 of the signer's SubjectPublicKeyInfo (DER). */
  kid: string;
  /** Signature, base64url. */
  sig: string;
  /** The entry exactly as received (for the signatures above it). */
  raw: string;
}

/** The key id of a public key (see {@link RouteSecurityEntry.kid}). */
export function routeSecurityKeyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

const ENTRY = /^hop;by=([a-z0-9.-]{1,253});peer="([a-z]{2,3}:[^"\s]{1,80})";link=(sa|tls|none);at="([a-z]{2,3}:[^"\s]{1,80})";chain=(ok|broken);kid=([0-9a-f]{16});sig=([A-Za-z0-9_-]{40,200})$/;

/** Parses the header values (top entry first); `undefined` entries mark ones that do not parse. */
export function parseRouteSecurity(values: readonly string[]): (RouteSecurityEntry | undefined)[] {
  const out: (RouteSecurityEntry | undefined)[] = [];
  for (const v of values) {
    for (const part of v.split(',')) {
      const raw = part.trim();
      if (raw === '') continue;
      const m = ENTRY.exec(raw);
      out.push(m ? { by: m[1]!, peer: m[2]!, link: m[3] as LinkProtection, at: m[4]!, chain: m[5] as 'ok' | 'broken', kid: m[6]!, sig: m[7]!, raw } : undefined);
    }
  }
  return out;
}

/** What an entry's signature covers (docs/protocol.md §4.1). */
function signedText(unsigned: string, callId: string, cseq: string, below: readonly string[]): Buffer {
  return Buffer.from(`SIPHER-RS/1\n${unsigned}\n${callId}\n${cseq}\n${below.join(', ')}`, 'utf8');
}

function unsignedText(e: Omit<RouteSecurityEntry, 'sig' | 'raw' | 'kid'>, kid: string): string {
  return `hop;by=${e.by};peer="${e.peer}";link=${e.link};at="${e.at}";chain=${e.chain};kid=${kid}`;
}

/** Makes a signed entry to put on top of `below` (the raw entries already there, top first). */
export function signRouteSecurityEntry(
  e: Omit<RouteSecurityEntry, 'sig' | 'raw' | 'kid'>,
  ctx: { callId: string; cseq: string; below: readonly string[] },
  key: { privateKey: KeyObject; publicKey: KeyObject },
): string {
  const unsigned = unsignedText(e, routeSecurityKeyId(key.publicKey));
  const sig = sign('sha256', signedText(unsigned, ctx.callId, ctx.cseq, ctx.below), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${unsigned};sig=${sig.toString('base64url')}`;
}

/** Verifies one entry's signature with the signer's public key. */
export function verifyRouteSecurityEntry(e: RouteSecurityEntry, ctx: { callId: string; cseq: string; below: readonly string[] }, publicKey: KeyObject): boolean {
  const unsigned = e.raw.slice(0, e.raw.lastIndexOf(';sig='));
  try {
    return verify('sha256', signedText(unsigned, ctx.callId, ctx.cseq, ctx.below), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(e.sig, 'base64url'));
  } catch {
    return false;
  }
}

/**
 * Checks a received list (top first) at a server: every entry parses, the top one's `at` is
 * the real source, and each signature whose key is known verifies (an unknown key breaks the
 * chain too: the hop cannot be vouched for).
 */
export function checkRouteSecurity(
  values: readonly string[],
  ctx: { callId: string; cseq: string; source: string; keys: ReadonlyMap<string, KeyObject> },
): 'ok' | 'broken' | 'empty' {
  const entries = parseRouteSecurity(values);
  if (entries.length === 0) return 'empty';
  if (entries.some((e) => e === undefined)) return 'broken';
  const list = entries as RouteSecurityEntry[];
  if (!sameSender(list[0]!.at, ctx.source)) return 'broken';
  for (let i = 0; i < list.length; i++) {
    const key = ctx.keys.get(list[i]!.kid);
    if (!key) return 'broken';
    if (!verifyRouteSecurityEntry(list[i]!, { callId: ctx.callId, cseq: ctx.cseq, below: list.slice(i + 1).map((e) => e.raw) }, key)) return 'broken';
    if (list[i]!.chain === 'broken') return 'broken';
  }
  return 'ok';
}

/**
 * Whether a request from `source` can come from a server that wrote `at`: the same address
 * and port over UDP; over streams the same protocol and address (the port of an outgoing
 * connection is ephemeral).
 */
function sameSender(at: string, source: string): boolean {
  if (at === source) return true;
  const i = at.lastIndexOf(':');
  const j = source.lastIndexOf(':');
  return !at.startsWith('udp:') && at.slice(0, i) === source.slice(0, j);
}

/** What a device learns from the list its server returns (top = its own server's entry). */
export interface RouteSecurityReport {
  /** Every hop protected and the chain held at the device's server. */
  protected: boolean;
  /** The device's server found a forged or unverifiable entry. */
  broken: boolean;
  /** Hops from the first server on: who recorded which link. */
  hops: { by: string; peer: string; link: LinkProtection }[];
  /** The first hop (from the caller's side) that was not protected, if any. */
  unprotected?: { by: string; peer: string } | undefined;
}

/** The device's view of a `Route-Security` list (docs/protocol.md §4.3). No list: `undefined`. */
export function routeSecurityReport(values: readonly string[]): RouteSecurityReport | undefined {
  const entries = parseRouteSecurity(values);
  if (entries.length === 0) return undefined;
  if (entries.some((e) => e === undefined)) return { protected: false, broken: true, hops: [] };
  const list = (entries as RouteSecurityEntry[]).slice().reverse(); // caller's side first
  const hops = list.map((e) => ({ by: e.by, peer: e.peer, link: e.link }));
  const broken = list.some((e) => e.chain === 'broken');
  const u = list.find((e) => e.link === 'none');
  return { protected: !broken && !u, broken, hops, unprotected: u ? { by: u.by, peer: u.peer } : undefined };
}
