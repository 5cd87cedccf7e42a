/**
 * The store contract on a real PostgreSQL server (Debian's package, started by
 * `test/support/postgres.ts`), plus what only PostgreSQL has: several nodes migrating one
 * database at once, {@link openStore}'s URL path, and errors that never carry credentials.
 *
 * Without PostgreSQL binaries the suite is skipped with the reason, except under `CI=true`
 * where that is a failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { StoreError } from '../../src/errors.js';
import { openStore } from '../../src/store/open-store.js';
import { postgresMigrations } from '../../src/store/postgres/migrations.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { findPostgresBin, startPostgres, type TestPostgres } from '../support/postgres.js';
import { storeContract } from './contract.js';

const bin = findPostgresBin();
const missing = 'PostgreSQL binaries not found (apt-get install postgresql, or set SIPHER_PG_BIN)';

if (!bin && process.env.CI === 'true') {
  describe('PostgresStore', () => {
    it('needs a PostgreSQL server (CI=true: missing binaries are a failure)', () => {
      assert.fail(missing);
    });
  });
} else {
  describe('PostgresStore', { skip: bin ? false : missing }, () => {
    let server: TestPostgres | undefined;

    before(async () => {
      server = await startPostgres();
    });

    after(async () => {
      await server?.stop();
    });

    const srv = (): TestPostgres => {
      assert.ok(server, 'PostgreSQL test server not started');
      return server;
    };

    storeContract('PostgreSQL', async () => {
      const url = await srv().createDatabase();
      const store = new PostgresStore(url);
      return { store, reopen: async () => new PostgresStore(url), cleanup: () => store.close() };
    });

    describe('PostgresStore specifics', () => {
      it('lets several nodes open (and migrate) one fresh database at once', async () => {
        const url = await srv().createDatabase();
        const nodes = Array.from({ length: 6 }, () => new PostgresStore(url, { maxConnections: 2 }));
        try {
          await Promise.all(nodes.map((s) => s.open()));
          const versions = await Promise.all(nodes.map((s) => s.schemaVersion()));
          assert.deepEqual(new Set(versions), new Set([postgresMigrations.at(-1)?.version]));
        } finally {
          await Promise.all(nodes.map((s) => s.close()));
        }
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          const r = await c.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
          assert.deepEqual(
            r.rows.map((x) => x.version),
            postgresMigrations.map((m) => m.version),
          );
        } finally {
          await c.end();
        }
      });

      it('sees writes of another node at once (shared database)', async () => {
        const url = await srv().createDatabase();
        const a = new PostgresStore(url);
        const b = new PostgresStore(url);
        await Promise.all([a.open(), b.open()]);
        try {
          await a.upsertDevice({ id: 'd', aor: 'sip:x@y', contact: 'sip:x@z', source: 'udp:z:1', firstSeen: 1, lastSeen: 2 });
          assert.equal((await b.getDevice('d'))?.lastSeen, 2);
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      });

      it('openStore opens a postgres:// or postgresql:// URL', async () => {
        const url = await srv().createDatabase();
        for (const u of [url, url.replace(/^postgres:/, 'postgresql:')]) {
          const s = await openStore(u, '/nonexistent-data-dir-unused');
          try {
            assert.ok(s instanceof PostgresStore);
            assert.ok((await s.schemaVersion()) > 0);
          } finally {
            await s.close();
          }
        }
      });

      it('fails to open an unreachable server with StoreError that carries no password', async () => {
        const secret = 'S3cr3t-pa55word';
        for (const url of [`postgres://sipher:${secret}@127.0.0.1:1/sipher`, `postgres://sipher:${secret}@bad host:5432/x`]) {
          const s = new PostgresStore(url);
          await assert.rejects(s.open(), (e: unknown) => {
            assert.ok(e instanceof StoreError, String(e));
            const seen = [e.message, e.stack, String(e.cause), JSON.stringify(e.cause ?? null)].join('\n');
            assert.ok(!seen.includes(secret), `password leaked: ${seen}`);
            return true;
          });
          await assert.rejects(s.getUser('a', 'b'), (e) => e instanceof StoreError);
        }
      });
    });
  });
}
