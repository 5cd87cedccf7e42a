/**
 * Chooses and opens the configured {@link Store} (SPEC OPS-2).
 * @module
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, SipherError, StoreError } from '../errors.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

/** File name of the embedded SQLite database inside the data directory. */
export const SQLITE_FILE_NAME = 'sipher.db';

/**
 * Opens the store named by `spec`: a `postgres://` or `postgresql://` URL selects
 * {@link PostgresStore}; anything else (e.g. `sqlite` or empty) selects {@link SqliteStore}
 * on `<dataDir>/sipher.db`, creating `dataDir` (mode 0700) if missing. Another URL scheme
 * (`mysql://…`) is a {@link ConfigError} rather than a silent fallback to SQLite.
 * Resolves an opened store (migrations applied).
 */
export async function openStore(spec: string, dataDir: string): Promise<Store> {
  const s = spec.trim();
  let store: Store;
  if (/^postgres(?:ql)?:\/\//i.test(s)) {
    store = new PostgresStore(s);
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    throw new ConfigError(`unsupported store URL scheme "${s.slice(0, s.indexOf(':'))}" (use sqlite or postgres://)`);
  } else {
    try {
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new StoreError(`cannot create data directory ${dataDir}`, err);
    }
    store = new SqliteStore(path.join(dataDir, SQLITE_FILE_NAME));
  }
  try {
    await store.open();
  } catch (err) {
    throw err instanceof SipherError ? err : new StoreError('cannot open store', err);
  }
  return store;
}
