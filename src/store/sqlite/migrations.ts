/**
 * Numbered schema migrations of the SQLite store (SPEC OPS-2). Append only: never edit or
 * renumber a published migration; add a new one instead. Each runs inside the transaction
 * that records it in `schema_migrations`.
 *
 * Text columns use SQLite's default BINARY collation, so ordering is by code point; the
 * PostgreSQL schema declares `COLLATE "C"` to match.
 * @module
 */

/** One schema step. */
export interface Migration {
  /** Strictly increasing, starting at 1. */
  version: number;
  /** Statements to execute (may hold several, separated by `;`). */
  sql: string;
}

/** All migrations, in order. */
export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE users (
        domain      TEXT    NOT NULL,
        username    TEXT    NOT NULL,
        ha1_md5     TEXT    NOT NULL,
        ha1_sha256  TEXT    NOT NULL,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        PRIMARY KEY (domain, username)
      ) WITHOUT ROWID;

      CREATE TABLE bindings (
        aor            TEXT    NOT NULL,
        contact        TEXT    NOT NULL,
        contact_header TEXT    NOT NULL,
        instance_id    TEXT,
        reg_id         INTEGER,
        call_id        TEXT    NOT NULL,
        cseq           INTEGER NOT NULL CHECK (cseq >= 0),
        expires_at     INTEGER NOT NULL,
        q              INTEGER NOT NULL CHECK (q BETWEEN 0 AND 1000),
        path           TEXT    NOT NULL, -- JSON array of strings
        source         TEXT    NOT NULL,
        user_agent     TEXT,
        updated_at     INTEGER NOT NULL,
        PRIMARY KEY (aor, contact)
      );
      CREATE INDEX bindings_expires_at ON bindings (expires_at);

      CREATE TABLE devices (
        id          TEXT    NOT NULL PRIMARY KEY,
        aor         TEXT    NOT NULL,
        user_agent  TEXT,
        contact     TEXT    NOT NULL,
        source      TEXT    NOT NULL,
        first_seen  INTEGER NOT NULL,
        last_seen   INTEGER NOT NULL
      );
      CREATE INDEX devices_aor ON devices (aor, id);
    `,
  },
];
