import CPostgres

/// What went wrong talking to PostgreSQL. Every message has been scrubbed of the connection
/// string's password (`ConnectionString.scrub`).
public enum PostgresError: StorageFailure, Equatable, CustomStringConvertible {
    /// No connection could be made (or remade): the server is down, refuses us, or the URI is wrong.
    case connection(String)
    /// The connection broke under a statement: the server restarted or went away.
    case connectionLost(String)
    /// The server refused the statement, with its SQLSTATE (`23505` a unique key, `40001` a
    /// serialization failure, `40P01` a deadlock, ...).
    case server(sqlState: String, message: String)
    /// A value PostgreSQL cannot store: text holding a NUL byte.
    case unstorable(String)
    /// `COMMIT` found the transaction already failed (a statement in it was refused) and rolled
    /// it back, as PostgreSQL does without an error: nothing of it was saved.
    case rolledBackAtCommit

    public var description: String {
        switch self {
        case .connection(let m): return "cannot connect to PostgreSQL: \(m)"
        case .connectionLost(let m): return "the connection to PostgreSQL was lost: \(m)"
        case .server(let state, let m): return "PostgreSQL refused a statement (SQLSTATE \(state)): \(m)"
        case .unstorable(let m): return m
        case .rolledBackAtCommit: return "COMMIT rolled back a transaction in which a statement had failed"
        }
    }

    /// What a client is told, by SQLSTATE class (PostgreSQL's manual, Appendix A).
    public var fault: StorageFault {
        switch self {
        case .connection, .connectionLost: return .unavailable
        case .unstorable: return .other
        case .rolledBackAtCommit: return .busy
        case .server(let state, _):
            if state == "40001" || state == "40P01" || state.hasPrefix("55P03") || state == "57014" { return .busy }  // retries ran out, lock or statement timeout
            if state == "53100" { return .full }  // disk full
            if state.hasPrefix("53") { return .busy }  // out of memory, of predicate locks, of connections: for now
            if state == "25006" || state == "42501" { return .readOnly }  // a standby, or no right to write
            if state.hasPrefix("XX") { return .corrupt }
            return .other
        }
    }

    /// For the log: the kind and the SQLSTATE, scrubbed text included.
    public var logLine: String { "storage error (\(fault.rawValue)): \(description)" }

    /// A failure that running the whole transaction again resolves: a serialization failure or a
    /// deadlock (PostgreSQL's manual, "Serialization Failure Handling").
    /// So is running out of predicate locks (53200, "out of shared memory", whose hint is
    /// max_pred_locks_per_transaction): SERIALIZABLE keeps a finished transaction's read locks
    /// while transactions that overlapped it run, so under many concurrent writers the table of
    /// them fills, and empties again as those end. And so is a unique violation (23505): under
    /// SERIALIZABLE PostgreSQL reports one, not a serialization failure, when two transactions
    /// insert the same key they did not read through its index (two renewals of one credential
    /// both taking the next version number); run again, the loser reads the winner's row, and
    /// the stores check for a taken name or email before they insert.
    public var isRetryable: Bool {
        if case .server(let state, _) = self { return ["40001", "40P01", "53200", "23505"].contains(state) }
        return self == .rolledBackAtCommit
    }
}

/// One libpq connection. Statements take `?` parameters like SQLite's (numbered for PostgreSQL
/// by `PostgresDialect`), bound as text, or as binary for bytes (`bytea`); rows come back as text.
public final class PostgresConnection {
    let conn: OpaquePointer
    public let location: ConnectionString
    /// Whether this session holds the write lock (PostgresTransactions.swift).
    var holdsWriteLock = false
    /// The statements this session has prepared, by the text `run` was given: each is parsed,
    /// analysed and (after PostgreSQL's first few runs) planned once per session instead of
    /// once per run, which was a third of the server's time on an add.
    private var prepared: [String: String] = [:]
    /// Statements sent in pipeline mode whose answers are not read yet (PostgresPipeline.swift).
    var pipelined = 0
    /// Dynamic SQL (an IN list of any length) could prepare without end; past this many, the
    /// session's statements are dropped and prepared again as they come.
    static let preparedLimit = 512

    public init(_ location: ConnectionString) throws {
        self.location = location
        guard let c = PQconnectdb(location.text) else { throw PostgresError.connection("libpq is out of memory") }
        guard PQstatus(c) == CONNECTION_OK else {
            let reason = location.scrub(Self.message(c))
            PQfinish(c)
            throw PostgresError.connection(reason)
        }
        conn = c
        // Notices (a NOTICE from CREATE ... IF NOT EXISTS, say) would go to stderr unasked.
        PQsetNoticeProcessor(c, { _, _ in }, nil)
        try settle()
    }

