/**
 * The one storage interface (ARCHITECTURE.md rule 5, SPEC OPS-2). Every implementation
 * (SQLite in `sqlite/`, PostgreSQL in `postgres/`) passes the same contract test suite in
 * `test/store/contract.ts`. All methods are asynchronous so that both fit.
 *
 * Durability: a method's promise resolves only after the change is committed, so a server
 * that answers after awaiting it never acknowledges something a SIGKILL could lose.
 * @module
 */

/** A user of a domain. Credentials are HA1 hashes (RFC 7616 §3.4.2), never the password. */
export interface UserRecord {
  /** Domain (= digest realm) the user belongs to. */
  domain: string;
  /** User part of the AOR `sip:username@domain`. */
  username: string;
  /** hex MD5(username:realm:password), for old devices (RFC 2617). */
  ha1Md5: string;
  /** hex SHA-256(username:realm:password) (RFC 8760). */
  ha1Sha256: string;
  /** Creation time, ms since epoch. */
  createdAt: number;
  /** Last change of any field, ms since epoch. */
  updatedAt: number;
}

/** One registered contact of an address of record (RFC 3261 §10.3). */
export interface BindingRecord {
  /** Canonical AOR, `sip:user@domain` (lower-case domain). */
  aor: string;
  /** The Contact URI exactly as registered (without the name-addr brackets). */
  contact: string;
  /** Full Contact header value as registered (name-addr with params), for 200 OK echo and forwarding. */
  contactHeader: string;
  /** RFC 5626 `+sip.instance` value, if any. */
  instanceId?: string | undefined;
  /** RFC 5626 `reg-id`, if any. */
  regId?: number | undefined;
  /** Call-ID of the REGISTER that created/refreshed it (RFC 3261 §10.3 step 7). */
  callId: string;
  /** CSeq number of that REGISTER. */
  cseq: number;
  /** Absolute expiry, ms since epoch. */
  expiresAt: number;
  /** `q` value ×1000 (0–1000); 1000 when absent. */
  q: number;
  /** Path header values (RFC 3327), in order. */
  path: string[];
  /**
   * Where the REGISTER came from: `transport:address:port` (e.g. `udp:127.0.0.1:5080`,
   * `tcp:[::1]:40000`), used as the RFC 5626 flow and for NAT'd contacts.
   */
  source: string;
  /** User-Agent header of the REGISTER, if any. */
  userAgent?: string | undefined;
  /** Last time written, ms since epoch. */
  updatedAt: number;
}

/** A change to the location table, applied in a batch by {@link Store.applyBindingChanges}. */
export type BindingChange =
  | { kind: 'upsert'; binding: BindingRecord }
  | { kind: 'remove'; aor: string; contact: string }
  | { kind: 'removeAll'; aor: string };

/** A device: one user agent instance seen registering for a user. */
export interface DeviceRecord {
  /** Stable id: the `+sip.instance` URN when the device sends one, else `aor|contact`. */
  id: string;
  /** AOR the device registers for. */
  aor: string;
  /** User-Agent header last seen. */
  userAgent?: string | undefined;
  /** Last contact URI. */
  contact: string;
  /** Last source `transport:address:port`. */
  source: string;
  firstSeen: number;
  lastSeen: number;
}

/** The storage contract. */
export interface Store {
  /** Opens the store and applies pending schema migrations. Idempotent. */
  open(): Promise<void>;
  /** Flushes and closes. */
  close(): Promise<void>;
  /** The schema version after migrations. */
  schemaVersion(): Promise<number>;

  /** Adds a user; rejects with `ConflictError` if `domain`/`username` exists. */
  addUser(user: UserRecord): Promise<void>;
  /** The user, or `undefined`. */
  getUser(domain: string, username: string): Promise<UserRecord | undefined>;
  /** Users of `domain` (all domains when omitted), ordered by domain then username. */
  listUsers(domain?: string): Promise<UserRecord[]>;
  /** Replaces the HA1 hashes; rejects with `NotFoundError` if absent. */
  setUserCredentials(domain: string, username: string, ha1Md5: string, ha1Sha256: string, updatedAt: number): Promise<void>;
  /** Removes a user and its bindings and devices; resolves `false` if it did not exist. */
  removeUser(domain: string, username: string): Promise<boolean>;

  /** Applies the changes atomically, in order, in one transaction. */
  applyBindingChanges(changes: readonly BindingChange[]): Promise<void>;
  /** Bindings of `aor` (expired ones included; callers filter by time). */
  getBindings(aor: string): Promise<BindingRecord[]>;
  /** Every binding not expired at `now` (warm-up of the in-memory location service). */
  loadBindings(now: number): Promise<BindingRecord[]>;
  /** Deletes bindings expired at `now`; resolves the number deleted. */
  purgeExpiredBindings(now: number): Promise<number>;

  /** Creates or updates a device (keeps `firstSeen` of an existing one). */
  upsertDevice(device: DeviceRecord): Promise<void>;
  /** Devices of `aor`, or all devices, ordered by id. */
  listDevices(aor?: string): Promise<DeviceRecord[]>;
  /** The device, or `undefined`. */
  getDevice(id: string): Promise<DeviceRecord | undefined>;
}
