#if canImport(Glibc)
import Glibc
#endif

/// Transactions on PostgreSQL as the contract wants them (§9, §13): SERIALIZABLE, so that a
/// check and the write it guards cannot interleave with another process's; and a failure that
/// running again resolves (`PostgresError.isRetryable`: a serialization failure, a deadlock, ...)
/// is never surfaced, the whole transaction runs again instead.
extension PostgresConnection {
    /// How many times a transaction is tried before its serialization failure is given up on.
    /// Conflicts between a few processes resolve in two or three; fifty means a storm.
    public static let maximumAttempts = 50

    /// Runs `body` inside `BEGIN ISOLATION LEVEL SERIALIZABLE` ... `COMMIT`, again from the start
    /// (after a short random pause that grows each time) when PostgreSQL reports a retryable
    /// failure, at `BEGIN`, in the body, or at `COMMIT`. Any other error rolls back
    /// and is thrown. `body` must therefore do nothing outside the database that it cannot redo.
    @discardableResult
    public func serializable<T>(_ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                try execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
                let value = try body()
                try commit()
                return value
            } catch let error as PostgresError where error.isRetryable && attempt < Self.maximumAttempts {
                try? execute("ROLLBACK")
                Self.pause(attempt: attempt)
            } catch {
                // A broken connection has no transaction left to roll back.
                if isOpen { try? execute("ROLLBACK") }
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