    /// What results are read as must not depend on the server's, the database's or the
    /// environment's settings (`PGCLIENTENCODING`, `PGOPTIONS`, `ALTER DATABASE ... SET`): text in
    /// UTF-8, `bytea` in hex, reals with every digit. Set on every connection, and again after
    /// a reconnect.
    private func settle() throws {
        guard PQsetClientEncoding(conn, "UTF8") == 0 else {
            throw PostgresError.connection(location.scrub(Self.message(conn)))
        }
        // lock_timeout: a write waits for the write lock (or a row) as long as SQLite's busy timeout.
        // jit off: the service's statements run in a few milliseconds, and a plan whose estimate
        // passes jit_above_cost is compiled first (the generic plan of reminder candidates at 1M
        // credentials took 775-1,037 ms to compile and run, against 2.1-2.3 ms planned by value).
        try execute("SET bytea_output = 'hex'; SET extra_float_digits = 3; SET standard_conforming_strings = on; "
                    + "SET lock_timeout = \(SQLiteConnection.busyTimeoutMilliseconds); SET jit = off")
    }

    deinit { PQfinish(conn) }

    /// Whether the connection is still up as far as libpq knows (it learns of a break on use).
    public var isOpen: Bool { PQstatus(conn) == CONNECTION_OK }

    /// Connects again after a break, as the same URI; throws while the server is still away.
    public func reconnect() throws {
        PQreset(conn)
        holdsWriteLock = false  // a new session holds no lock, no statement and no pipeline
        prepared.removeAll()
        pipelined = 0
        guard PQstatus(conn) == CONNECTION_OK else { throw PostgresError.connection(location.scrub(Self.message(conn))) }
        try settle()
    }

    /// Commits the open transaction, and throws `rolledBackAtCommit` when PostgreSQL rolled it
    /// back instead: it answers `COMMIT` in a failed transaction with success and the tag
    /// `ROLLBACK`, and taking that for a commit would answer writes that were never saved.
    public func commit() throws {
        try settlePipeline()
        guard let result = try check(PQexec(conn, "COMMIT")) else { throw PostgresError.rolledBackAtCommit }
        defer { PQclear(result) }
        guard String(cString: PQcmdStatus(result)) == "COMMIT" else { throw PostgresError.rolledBackAtCommit }
    }

    /// Runs one or more statements without parameters (a migration's script).
    public func execute(_ sql: String) throws {
        try settlePipeline()
        try check(PQexec(conn, sql)).map(PQclear)
    }

    /// Rolls the open transaction back, whatever the answers still owed to it say.
    public func rollback() {
        try? settlePipeline()
        if isOpen { try? execute("ROLLBACK") }
    }

