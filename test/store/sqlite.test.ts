/**
 * The store contract on SQLite (file and `:memory:`), plus what only SQLite has: WAL on disk,
 * owner-only file mode, survival of a SIGKILLed writer, a second connection (the CLI) writing
 * while a server's connection is open, and {@link openStore}'s SQLite path.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ConfigError } from '../../src/errors.js';
import { openStore } from '../../src/store/open-store.js';
import { sqliteMigrations } from '../../src/store/sqlite/migrations.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { storeContract } from './contract.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'sipher-sqlite-test-'));
let n = 0;
/** A new path under the temporary root (not created). */
const freshDir = (): string => path.join(root, `dir-${++n}`);

after(() => rmSync(root, { recursive: true, force: true }));

storeContract('SQLite file', async () => {
  const dir = await openDir();
  const file = path.join(dir, 'sipher.db');
  const store = new SqliteStore(file);
  return {
    store,
    reopen: async () => new SqliteStore(file),
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

storeContract('SQLite :memory:', async () => {
  const store = new SqliteStore(':memory:');
  return { store, cleanup: () => store.close() };
});

describe('SqliteStore specifics', () => {
  it('stores in WAL mode, in an owner-only file and new directory, with the migrations recorded', async () => {
    const dir = freshDir();
    const store = await openStore('sqlite', dir);
    await store.close();
    const file = path.join(dir, 'sipher.db');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      assert.deepEqual(versions, sqliteMigrations.map((m) => m.version));
    } finally {
      db.close();
    }
  });

  it('keeps every committed write of a writer killed with SIGKILL', async () => {
    const dir = await openDir();
    const file = path.join(dir, 'sipher.db');
    const { code, signal, stderr } = await runKilledWriter(file, 100);
    assert.equal(signal, 'SIGKILL', `child exited with code ${code}, signal ${signal}: ${stderr}`);
    assert.ok(statSync(`${file}-wal`).size > 0, 'WAL file left behind by the killed writer');

    const store = new SqliteStore(file);
    await store.open();
    try {
      assert.deepEqual(await store.getUser('example.com', 'killed'), {
        domain: 'example.com',
        username: 'killed',
        ha1Md5: 'm',
        ha1Sha256: 's',
        createdAt: 1,
        updatedAt: 2,
      });
      const bindings = await store.getBindings('sip:killed@example.com');
      assert.equal(bindings.length, 100);
      assert.deepEqual(bindings.find((b) => b.contact === 'sip:c99@192.0.2.1')?.path, ['<sip:p;lr>', 'x']);
      assert.equal((await store.getDevice('last'))?.lastSeen, 42);
    } finally {
      await store.close();
    }
  });

  it('sees writes of a second connection to the same file (CLI beside a running server)', async () => {
    const file = path.join(await openDir(), 'sipher.db');
    const server = new SqliteStore(file);
    const cli = new SqliteStore(file);
    await server.open();
    await cli.open();
    try {
      await cli.addUser({ domain: 'example.com', username: 'new', ha1Md5: 'm', ha1Sha256: 's', createdAt: 1, updatedAt: 1 });
      assert.equal((await server.getUser('example.com', 'new'))?.username, 'new');
      await Promise.all([
        server.applyBindingChanges([{ kind: 'removeAll', aor: 'sip:x@example.com' }]),
        cli.setUserCredentials('example.com', 'new', 'm2', 's2', 2),
      ]);
      assert.equal((await server.getUser('example.com', 'new'))?.ha1Md5, 'm2');
    } finally {
      await cli.close();
      await server.close();
    }
  });

  it('openStore creates a missing nested data directory and reopens an existing database', async () => {
    const dir = path.join(await openDir(), 'a', 'b');
    const s1 = await openStore('', dir);
    await s1.addUser({ domain: 'd', username: 'u', ha1Md5: 'm', ha1Sha256: 's', createdAt: 1, updatedAt: 1 });
    await s1.close();
    const s2 = await openStore('sqlite', dir);
    try {
      assert.equal((await s2.listUsers()).length, 1);
    } finally {
      await s2.close();
    }
  });

  it('openStore rejects an unknown URL scheme with ConfigError', async () => {
    await assert.rejects(openStore('mysql://u:p@h/db', freshDir()), (e) => e instanceof ConfigError);
  });
});

/** A new, existing directory under the temporary root. */
async function openDir(): Promise<string> {
  const d = freshDir();
  await mkdir(d, { recursive: true });
  return d;
}

/**
 * Runs a child process that writes through {@link SqliteStore} (one commit per call, as the
 * server does), then kills itself with SIGKILL: no close, no checkpoint. Works both under
 * tsx (this file is `.ts`) and compiled (`dist/test/store/*.js`).
 */
function runKilledWriter(
  file: string,
  bindings: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const ts = import.meta.url.endsWith('.ts');
  const storeUrl = new URL(`../../src/store/sqlite/sqlite-store.${ts ? 'ts' : 'js'}`, import.meta.url).href;
  const script = `
    const [storeUrl, file, count] = process.argv.slice(1);
    const { SqliteStore } = await import(storeUrl);
    const s = new SqliteStore(file);
    await s.open();
    await s.addUser({ domain: 'example.com', username: 'killed', ha1Md5: 'm', ha1Sha256: 's', createdAt: 1, updatedAt: 2 });
    for (let i = 0; i < Number(count); i++) {
      await s.applyBindingChanges([{ kind: 'upsert', binding: {
        aor: 'sip:killed@example.com', contact: 'sip:c' + i + '@192.0.2.1', contactHeader: '<sip:c' + i + '@192.0.2.1>',
        callId: 'c' + i, cseq: i, expiresAt: 9e12, q: 1000, path: ['<sip:p;lr>', 'x'],
        source: 'udp:192.0.2.1:5060', updatedAt: i } }]);
    }
    await s.upsertDevice({ id: 'last', aor: 'sip:killed@example.com', contact: 'sip:c', source: 'udp:x:1', firstSeen: 1, lastSeen: 42 });
    process.kill(process.pid, 'SIGKILL');
  `;
  const repo = fileURLToPath(new URL(ts ? '../../' : '../../../', import.meta.url));
  const args = [...(ts ? ['--import', 'tsx'] : []), '--input-type=module', '-e', script, storeUrl, file, String(bindings)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}
