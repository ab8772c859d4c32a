import CredentialsCore

public enum StoreSchema {
    /// The migrations, oldest first. Append only: never edit one that has shipped.
    public static let migrations: [Migration] = [
        Migration("audit log", """
            CREATE TABLE audit_log (
                seq       INTEGER PRIMARY KEY,  -- rowid: rows are only appended, so it keeps their order
                at        TEXT NOT NULL,
                actor_id  TEXT,
                action    TEXT NOT NULL,
                target_id TEXT,
                detail    TEXT NOT NULL DEFAULT '{}'
            );
            CREATE INDEX audit_log_actor ON audit_log(actor_id, seq);
            CREATE INDEX audit_log_at ON audit_log(at, seq);
            """),
        Migration("users", """
            CREATE TABLE users (
                id                   TEXT NOT NULL PRIMARY KEY,
                email                TEXT NOT NULL,
                email_key            TEXT NOT NULL,
                first_name           TEXT NOT NULL,
                last_name            TEXT NOT NULL,
                role                 TEXT NOT NULL CHECK (role IN ('admin', 'support')),
                permissions          INTEGER NOT NULL,
                status               TEXT NOT NULL CHECK (status IN ('active', 'deactivated')),
                must_change_password INTEGER NOT NULL,
                password_hash        TEXT NOT NULL,
                failed_logins        INTEGER NOT NULL DEFAULT 0,
                locked_until         INTEGER,
                session_epoch        INTEGER NOT NULL DEFAULT 0,
                search               TEXT NOT NULL,
                created_at           INTEGER NOT NULL,
                updated_at           INTEGER NOT NULL
            );
            CREATE UNIQUE INDEX users_email_key ON users(email_key);
            CREATE INDEX users_role_status ON users(role, status, id);
            CREATE INDEX users_status ON users(status, id);
            -- Substring search over names and email: a trigram index, kept in step by triggers.
            CREATE VIRTUAL TABLE users_fts USING fts5(search, content='users', content_rowid='rowid', tokenize='trigram');
            CREATE TRIGGER users_fts_insert AFTER INSERT ON users BEGIN
                INSERT INTO users_fts(rowid, search) VALUES (new.rowid, new.search);
            END;
            CREATE TRIGGER users_fts_delete AFTER DELETE ON users BEGIN
                INSERT INTO users_fts(users_fts, rowid, search) VALUES ('delete', old.rowid, old.search);
            END;
            CREATE TRIGGER users_fts_update AFTER UPDATE OF search ON users BEGIN
                INSERT INTO users_fts(users_fts, rowid, search) VALUES ('delete', old.rowid, old.search);
                INSERT INTO users_fts(rowid, search) VALUES (new.rowid, new.search);
            END;
            """),
        Migration("credentials", """
            CREATE TABLE credential_types (
                id                  TEXT NOT NULL PRIMARY KEY,
                name                TEXT NOT NULL,
                name_key            TEXT NOT NULL UNIQUE,
                description         TEXT NOT NULL DEFAULT '',
                requires_expiration INTEGER NOT NULL,
                archived            INTEGER NOT NULL DEFAULT 0,
                created_at          INTEGER NOT NULL,
                updated_at          INTEGER NOT NULL
            );
            -- One row per credential, with its latest version's expiration and approval copied in
            -- so lists filter on indexes without reading versions.
            CREATE TABLE credentials (
                id                TEXT NOT NULL PRIMARY KEY,
                user_id           TEXT NOT NULL REFERENCES users(id),
                type_id           TEXT NOT NULL REFERENCES credential_types(id),
                version_count     INTEGER NOT NULL,
                latest_expiration TEXT,
                latest_approval   TEXT NOT NULL,
                created_at        INTEGER NOT NULL,
                updated_at        INTEGER NOT NULL
            );
            CREATE INDEX credentials_user ON credentials(user_id, id);
            CREATE INDEX credentials_type ON credentials(type_id, id);
            CREATE INDEX credentials_approval ON credentials(latest_approval, id);
            CREATE INDEX credentials_expiration ON credentials(latest_expiration, id);
            CREATE TABLE credential_versions (
                credential_id   TEXT NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
                number          INTEGER NOT NULL,
                issue_date      TEXT NOT NULL,
                expiration_date TEXT,
                document_number TEXT,
                approval_status TEXT NOT NULL CHECK (approval_status IN ('pending', 'approved', 'rejected')),
                reviewed_by     TEXT,
                reviewed_at     INTEGER,
                review_reason   TEXT,
                created_by      TEXT NOT NULL,
                created_at      INTEGER NOT NULL,
                PRIMARY KEY (credential_id, number)
            ) WITHOUT ROWID;
            CREATE TABLE media (
                id            TEXT NOT NULL PRIMARY KEY,
                credential_id TEXT NOT NULL,
                version       INTEGER NOT NULL,
                file_name     TEXT NOT NULL,
                content_type  TEXT NOT NULL,
                byte_count    INTEGER NOT NULL,
                sha256        TEXT NOT NULL,
                created_at    INTEGER NOT NULL,
                bytes         BLOB NOT NULL,
                FOREIGN KEY (credential_id, version) REFERENCES credential_versions(credential_id, number) ON DELETE CASCADE
            );
            CREATE INDEX media_version ON media(credential_id, version);
            CREATE TABLE credential_activity (
                seq           INTEGER PRIMARY KEY,  -- rowid: appended in order (no AUTOINCREMENT bookkeeping per insert)
                credential_id TEXT NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
                version       INTEGER NOT NULL,
                at            INTEGER NOT NULL,
                actor_id      TEXT,
                field         TEXT NOT NULL,
                from_value    TEXT,
                to_value      TEXT
            );
            CREATE INDEX credential_activity_credential ON credential_activity(credential_id, version, seq);
            """),
        Migration("settings, reminders, teams", """
            CREATE TABLE org_settings (
                id                    INTEGER PRIMARY KEY CHECK (id = 1),
                expiring_window_days  INTEGER NOT NULL,
                approvals_required    INTEGER NOT NULL
            );
            INSERT INTO org_settings VALUES (1, 30, 1);
            CREATE TABLE notification_settings (
                user_id     TEXT NOT NULL PRIMARY KEY REFERENCES users(id),
                enabled     INTEGER NOT NULL,
                days_before TEXT NOT NULL
            );
            -- One row per reminder marked sent: (credential, version, offset) is due once.
            CREATE TABLE reminders_sent (
                credential_id TEXT NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
                version       INTEGER NOT NULL,
                offset_key    TEXT NOT NULL,
                sent_at       INTEGER NOT NULL,
                sent_by       TEXT NOT NULL,
                PRIMARY KEY (credential_id, version, offset_key)
            ) WITHOUT ROWID;
            CREATE TABLE teams (
                id         TEXT NOT NULL PRIMARY KEY,
                name       TEXT NOT NULL,
                name_key   TEXT NOT NULL UNIQUE,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            );
            CREATE TABLE team_members (
                team_id TEXT NOT NULL REFERENCES teams(id),
                user_id TEXT NOT NULL REFERENCES users(id),
                PRIMARY KEY (team_id, user_id)
            ) WITHOUT ROWID;
            CREATE INDEX team_members_user ON team_members(user_id);
            CREATE TABLE team_required_types (
                team_id TEXT NOT NULL REFERENCES teams(id),
                type_id TEXT NOT NULL REFERENCES credential_types(id),
                PRIMARY KEY (team_id, type_id)
            ) WITHOUT ROWID;
            CREATE INDEX team_required_types_type ON team_required_types(type_id);
            -- Expiring credentials of one type, in expiration order, for reports and reminders.
            CREATE INDEX credentials_type_expiration ON credentials(type_id, latest_expiration, id);
            """),
        // One activity row per change event (an add, a renewal, an edit, a review) holding every
        // field it changed, instead of one row per field: adding a credential wrote four.
        // credentials_user also carries what compliance reads of each credential, so a team's
        // report reads no table rows (still in (user_id, id) order, since id is unique).
        Migration("activity events, covering user index", """
            DROP INDEX credentials_user;
            CREATE INDEX credentials_user ON credentials(user_id, id, type_id, latest_approval, latest_expiration);
            CREATE TABLE credential_events (
                seq           INTEGER PRIMARY KEY,  -- rowid: appended in order
                credential_id TEXT NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
                version       INTEGER NOT NULL,
                at            INTEGER NOT NULL,
                actor_id      TEXT,
                changes       TEXT NOT NULL         -- JSON array of {"field", "from", "to"}, in the order made
            );
            CREATE INDEX credential_events_credential ON credential_events(credential_id, version, seq);
            INSERT INTO credential_events (seq, credential_id, version, at, actor_id, changes)
                SELECT seq, credential_id, version, at, actor_id,
                       json_array(json_object('field', field, 'from', json(from_value), 'to', json(to_value)))
                FROM credential_activity ORDER BY seq;
            DROP TABLE credential_activity;
            -- A version's creation entries live in its own row: one insert, not two. created_seq
            -- places them among the events: after every event written before them.
            ALTER TABLE credential_versions ADD COLUMN created_changes TEXT;
            ALTER TABLE credential_versions ADD COLUMN created_seq REAL;
            """),
        // SQLite codes a CHECK's `x IN ('a', 'b', 'c')` as a temporary B-tree, built afresh for
        // every row written: 13% of the instructions of a credentials.add. The same rule written
        // as comparisons costs next to nothing. Only the constraints' text changes, and the rows
        // already meet it, so this is SQLite's documented way for such a change: edit the table's
        // SQL in sqlite_schema and bump schema_version, in one transaction (ALTER TABLE, section 7).
        Migration("CHECK constraints without IN lists", "", run: { db in
            let schemaVersion = try db.scalarInt("PRAGMA schema_version") ?? 0
            try db.execute("PRAGMA writable_schema = ON")
            for (table, old, new) in StoreSchema.inListChecks {
                try db.run("UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = ?", old, new, table)
            }
            try db.execute("PRAGMA schema_version = \(schemaVersion + 1); PRAGMA writable_schema = OFF")
        }),
        // The audit log's seq becomes a key in time: at least the row's `at` in milliseconds
        // times 1,024 (`AuditLog.seqPerMillisecond`), and still one more than the row before at
        // the least, so it keeps the order rows were written in. `since` is then a range of the
        // primary key, and audit_log_at (which no query could use: the list is in seq order) goes,
        // with the B-tree insert it cost every write. Existing rows are renumbered in order:
        // seq(n) = n + max over k <= n of (ms(k) * 1024 - k), the closed form of
        // seq(n) = max(seq(n - 1) + 1, ms(n) * 1024), with seq 1 at the least. A row whose `at` is
        // not a service timestamp counts as time 0.
        Migration("audit log keyed by time", """
            CREATE TABLE audit_log_by_time (
                seq       INTEGER PRIMARY KEY,  -- rowid: max(previous seq + 1, at's milliseconds * 1024)
                at        TEXT NOT NULL,
                actor_id  TEXT,
                action    TEXT NOT NULL,
                target_id TEXT,
                detail    TEXT NOT NULL DEFAULT '{}'
            );
            INSERT INTO audit_log_by_time (seq, at, actor_id, action, target_id, detail)
                SELECT n + max(max(ms * 1024, 1) - n) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING), at, actor_id, action, target_id, detail
                FROM (SELECT seq, at, actor_id, action, target_id, detail, row_number() OVER (ORDER BY seq) AS n,
                             CASE WHEN at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'
                                   AND julianday(substr(at, 1, 10)) IS NOT NULL
                                  THEN CAST((julianday(substr(at, 1, 10)) - 2440587.5) * 86400000 AS INTEGER)
                                       + substr(at, 12, 2) * 3600000 + substr(at, 15, 2) * 60000 + substr(at, 18, 2) * 1000 + substr(at, 21, 3)
                                  ELSE 0 END AS ms
                      FROM audit_log)
                ORDER BY seq;
            DROP TABLE audit_log;
            ALTER TABLE audit_log_by_time RENAME TO audit_log;
            CREATE INDEX audit_log_actor ON audit_log(actor_id, seq);
            """),
        // Protocol/README.md §12: emails are compared after NFC normalization and full case folding
        // (`TextRules.emailKey`), which SQL cannot compute, so existing keys are recomputed here. A
        // user whose new key another user already holds (two accounts that only NFC or folding
        // tells apart, made before this rule) keeps the old key: nothing is merged or lost, that
        // account signs in with the exact address it was made with (SessionMethods.findAccount),
        // and its key is never rewritten (UserStore.update leaves keys alone). Failed sign-ins to an
        // email with no account are counted in login_throttle, like an account's own, so lockout
        // does not tell which emails exist.
        Migration("emails compared by NFC and case folding; sign-in throttle for unknown emails", """
            CREATE TABLE login_throttle (
                email_key     TEXT NOT NULL PRIMARY KEY,
                failed_logins INTEGER NOT NULL,
                locked_until  INTEGER
            ) WITHOUT ROWID;
            """, run: { db in
            let users = try db.all("SELECT id, email, email_key FROM users ORDER BY id") { ($0.text(0), $0.text(1), $0.text(2)) }
            for (id, email, key) in users {
                let folded = TextRules.emailKey(email)
                // Compared as bytes: String's == is canonical equivalence, under which NFD equals NFC.
                guard !folded.utf8.elementsEqual(key.utf8), try db.scalarInt("SELECT count(*) FROM users WHERE email_key = ?", folded) == 0 else { continue }
                try db.run("UPDATE users SET email_key = ? WHERE id = ?", folded, id)
            }
        }),
        // API tokens (Protocol/README.md §6, API tokens): only the SHA-256 digest of a secret is kept, unique, so
        // signing in is one index lookup. service_keys holds the key that seals list cursors. Expiry reminders are marked per token and offset.
        // users.token_epoch moves when the user stops being an active admin (deactivated or
        // demoted), ending their token sessions for good: a session does not come back when they
        // are an active admin again; the token signs in anew.
        Migration("API tokens", """
            ALTER TABLE users ADD COLUMN token_epoch INTEGER NOT NULL DEFAULT 0;
            CREATE TABLE api_tokens (
                id           TEXT NOT NULL PRIMARY KEY,
                user_id      TEXT NOT NULL REFERENCES users(id),
                name         TEXT NOT NULL,
                hint         TEXT NOT NULL,
                digest       BLOB NOT NULL UNIQUE,
                created_at   INTEGER NOT NULL,
                expires_at   INTEGER NOT NULL,
                last_used_at INTEGER,
                revoked_at   INTEGER
            );
            CREATE TABLE service_keys (
                name TEXT NOT NULL PRIMARY KEY,
                key  BLOB NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX api_tokens_user ON api_tokens(user_id, id);
            CREATE INDEX api_tokens_expiry ON api_tokens(expires_at, id) WHERE revoked_at IS NULL;
            CREATE TABLE token_reminders_sent (
                token_id   TEXT NOT NULL REFERENCES api_tokens(id),
                offset_key TEXT NOT NULL,
                sent_at    INTEGER NOT NULL,
                sent_by    TEXT,
                PRIMARY KEY (token_id, offset_key)
            ) WITHOUT ROWID;
            """, run: { db in
            // Made here, under the migration's write lock, so that paging (a read) never writes:
            // a full, read-only or locked file still pages.
            try db.run("INSERT OR IGNORE INTO service_keys (name, key) VALUES ('cursor', ?)",
                       Dependencies.cryptoRandomBytes(CursorSeal.keyBytes))
        }),
        // Reminders to the right people: a user follows a team to hear of its members'
        // expiries. A holder's own reminders stay marked in reminders_sent; each follower's are
        // marked per recipient here, so marking one recipient leaves the others due. Users are
        // never deleted (only deactivated), so follows need no cascade; credentials are, and take
        // their marks with them.
        Migration("team followers, reminders per recipient", """
            CREATE TABLE team_followers (
                team_id TEXT NOT NULL REFERENCES teams(id),
                user_id TEXT NOT NULL REFERENCES users(id),
                PRIMARY KEY (team_id, user_id)
            ) WITHOUT ROWID;
            CREATE INDEX team_followers_user ON team_followers(user_id);
            CREATE TABLE reminders_sent_to (
                credential_id TEXT NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
                version       INTEGER NOT NULL,
                offset_key    TEXT NOT NULL,
                recipient_id  TEXT NOT NULL REFERENCES users(id),
                sent_at       INTEGER NOT NULL,
                sent_by       TEXT NOT NULL,
                PRIMARY KEY (credential_id, version, offset_key, recipient_id)
            ) WITHOUT ROWID;
            """),
        // A version's media in id order straight from the index: with (credential_id, version)
        // alone, every credentials.get sorted its media in a temporary B-tree.
        Migration("media in id order per version", """
            CREATE INDEX media_version_id ON media(credential_id, version, id);
            DROP INDEX media_version;
            """),
        // A team's report asks for each member's credentials of a few types. With type_id second,
        // SQLite seeks (user, type) and steps to the next type asked (its SeekScan) instead of
        // reading every credential the member holds: 24.1M -> 17.1M instructions for 1,000
        // members. The planner takes SeekScan only with statistics, so the index gets a row in
        // sqlite_stat1 saying what the service assumes: a user holds about ten credentials,
        // about two of a type (ANALYZE of a real store writes the same shape), and as many rows as
        // an operator's own ANALYZE found, if one ran (else a million). Listing one user's
        // credentials in id order now sorts them, which costs little as a user holds few.
        Migration("credentials_user by type", """
            DROP INDEX credentials_user;
            CREATE INDEX credentials_user ON credentials(user_id, type_id, latest_approval, latest_expiration, id);
            ANALYZE sqlite_schema;
            DELETE FROM sqlite_stat1 WHERE tbl = 'credentials' AND idx = 'credentials_user';
            INSERT INTO sqlite_stat1 (tbl, idx, stat)
                SELECT 'credentials', 'credentials_user', coalesce((SELECT substr(stat, 1, instr(stat, ' ') - 1) FROM sqlite_stat1
                                                                    WHERE tbl = 'credentials' AND instr(stat, ' ') > 1 LIMIT 1), '1000000') || ' 10 2 2 1 1';
            ANALYZE sqlite_schema;
            """),
    ]

    /// The CHECK constraints migration 6 rewrites: table, as created, as rewritten.
    static let inListChecks = [
        ("users", "CHECK (role IN ('admin', 'support'))", "CHECK (role = 'admin' OR role = 'support')"),
        ("users", "CHECK (status IN ('active', 'deactivated'))", "CHECK (status = 'active' OR status = 'deactivated')"),
        ("credential_versions", "CHECK (approval_status IN ('pending', 'approved', 'rejected'))",
         "CHECK (approval_status = 'pending' OR approval_status = 'approved' OR approval_status = 'rejected')"),
    ]
}
