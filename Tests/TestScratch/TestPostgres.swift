import CredentialsStore
import Foundation
import Testing

/// The server the PostgreSQL tests use: `source .ci/postgres` starts a throwaway one and sets
/// `CREDENTIALS_RPC_TEST_POSTGRES`. Without it they are skipped, saying so (`skip`), except in
/// CI, where they run and fail: CI must never pass without PostgreSQL having been tried.
public enum TestPostgres {
    public static let uri = ProcessInfo.processInfo.environment["CREDENTIALS_RPC_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    static let inCI = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "false" && $0 != "0" } ?? false
    /// Whether the tests that need the server run (and, in CI without it, fail).
    public static let runs = uri != nil || inCI
    /// Why they are skipped when they are.
    public static let skip: Comment = "no PostgreSQL: set CREDENTIALS_RPC_TEST_POSTGRES to a postgresql:// URI (`source .ci/postgres` starts a throwaway server)"

    public struct Missing: Error, CustomStringConvertible {
        public var description: String { "CI must set CREDENTIALS_RPC_TEST_POSTGRES; .ci/run starts a server with .ci/postgres" }
    }

    public static func connect() throws -> PostgresConnection {
        guard let uri else { throw Missing() }
        return try PostgresConnection(ConnectionString(uri))
    }

    /// A table name no other test (nor an earlier run) uses.
    public static func tableName(_ stem: String) -> String { "t_\(stem)_\(UInt32.random(in: 0...UInt32.max))" }
}

/// A database of its own for one test, dropped afterwards (with any connection still on it).
public final class ScratchPostgresDatabase {
    public let name = "crpc_t_\(UInt32.random(in: 0...UInt32.max))"
    public let uri: String
    private let admin: PostgresConnection

    public init() throws {
        admin = try TestPostgres.connect()
        try admin.execute("CREATE DATABASE \(name)")
        let base = TestPostgres.uri ?? ""
        uri = base + (base.contains("?") ? "&" : "?") + "dbname=\(name)"
    }

    public func connect() throws -> PostgresConnection { try PostgresConnection(ConnectionString(uri)) }

    deinit { try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
}
