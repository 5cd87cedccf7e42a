/**
 * The session description model (RFC 8866 §5). Every line type has a field; values that a
 * caller rarely needs structured (`e=`, `p=`, `r=`, `z=`, `k=` and attribute values) are kept
 * as written so that a canonical description serializes back byte for byte. Typed views of
 * the attributes Sipher negotiates live next to their RFCs (`crypto-attribute.ts`,
 * `fingerprint.ts`, `setup.ts`, `rtp-attributes.ts`).
 * @module
 */

/** `o=` (RFC 8866 §5.2). Numbers are kept as digit strings: they are unbounded in the grammar. */
export interface Origin {
  /** Login name on the originating host, `-` if none. */
  username: string;
  /** Session id (digits). */
  sessionId: string;
  /** Session version (digits); incremented on every modification (RFC 3264 §8). */
  sessionVersion: string;
  /** Network type, `IN`. */
  netType: string;
  /** Address type, `IP4` or `IP6`. */
  addrType: string;
  /** Unicast address or FQDN of the originating host. */
  address: string;
}

/** `c=` (RFC 8866 §5.7). */
export interface Connection {
  /** Network type, `IN`. */
  netType: string;
  /** Address type, `IP4` or `IP6`. */
  addrType: string;
  /** The address without its `/ttl` and `/count` suffixes. */
  address: string;
  /** Multicast TTL (IP4 only), when written. */
  ttl?: number;
  /** Number of consecutive multicast addresses, when written. */
  count?: number;
}

/** `b=` (RFC 8866 §5.8). */
export interface Bandwidth {
  /** `CT`, `AS`, `TIAS`, … */
  type: string;
  /** Kilobits per second for `CT`/`AS`; units are the modifier's. */
  value: number;
}

/** A time description: `t=` with its `r=` lines and optional `z=` line (RFC 8866 §5.9–§5.11). */
export interface TimeDescription {
  /** Start time (NTP seconds as digits), `0` for unbounded. */
  start: string;
  /** Stop time (NTP seconds as digits), `0` for unbounded. */
  stop: string;
  /** `r=` values as written. */
  repeats: string[];
  /** `z=` value as written; only allowed after `r=` lines (RFC 8866 §5.11). */
  zone?: string;
}

/** One `a=` line (RFC 8866 §5.13): a property attribute has no value. */
export interface Attribute {
  /** Attribute name (case-sensitive). */
  name: string;
  /** Everything after the first `:`, verbatim; `undefined` for a property attribute. */
  value?: string;
}

/** One media description (RFC 8866 §5.14) with its own `i=`, `c=`, `b=`, `k=` and `a=` lines. */
export interface MediaDescription {
  /** `audio`, `video`, `text`, `application`, `message`, `image`, … */
  media: string;
  /** Transport port; 0 rejects or disables the stream (RFC 3264 §6, §8.2). */
  port: number;
  /** Number of ports (`port/count`), when written. */
  portCount?: number;
  /** Transport protocol, e.g. `RTP/SAVP`, `TCP/TLS`. */
  proto: string;
  /** Media formats: RTP payload types for `RTP/*` protocols. */
  formats: string[];
  /** `i=` media title. */
  information?: string;
  /** `c=` lines of this media (zero means the session-level one applies). */
  connections: Connection[];
  /** `b=` lines of this media. */
  bandwidths: Bandwidth[];
  /** `k=` (obsolete, RFC 8866 §5.12), kept as written; never generated. */
  key?: string;
  /** `a=` lines of this media, in order. */
  attributes: Attribute[];
}

/** A whole session description (RFC 8866 §5). */
export interface SessionDescription {
  /** `v=`; always 0. */
  version: number;
  origin: Origin;
  /** `s=`; may be empty on input (see the parser), `-` when generated. */
  sessionName: string;
  /** `i=` session information. */
  information?: string;
  /** `u=` URI of description. */
  uri?: string;
  /** `e=` lines as written. */
  emails: string[];
  /** `p=` lines as written. */
  phones: string[];
  /** Session-level `c=`. */
  connection?: Connection;
  /** Session-level `b=` lines. */
  bandwidths: Bandwidth[];
  /** At least one time description. */
  times: TimeDescription[];
  /** Session-level `k=` (obsolete), kept as written; never generated. */
  key?: string;
  /** Session-level `a=` lines, in order. */
  attributes: Attribute[];
  /** Media descriptions, in order. */
  media: MediaDescription[];
}

/** The attributes named `name` in `attributes`, in order. */
export function attributesNamed(attributes: readonly Attribute[], name: string): Attribute[] {
  return attributes.filter((a) => a.name === name);
}

/** The first attribute named `name`, or `undefined`. */
export function firstAttribute(attributes: readonly Attribute[], name: string): Attribute | undefined {
  return attributes.find((a) => a.name === name);
}

/**
 * The connection that applies to a media description: its first own `c=`, else the
 * session-level one (RFC 8866 §5.7).
 */
export function effectiveConnection(sdp: SessionDescription, media: MediaDescription): Connection | undefined {
  return media.connections[0] ?? sdp.connection;
}
