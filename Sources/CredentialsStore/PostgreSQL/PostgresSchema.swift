import CredentialsCore

/// The schema on PostgreSQL. A schema version means the same tables, columns and keys on both
/// engines, so that `service.info.schemaVersion` and a copy between stores mean one thing:
/// PostgreSQL's history starts at version 11 (the version SQLite's schema had reached when
/// PostgreSQL came), and each later version is one step in `StoreSchema.migrations` and one here.
///
/// Types follow SQLite's columns one for one: INTEGER is `bigint`, TEXT `text`, REAL `double
/// precision`, BLOB `bytea`. Every text column is `COLLATE "C"`: compared and ordered by bytes,
/// as SQLite's BINARY does, whatever collation the database was made with (an ICU locale
/// ordered `_under, 10, 9` where SQLite orders `10, 9, _under`). Where SQLite has something PostgreSQL does not, the equivalent
/// stands in: the users' trigram search is a `pg_trgm` index on the same `search` column
/// (SQLite's is an FTS5 table beside it), and a row id appended in order is an identity column.
public enum PostgresSchema {
    /// One numbered step: its SQL, then what SQL alone cannot say (a random key), in the same
    /// transaction, as SQLite's `Migration`.
    public struct Step: Sendable {
        public var summary: String
        public var sql: String
        public var run: (@Sendable (PostgresConnection) throws -> Void)?
        public init(_ summary: String, _ sql: String, run: (@Sendable (PostgresConnection) throws -> Void)? = nil) {
            self.summary = summary
            self.sql = sql
            self.run = run
        }
    }

    /// The SQLite version PostgreSQL's first step brings a database to.
    public static let firstVersion = 11

