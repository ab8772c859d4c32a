import CPostgres

/// Writes sent without waiting for their answers (libpq's pipeline mode): the INSERTs a request
/// appends (a credential, its version, its audit row) go to the server one after another, and
/// their answers are read together at the next statement that needs one, or at `COMMIT`.
/// Every statement was a round trip; a group of adds is now a few. Only inside a transaction:
/// a failing append has failed the transaction, and the error comes out of the statement that
/// settles the pipeline, so the transaction is rolled back (a group's is run again alone).
extension PostgresConnection {
    /// Answers read after at most this many sent statements. The server stops reading while its
    /// answers wait unread in a full socket buffer, and we stop reading while we write: a long
    /// import must not fill both.
    static let pipelineDepth = 128

    /// Sends `sql` (an INSERT, UPDATE or DELETE whose count no one reads) inside the open
    /// transaction without waiting for its answer. A statement not yet prepared is prepared
    /// first, alone and answered, so a prepare that fails never leaves a name behind.
    public func send(_ sql: String, _ args: [SQLValue]) throws {
        // Outside a transaction a Sync would commit each append by itself: run it alone instead.
        guard PQtransactionStatus(conn) != PQTRANS_IDLE else {
            _ = try run(sql, args)
            return
        }
        if !isPrepared(sql) { try settlePipeline() }
        let name = try statement(sql, parameters: args.count)
        if PQpipelineStatus(conn) == PQ_PIPELINE_OFF, PQenterPipelineMode(conn) != 1 {
            throw PostgresError.connectionLost(location.scrub(Self.message(conn)))
        }
        let sent = try withParameters(args) { values, lengths, formats in
            PQsendQueryPrepared(conn, name, Int32(args.count), values, lengths, formats, 0)
        }
        guard sent == 1 else { throw PostgresError.connectionLost(location.scrub(Self.message(conn))) }
        pipelined += 1
        if pipelined >= Self.pipelineDepth { try settlePipeline() }
    }

    /// Reads every answer still owed and leaves pipeline mode, throwing the first refusal (a
    /// unique key, a serialization failure: what the statement would have thrown run alone).
    /// Called before every statement that waits for its answer.
    func settlePipeline() throws {
        guard PQpipelineStatus(conn) != PQ_PIPELINE_OFF else { return }
        let owed = pipelined
        pipelined = 0
        var firstError: PostgresError?
        if PQpipelineSync(conn) != 1 { firstError = .connectionLost(location.scrub(Self.message(conn))) }
        // Each statement's answers end with a nil; after them, the sync's own result.
        for _ in 0..<owed {
            while let result = PQgetResult(conn) {
                let status = PQresultStatus(result)
                if status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_PIPELINE_ABORTED {
                    firstError = firstError ?? failure(result)
                }
                PQclear(result)
            }
        }
        if let sync = PQgetResult(conn) {
            if PQresultStatus(sync) != PGRES_PIPELINE_SYNC { firstError = firstError ?? failure(sync) }
            PQclear(sync)
        } else {
            firstError = firstError ?? .connectionLost(location.scrub(Self.message(conn)))
        }
        if PQexitPipelineMode(conn) != 1 && isOpen {
            firstError = firstError ?? .connectionLost(location.scrub(Self.message(conn)))
        }
        if let firstError { throw firstError }
    }
}
