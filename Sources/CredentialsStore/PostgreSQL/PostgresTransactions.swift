#if canImport(Glibc)
import Glibc
#endif

/// Transactions on PostgreSQL as the contract wants them (§9, §13): one writer at a time on the
/// database, as on SQLite, under `writeLock`; SERIALIZABLE, so that a check and the write it
/// guards cannot interleave with anything that writes without the lock; and a failure that
/// running again resolves (`PostgresError.isRetryable`: a serialization failure, a deadlock, ...)
/// is never surfaced, the whole transaction runs again instead.
extension PostgresConnection {
    /// Any number from a fixed text: the advisory lock every write of every process on the
    /// database takes before it begins (advisory locks are per database). Without it, writers
    /// that each read the audit log's last seq conflicted on every write, and a long import
    /// beside four busy adders ran out of retries (`storage_busy`); with it, writers queue as on
    /// SQLite and serialization failures are left to what writes without it.
    static let writeLock: Int64 = 0x6372_7063_5F77_7269  // "crpc_wri"

    /// Takes `writeLock` for this session, before `BEGIN`: a transaction's snapshot is taken at
    /// its first statement, so taken inside the transaction the lock would be waited for with a
    /// snapshot older than the commit of the writer it waited on. A wait longer than the
    /// session's `lock_timeout` (SQLite's busy timeout, `settle`) fails with 55P03, `storage_busy`.
    func lockWrites() throws {
        guard !holdsWriteLock else { return }
        try execute("SELECT pg_advisory_lock(\(Self.writeLock))")
        holdsWriteLock = true
    }

    /// Lets the next writer in; a broken connection has already let go of it. An unlock the
    /// server refuses on a live connection would leave the lock held for every other process
    /// (advisory locks count up per session): the session is made again instead, which lets go
    /// of everything it held.
    func unlockWrites() {
        guard holdsWriteLock else { return }
        holdsWriteLock = false
        guard isOpen else { return }
        if (try? execute("SELECT pg_advisory_unlock(\(Self.writeLock))")) == nil { try? reconnect() }
    }

    /// How many times a transaction is tried before its serialization failure is given up on.
    /// Conflicts between a few processes resolve in two or three; fifty means a storm.
    public static let maximumAttempts = 50

    /// Runs `body` under `writeLock` inside `BEGIN ISOLATION LEVEL SERIALIZABLE` ... `COMMIT`, again from the start
    /// (after a short random pause that grows each time) when PostgreSQL reports a retryable
    /// failure, at `BEGIN`, in the body, or at `COMMIT`. Any other error rolls back
    /// and is thrown. `body` must therefore do nothing outside the database that it cannot redo.
    @discardableResult
    public func serializable<T>(_ body: () throws -> T) throws -> T {
        try lockWrites()
        defer { unlockWrites() }
        var attempt = 0
        while true {
            attempt += 1
            do {
                try execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
                let value = try body()
                try commit()
                return value
            } catch let error as PostgresError where error.isRetryable && attempt < Self.maximumAttempts {
                rollback()
                Self.pause(attempt: attempt)
            } catch {
                // A broken connection has no transaction left to roll back.
                rollback()
                throw error
            }
        }
    }

    /// Up to 1 ms on the first retry, doubling to at most 64 ms: random, so that two processes
    /// that collided do not collide again in step.
    static func pause(attempt: Int) {
        let ceiling = UInt32(1000) << UInt32(min(attempt - 1, 6))
        usleep(UInt32.random(in: 0...ceiling))
    }
}