    /// Version `firstVersion + i` is `migrations[i]`.
    public static let migrations: [Step] = [
        Step("the whole schema as of SQLite's version 11", """
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
            CREATE TABLE users (
                id                   text COLLATE "C" NOT NULL PRIMARY KEY,
                email                text COLLATE "C" NOT NULL,
                email_key            text COLLATE "C" NOT NULL,
                first_name           text COLLATE "C" NOT NULL,
                last_name            text COLLATE "C" NOT NULL,
                role                 text COLLATE "C" NOT NULL CHECK (role = 'admin' OR role = 'support'),
                permissions          bigint NOT NULL,
                status               text COLLATE "C" NOT NULL CHECK (status = 'active' OR status = 'deactivated'),
                must_change_password bigint NOT NULL,
                password_hash        text COLLATE "C" NOT NULL,
                failed_logins        bigint NOT NULL DEFAULT 0,
                locked_until         bigint,
                session_epoch        bigint NOT NULL DEFAULT 0,
                search               text COLLATE "C" NOT NULL,
                created_at           bigint NOT NULL,
                updated_at           bigint NOT NULL,
                token_epoch          bigint NOT NULL DEFAULT 0
            );
            CREATE UNIQUE INDEX users_email_key ON users(email_key);
            CREATE INDEX users_role_status ON users(role, status, id);
            CREATE INDEX users_status ON users(status, id);
            CREATE INDEX users_search ON users USING gin (search gin_trgm_ops);
            CREATE TABLE credential_types (
                id                  text COLLATE "C" NOT NULL PRIMARY KEY,
                name                text COLLATE "C" NOT NULL,
                name_key            text COLLATE "C" NOT NULL UNIQUE,
                description         text COLLATE "C" NOT NULL DEFAULT '',
                requires_expiration bigint NOT NULL,
                archived            bigint NOT NULL DEFAULT 0,
                created_at          bigint NOT NULL,
                updated_at          bigint NOT NULL
            );
            CREATE TABLE credentials (
                id                text COLLATE "C" NOT NULL PRIMARY KEY,
                user_id           text COLLATE "C" NOT NULL REFERENCES users(id),
                type_id           text COLLATE "C" NOT NULL REFERENCES credential_types(id),
                version_count     bigint NOT NULL,
                latest_expiration text COLLATE "C",
                latest_approval   text COLLATE "C" NOT NULL,
                created_at        bigint NOT NULL,
                updated_at        bigint NOT NULL
            );
            CREATE INDEX credentials_type ON credentials(type_id, id);
            CREATE INDEX credentials_approval ON credentials(latest_approval, id);
            CREATE INDEX credentials_expiration ON credentials(latest_expiration, id);
            CREATE INDEX credentials_type_expiration ON credentials(type_id, latest_expiration, id);
            CREATE INDEX credentials_user ON credentials(user_id, id, type_id, latest_approval, latest_expiration);
            CREATE TABLE credential_versions (
                credential_id   text COLLATE "C" NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
                number          bigint NOT NULL,
                issue_date      text COLLATE "C" NOT NULL,
                expiration_date text COLLATE "C",
                document_number text COLLATE "C",
                approval_status text COLLATE "C" NOT NULL CHECK (approval_status = 'pending' OR approval_status = 'approved' OR approval_status = 'rejected'),
                reviewed_by     text COLLATE "C",
                reviewed_at     bigint,
                review_reason   text COLLATE "C",
                created_by      text COLLATE "C" NOT NULL,
                created_at      bigint NOT NULL,
                created_changes text COLLATE "C",
                created_seq     double precision,
                PRIMARY KEY (credential_id, number)
            );
            CREATE TABLE media (
                id            text COLLATE "C" NOT NULL PRIMARY KEY,
                credential_id text COLLATE "C" NOT NULL,
                version       bigint NOT NULL,
                file_name     text COLLATE "C" NOT NULL,
                content_type  text COLLATE "C" NOT NULL,
                byte_count    bigint NOT NULL,
                sha256        text NOT NULL,
                created_at    bigint NOT NULL,
                bytes         bytea NOT NULL,
                FOREIGN KEY (credential_id, version) REFERENCES credential_versions(credential_id, number) ON DELETE CASCADE
            );
            CREATE INDEX media_version_id ON media(credential_id, version, id);
            CREATE TABLE org_settings (
                id                   bigint PRIMARY KEY CHECK (id = 1),
                expiring_window_days bigint NOT NULL,
                approvals_required   bigint NOT NULL
            );
            CREATE TABLE notification_settings (
                user_id     text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES users(id),
                enabled     bigint NOT NULL,
                days_before text COLLATE "C" NOT NULL
            );
            CREATE TABLE reminders_sent (
                credential_id text COLLATE "C" NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
                version       bigint NOT NULL,
                offset_key    text COLLATE "C" NOT NULL,
                sent_at       bigint NOT NULL,
                sent_by       text COLLATE "C" NOT NULL,
                PRIMARY KEY (credential_id, version, offset_key)
            );
            CREATE TABLE teams (
                id         text COLLATE "C" NOT NULL PRIMARY KEY,
                name       text COLLATE "C" NOT NULL,
                name_key   text COLLATE "C" NOT NULL UNIQUE,
                created_at bigint NOT NULL,
                updated_at bigint NOT NULL
            );
            CREATE TABLE team_members (
                team_id text COLLATE "C" NOT NULL REFERENCES teams(id),
                user_id text COLLATE "C" NOT NULL REFERENCES users(id),
                PRIMARY KEY (team_id, user_id)
            );
            CREATE INDEX team_members_user ON team_members(user_id);
            CREATE TABLE team_required_types (
                team_id text COLLATE "C" NOT NULL REFERENCES teams(id),
                type_id text COLLATE "C" NOT NULL REFERENCES credential_types(id),
                PRIMARY KEY (team_id, type_id)
            );
            CREATE INDEX team_required_types_type ON team_required_types(type_id);
            CREATE TABLE credential_events (
                seq           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                credential_id text COLLATE "C" NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
                version       bigint NOT NULL,
                at            bigint NOT NULL,
                actor_id      text COLLATE "C",
                changes       text COLLATE "C" NOT NULL
            );
            CREATE INDEX credential_events_credential ON credential_events(credential_id, version, seq);
            CREATE TABLE audit_log (
                seq       bigint NOT NULL PRIMARY KEY,
                at        text COLLATE "C" NOT NULL,
                actor_id  text COLLATE "C",
                action    text COLLATE "C" NOT NULL,
                target_id text COLLATE "C",
                detail    text COLLATE "C" NOT NULL DEFAULT '{}'
            );
            CREATE INDEX audit_log_actor ON audit_log(actor_id, seq);
            CREATE TABLE login_throttle (
                email_key     text COLLATE "C" NOT NULL PRIMARY KEY,
                failed_logins bigint NOT NULL,
                locked_until  bigint
            );
            CREATE TABLE api_tokens (
                id           text COLLATE "C" NOT NULL PRIMARY KEY,
                user_id      text COLLATE "C" NOT NULL REFERENCES users(id),
                name         text COLLATE "C" NOT NULL,
                hint         text COLLATE "C" NOT NULL,
                digest       bytea NOT NULL UNIQUE,
                created_at   bigint NOT NULL,
                expires_at   bigint NOT NULL,
                last_used_at bigint,
                revoked_at   bigint
            );
            CREATE INDEX api_tokens_user ON api_tokens(user_id, id);
            CREATE INDEX api_tokens_expiry ON api_tokens(expires_at, id) WHERE revoked_at IS NULL;
            CREATE TABLE service_keys (
                name text COLLATE "C" NOT NULL PRIMARY KEY,
                key  bytea NOT NULL
            );
            CREATE TABLE token_reminders_sent (
                token_id   text COLLATE "C" NOT NULL REFERENCES api_tokens(id),
                offset_key text COLLATE "C" NOT NULL,
                sent_at    bigint NOT NULL,
                sent_by    text COLLATE "C",
                PRIMARY KEY (token_id, offset_key)
            );
            CREATE TABLE team_followers (
                team_id text COLLATE "C" NOT NULL REFERENCES teams(id),
                user_id text COLLATE "C" NOT NULL REFERENCES users(id),
                PRIMARY KEY (team_id, user_id)
            );
            CREATE INDEX team_followers_user ON team_followers(user_id);
            CREATE TABLE reminders_sent_to (
                credential_id text COLLATE "C" NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
                version       bigint NOT NULL,
                offset_key    text COLLATE "C" NOT NULL,
                recipient_id  text COLLATE "C" NOT NULL REFERENCES users(id),
                sent_at       bigint NOT NULL,
                sent_by       text COLLATE "C" NOT NULL,
                PRIMARY KEY (credential_id, version, offset_key, recipient_id)
            );
            INSERT INTO org_settings VALUES (1, 30, 1);
            -- SQLite's functions that the stores' SQL uses, as PostgreSQL functions of the same
            -- names and results, so that one statement serves both engines.
            CREATE FUNCTION crpc_concat(acc text, v text) RETURNS text LANGUAGE sql IMMUTABLE
                AS $$ SELECT CASE WHEN v IS NULL THEN acc WHEN acc IS NULL THEN v ELSE acc || ',' || v END $$;
            CREATE AGGREGATE group_concat(text) (SFUNC = crpc_concat, STYPE = text);
            CREATE FUNCTION instr(s text, t text) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT strpos(s, t)::bigint $$;
            CREATE FUNCTION json_array_length(t text) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT json_array_length(t::json)::bigint $$;
            CREATE FUNCTION json_each(t text) RETURNS TABLE (value text) LANGUAGE sql IMMUTABLE AS $$ SELECT json_array_elements_text(t::json) $$;
            """, run: { pg in
            // As on SQLite: made under the migration's lock, so that paging (a read) never writes.
            try pg.run("INSERT INTO service_keys (name, key) VALUES ('cursor', ?) ON CONFLICT DO NOTHING",
                       [.blob(Dependencies.cryptoRandomBytes(CursorSeal.keyBytes))])
        }),
        // SQLite's version 12: credentials_user in (user, type) order, so that a team's report
        // reads only each member's credentials of the types asked.
        Step("credentials_user by type", """
            DROP INDEX credentials_user;
            CREATE INDEX credentials_user ON credentials(user_id, type_id, latest_approval, latest_expiration, id);
            """),
    ]

