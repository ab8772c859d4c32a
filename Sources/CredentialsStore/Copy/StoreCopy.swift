#if canImport(Glibc)
import Glibc
#endif

/// `credentials-rpc copy --from DB --to DB` (contract §13): every table, media byte and audit row
/// of one store into another, empty one, either engine to either, then checked.
///
/// The source is read in one snapshot, so a store in use copies as one moment of it; each
/// table's rows are digested as they are read (`TableDigest`). The target is written in one
/// transaction, so a copy that fails leaves it as empty as it was, and can simply be run again.
/// Then the target is read back, and every table's row count and digest must equal the
/// source's: only then does the copy succeed.
public enum StoreCopy {
    /// What each table held, on both sides.
    public struct TableReport: Sendable {
        public let table: String
        public let rows: Int
        public let mediaBytes: Int
        public let matched: Bool
    }

    /// How far the copy is: rows of the table in hand (its name, rows done, rows in all), or a
    /// step after the rows (the target's `CopySide.settling`), told once as it starts.
    public enum Progress: Sendable {
        case rows(table: String, done: Int, total: Int)
        case step(String)
    }

    /// Tables a new store is made with rows in (the default settings, its cursor key): the
    /// source's replace them, so cursors the source made stay good on the target.
    static let seededTables: Set<String> = ["org_settings", "service_keys"]

    /// Copies `from` into `to` and checks it. Throws `CopyError` when the stores cannot be copied
    /// (the source at another schema version than this build's, a target that holds data),
    /// `CopyMismatch` when the check finds a difference; either way nothing was written, and a
    /// SQLite target the copy made is removed again.
    public static func run(from source: StoreLocation, to target: StoreLocation, progress: (Progress) -> Void = { _ in }) throws -> [TableReport] {
        if source.displayName == target.displayName { throw CopyError("--from and --to name the same store") }
        var madeFile: String?
        if case .sqlite(let path) = target, access(path, F_OK) != 0 { madeFile = path }
        do {
            return try run(from: open(source, asSource: true), to: open(target, asSource: false), progress: progress)
        } catch {
            if let madeFile { for suffix in ["", "-wal", "-shm"] { unlink(madeFile + suffix) } }
            throw error
        }
    }

    static func run(from: CopySide, to: CopySide, progress: (Progress) -> Void = { _ in }) throws -> [TableReport] {
        let version = try from.schemaVersion()
        guard version == StoreSchema.currentVersion else {
            throw CopyError("\(from.name) is at schema version \(version) and this build copies version \(StoreSchema.currentVersion): start the service on it once, which brings it up to date, then copy")
        }
        guard try to.schemaVersion() == version else { throw CopyError("\(to.name) is at schema version \(try to.schemaVersion()), not \(version)") }
        let tables = try CopyTable.all()
        var reports: [TableReport] = []
        try to.writing {
            for table in tables where !seededTables.contains(table.name) {
                let n = try to.count(of: table)
                if n > 0 { throw CopyError("\(to.name) is not empty: \(table.name) has \(n) rows; copy only into a new store") }
            }
            var sourceDigests: [String: String] = [:], mediaBytes: [String: Int] = [:], counts: [String: Int] = [:]
            try from.reading {
                for table in tables {
                    if seededTables.contains(table.name) { try to.delete(from: table) }
                    let total = try from.count(of: table)
                    var digest = TableDigest(), batch: [[SQLValue]] = [], batchBytes = 0
                    try from.eachRow(of: table) { row in
                        digest.add(row)
                        batch.append(row)
                        batchBytes += TableDigest.size(of: row)
                        // A thousand rows, or 8 MiB of them: a table of large media is never held whole.
                        if batch.count >= 1000 || batchBytes >= 8 << 20 {
                            try to.insert(into: table, batch)
                            batch.removeAll(keepingCapacity: true)
                            batchBytes = 0
                            progress(.rows(table: table.name, done: digest.rows, total: total))
                        }
                    }
                    try to.insert(into: table, batch)
                    progress(.rows(table: table.name, done: digest.rows, total: total))
                    counts[table.name] = digest.rows
                    mediaBytes[table.name] = digest.bytes
                    sourceDigests[table.name] = digest.finish()
                }
            }
            try to.finishWriting()
            // The check comes before the commit: a target that does not match is rolled back,
            // never left behind looking like a store.
            for table in tables {
                var digest = TableDigest()
                try to.eachRow(of: table) { digest.add($0) }
                let matched = digest.rows == counts[table.name] && digest.finish() == sourceDigests[table.name]
                reports.append(TableReport(table: table.name, rows: counts[table.name] ?? 0, mediaBytes: mediaBytes[table.name] ?? 0, matched: matched))
            }
            if !reports.allSatisfy(\.matched) { throw CopyMismatch(reports: reports) }
        }
        if let step = to.settling {
            progress(.step(step))
            // The copy is committed and checked: a store left unsettled is whole, only slower
            // until the engine's own upkeep gets to it, so the failure is told, not thrown.
            do { try to.settle(tables) } catch {
                progress(.step("\(step) did not finish (\(error)); the copy is whole, and only slower to read until autovacuum or a \(step) of its tables gets to it"))
            }
        }
        return reports
    }

    /// The target read back did not match the source; it was rolled back.
    public struct CopyMismatch: Error, CustomStringConvertible {
        public let reports: [TableReport]
        public var description: String {
            "the target read back did not match the source in \(reports.filter { !$0.matched }.map(\.table).joined(separator: ", ")); nothing was written"
        }
    }

    /// A side of the copy. A source is read and never written: it must exist (opening a SQLite
    /// path would otherwise make an empty store) and is not migrated, so a read-only role or a
    /// standby can be copied from. A target is made when missing, and migrated.
    static func open(_ location: StoreLocation, asSource: Bool) throws -> CopySide {
        switch location {
        case .sqlite(let path):
            if path == ":memory:" || path.isEmpty { throw CopyError("an in-memory database cannot be copied from or to") }
            if asSource && access(path, F_OK) != 0 { throw CopyError("\(path) does not exist") }
            return SQLiteCopySide(try Database(path: path, migrate: !asSource))
        case .postgresql(let uri):
            let pg = try PostgresConnection(uri)
            if asSource {
                if try PostgresSchema.version(of: pg) == 0 { throw CopyError("\(uri.redacted) holds no credentials-rpc store") }
            } else {
                try PostgresSchema.migrate(pg)
            }
            return PostgresCopySide(pg)
        }
    }
}
