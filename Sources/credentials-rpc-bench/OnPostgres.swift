import CredentialsCore
import CredentialsStore
import Foundation

/// The service on PostgreSQL (contract §13), beside SQLite, when `CREDENTIALS_RPC_BENCH_POSTGRES`
/// (else `CREDENTIALS_RPC_TEST_POSTGRES`) names a server whose user may create databases: durable
/// adds against PostgreSQL's own ceiling, measured in the same run, and the queries at scale on a
/// copy of the scale database. Without a server the table says it was not measured.
enum OnPostgres {
    static func measure(_ run: Run, _ scale: Scale, bigPath: String, _ table: inout Table) throws {
        let env = ProcessInfo.processInfo.environment
        guard let base = [env["CREDENTIALS_RPC_BENCH_POSTGRES"], env["CREDENTIALS_RPC_TEST_POSTGRES"]].compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
            log("PostgreSQL: not measured (set CREDENTIALS_RPC_BENCH_POSTGRES to a postgresql:// URI)")
            table.rows.append(Row(name: "PostgreSQL: not measured (no server named)", value: 0, unit: "-", ceiling: nil, target: "-", ok: nil))
            return
        }
        let admin = try PostgresConnection(ConnectionString(base))
        let names = ["w", "q"].map { "crpc_bench_\(getpid())_\($0)" }
        for n in names {
            try admin.execute("DROP DATABASE IF EXISTS \(n) WITH (FORCE)")
            try admin.execute("CREATE DATABASE \(n)")
        }
        defer { for n in names { try? admin.execute("DROP DATABASE IF EXISTS \(n) WITH (FORCE)") } }
        let uri = names.map { base + (base.contains("?") ? "&" : "?") + "dbname=" + $0 }
        try writes(run, uri[0], &table)
        log("PostgreSQL: copying the scale database in...")
        let started = now()
        _ = try StoreCopy.run(from: .sqlite(path: bigPath), to: .postgresql(ConnectionString(uri[1])))
        log("  copied in \(Int(now() - started)) s")
        try QueriesAtScale.measure(run, scale, db: uri[1], label: "PostgreSQL: ", &table)
    }

    /// Pipelined durable adds against PostgreSQL itself: the same ~400-byte rows as SQLite's
    /// ceiling, 100 a transaction, over the same socket, prepared once and sent in pipeline mode
    /// (answers read at COMMIT), as the service sends its own INSERTs: the most a libpq client
    /// gets. The same rows with a round trip each, as most clients send them, are shown beside
    /// it without a target. In turn, five rounds, best of each, as the SQLite writes are measured.
    static func writes(_ run: Run, _ uri: String, _ table: inout Table) throws {
        log("PostgreSQL: pipelined durable writes...")
        let service = try Child(run.service, ["--db", uri])
        defer { service.finish() }
        let admin = service.call("setup.createAdmin", ["email": "ada@example.com", "firstName": "Ada", "lastName": "Admin", "password": "Admin#1234"])?["id"] as? String ?? ""
        _ = service.call("session.login", ["email": "ada@example.com", "password": "Admin#1234"])
        let typeID = service.call("credentialTypes.create", ["name": "Licence", "requiresExpiration": true])?["id"] as? String ?? ""
        let pg = try PostgresConnection(ConnectionString(uri))
        try pg.execute("CREATE TABLE r (id text PRIMARY KEY, body text NOT NULL)")
        let ids = TimeOrderedIDs(), body = String(repeating: "r", count: 370)
        let writes = run.quick ? 500 : 5000
        var addRates: [Double] = [], ceilingRates: [Double] = [], roundTripRates: [Double] = []
        func rowsPerSecond(pipelined: Bool) throws -> Double {
            let start = now()
            for _ in 0..<(writes / 100) {
                try pg.execute("BEGIN")
                for _ in 0..<100 {
                    let row: [SQLValue] = [.text(ids.next(prefix: "row", millis: SystemClock.nowMillis())), .text(body)]
                    if pipelined { try pg.send("INSERT INTO r VALUES (?, ?)", row) } else { try pg.run("INSERT INTO r VALUES (?, ?)", row) }
                }
                try pg.commit()
            }
            return Double(writes) / (now() - start)
        }
        for round in 0..<5 {
            ceilingRates.append(try rowsPerSecond(pipelined: true))
            roundTripRates.append(try rowsPerSecond(pipelined: false))
            addRates.append(pipelined(service, (0..<writes).map {
                request($0, "credentials.add", ["userId": admin, "typeId": typeID, "issueDate": "2026-01-01", "expirationDate": "2027-01-01",
                                                 "documentNumber": "P-\(round)-\($0)-" + String(repeating: "d", count: 58)])
            }))
        }
        log("  rounds (rows or requests a second): ceiling \(ceilingRates.map { Int($0) }), a round trip a row \(roundTripRates.map { Int($0) }), adds \(addRates.map { Int($0) })")
        table.ratio("PostgreSQL: pipelined credentials.add", addRates.max()!, "req/s", ceiling: ceilingRates.max()!, atLeast: 0.2)
        table.rows.append(Row(name: "PostgreSQL: the ceiling's rows with a round trip each (no target)", value: roundTripRates.max()!, unit: "rows/s",
                              ceiling: nil, target: "-", ok: nil))
    }
}