    public static var currentVersion: Int { firstVersion + migrations.count - 1 }

    /// Any number from a fixed text: the lock every process starting on the database takes
    /// before it reads the version, so that processes starting together migrate once between them.
    static let migrationLock: Int64 = 0x6372_7063_5F6D_6967  // "crpc_mig"

    /// Brings the database to `currentVersion`, each missing step once, all in one transaction
    /// under `migrationLock`: a process that finds another migrating waits for it, then finds
    /// nothing left to do. A database at a newer version than this build knows is refused.
    public static func migrate(_ pg: PostgresConnection, migrations: [Step] = migrations) throws {
        let current = firstVersion + migrations.count - 1
        try pg.execute("BEGIN")
        do {
            // However long another process takes to migrate, this one waits for it.
            try pg.execute("SET LOCAL lock_timeout = 0")
            try pg.run("SELECT pg_advisory_xact_lock(?)", [.int(migrationLock)])
            try pg.execute("CREATE TABLE IF NOT EXISTS schema_version (version bigint NOT NULL)")
            let found = Int(try pg.scalarText("SELECT max(version) FROM schema_version") ?? "") ?? 0
            if found > current {
                throw OpenError.newerSchema(path: pg.location.redacted, found: found, known: current)
            }
            if found < current {
                for version in max(found + 1, firstVersion)...current {
                    try pg.execute(migrations[version - firstVersion].sql)
                    try migrations[version - firstVersion].run?(pg)
                }
                try pg.execute("DELETE FROM schema_version")
                try pg.run("INSERT INTO schema_version (version) VALUES (?)", [.int(Int64(current))])
            }
            try pg.commit()
        } catch {
            if pg.isOpen { try? pg.execute("ROLLBACK") }
            throw error
        }
    }

    /// The version the database is at (0 before the first migration).
    public static func version(of pg: PostgresConnection) throws -> Int {
        let exists = try pg.scalarText("SELECT to_regclass('schema_version') IS NOT NULL") == "t"
        return exists ? Int(try pg.scalarText("SELECT max(version) FROM schema_version") ?? "") ?? 0 : 0
    }
}