    /// Runs one statement with `args` for its `?`s, calling `each` for every row; returns the
    /// number of rows it changed (for INSERT, UPDATE and DELETE).
    @discardableResult
    public func run(_ sql: String, _ args: [SQLValue] = [], _ each: (PostgresRow) throws -> Void = { _ in }) throws -> Int {
        try settlePipeline()
        let result: OpaquePointer?
        if PostgresDialect.plansByValue(sql) {
            result = try withParameters(args) { values, lengths, formats in
                try check(PQexecParams(conn, PostgresDialect.numberedParameters(sql), Int32(args.count), nil, values, lengths, formats, 0))
            }
        } else {
            let name = try statement(sql, parameters: args.count)
            let once = PostgresDialect.plansOnce(sql)
            if once { try execute("SET plan_cache_mode = force_generic_plan") }
            defer { if once { resetPlanCacheMode() } }
            result = try withParameters(args) { values, lengths, formats in
                try check(PQexecPrepared(conn, name, Int32(args.count), values, lengths, formats, 0))
            }
        }
        guard let result else { return 0 }
        defer { PQclear(result) }
        for i in 0..<PQntuples(result) { try each(PostgresRow(result: result, index: i)) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// Back to planning by value, after a statement planned once. Refused in a failed
    /// transaction, whose rollback takes the SET back with it; refused otherwise on a live
    /// connection, the session is made again rather than left planning everything generically
    /// (users' search among them).
    private func resetPlanCacheMode() {
        do { try execute("RESET plan_cache_mode") } catch {
            if isOpen && PQtransactionStatus(conn) == PQTRANS_IDLE { try? reconnect() }
        }
    }

    /// Whether this session has prepared `sql` already.
    func isPrepared(_ sql: String) -> Bool { prepared[sql] != nil }

    /// The name `sql` is prepared under in this session, preparing it the first time. Parameter
    /// types are left to the server, as PQexecParams leaves them; statements are not
    /// transactional, so one prepared in a transaction that rolls back stays prepared.
    func statement(_ sql: String, parameters: Int) throws -> String {
        if let name = prepared[sql] { return name }
        if prepared.count >= Self.preparedLimit {
            try execute("DEALLOCATE ALL")
            prepared.removeAll(keepingCapacity: true)
        }
        let name = "s\(prepared.count)"
        try check(PQprepare(conn, name, PostgresDialect.numberedParameters(sql), Int32(parameters), nil)).map(PQclear)
        prepared[sql] = name
        return name
    }

    /// The first column of the first row as text, or nil when there is no row or it is NULL.
    public func scalarText(_ sql: String, _ args: [SQLValue] = []) throws -> String? {
        var value: String?
        try run(sql, args) { row in if value == nil, !row.isNull(0) { value = row.text(0) } }
        return value
    }

    /// The statement's result, or the error it stands for: a break of the connection is told
    /// apart from the server's refusals, which carry their SQLSTATE.
    private func check(_ result: OpaquePointer?) throws -> OpaquePointer? {
        if let result {
            let status = PQresultStatus(result)
            if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY { return result }
            let error = failure(result)
            PQclear(result)
            throw error
        }
        throw PostgresError.connectionLost(location.scrub(Self.message(conn)))
    }

    /// The error a refused statement's result stands for (the result is the caller's to clear).
    func failure(_ result: OpaquePointer) -> PostgresError {
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        // The primary message only: the DETAIL line quotes the row's values (a key that already
        // exists, a token's digest), which no log line may hold.
        let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) } ?? ""
        let message = location.scrub(Self.oneLine(primary))
        // A server shutting down says so with class 57 before the socket closes; class 08 is a
        // connection exception. Either way the statement's fate is the connection's.
        if PQstatus(conn) != CONNECTION_OK || state == nil || state!.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03" {
            return .connectionLost(message.isEmpty ? location.scrub(Self.message(conn)) : message)
        }
        return .server(sqlState: state!, message: message)
    }

    /// Lays `args` out for PQexecParams: text as NUL-terminated UTF-8, bytes as binary with
    /// their length, NULL as a null pointer; all in one buffer that outlives the call.
    func withParameters<T>(_ args: [SQLValue],
                                   _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) throws -> T) throws -> T {
        var buffer: [UInt8] = [], offsets: [Int?] = [], lengths: [Int32] = [], formats: [Int32] = []
        for a in args {
            var bytes: [UInt8]?, binary = false
            switch a {
            case .null: bytes = nil
            case .int(let n): bytes = Array(String(n).utf8)
            case .double(let d): bytes = Array(String(d).utf8)
            case .text(let s): bytes = Array(s.utf8)
            case .utf8(let b): bytes = b
            case .blob(let b): bytes = b; binary = true
            }
            if let b = bytes, !binary, b.contains(0) {
                throw PostgresError.unstorable("PostgreSQL text cannot hold a NUL byte")
            }
            offsets.append(bytes.map { _ in buffer.count })
            lengths.append(Int32(bytes?.count ?? 0))
            formats.append(binary ? 1 : 0)
            buffer += bytes ?? []
            buffer.append(0)
        }
        return try buffer.withUnsafeBufferPointer { raw in
            let base = UnsafeRawPointer(raw.baseAddress!).assumingMemoryBound(to: CChar.self)
            let values: [UnsafePointer<CChar>?] = offsets.map { $0.map { base + $0 } }
            return try values.withUnsafeBufferPointer { v in
                try lengths.withUnsafeBufferPointer { l in
                    try formats.withUnsafeBufferPointer { f in try body(v.baseAddress, l.baseAddress, f.baseAddress) }
                }
            }
        }
    }

    /// libpq's message for the connection, on one line (libpq's own span several).
    static func message(_ c: OpaquePointer) -> String {
        guard let m = PQerrorMessage(c) else { return "no reason given" }
        let text = oneLine(String(cString: m))
        return text.isEmpty ? "no reason given" : text
    }

    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).map { $0.drop { $0 == " " || $0 == "\t" } }.filter { !$0.isEmpty }.joined(separator: "; ")
    }
}
