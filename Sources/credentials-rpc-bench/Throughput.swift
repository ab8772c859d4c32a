import CredentialsCore
import CredentialsStore
import Foundation

/// Requests a second with many in flight: reads against the strong echo (`Ceilings.strongEcho`),
/// durable writes against SQLite itself.
enum Throughput {
    static func reads(_ s: SeededService, _ run: Run, _ table: inout Table) throws {
        let service = s.service, credentialIDs = s.credentialIDs, admin = s.admin
        let reads = run.quick ? 2000 : 20000
        log("pipelined reads...")
        let credentialGets = (0..<reads).map { request($0, "credentials.get", ["credentialId": credentialIDs[$0 % credentialIDs.count]]) }
        let userGets = (0..<reads).map { request($0, "users.get", ["userId": admin]) }
        // Each ceiling is the strong echo answering the same requests with an answer of the same
        // size. The service and its echo run in turn, five rounds, best of five each: this
        // machine's speed drifts from one second to the next, and two figures taken a few seconds
        // apart carried that drift into their ratio (0.46x to 1.09x for the same build).
        func rate(_ child: Child, _ requests: [Data]) -> Double { (0..<3).map { _ in pipelined(child, requests) }.max()! }
        func rates(_ requests: [Data]) throws -> (service: Double, echo: Double) {
            let echo = try Child(run.selfPath, ["--strong-echo", String(answerBytes(service, requests[0]))])
            defer { echo.finish() }
            var best = (service: 0.0, echo: 0.0)
            for _ in 0..<5 {
                best.service = max(best.service, pipelined(service, requests))
                best.echo = max(best.echo, pipelined(echo, requests))
            }
            return best
        }
        let (credentialGetRate, credentialEcho) = try rates(credentialGets)
        let (userGetRate, userEcho) = try rates(userGets)
        table.ratio("pipelined credentials.get", credentialGetRate, "req/s", ceiling: credentialEcho, atLeast: 0.6)
        table.ratio("pipelined users.get", userGetRate, "req/s", ceiling: userEcho, atLeast: 0.8)
        // The first ceiling, kept for what it is: it re-encodes a payload of the answer's size.
        let weak = try Child(run.selfPath, ["--echo"])
        let payload = String(repeating: "x", count: max(answerBytes(service, credentialGets[0]) - 40, 10))
        let weakRate = rate(weak, (0..<reads).map { request($0, "echo", ["payload": payload]) })
        weak.finish()
        table.rows.append(Row(name: "a Foundation echo that re-encodes (credentials.get's answer size)", value: weakRate, unit: "req/s",
                              ceiling: credentialEcho, target: "-", ok: nil))
    }

    /// The length of the service's answer to `request`, newline included.
    static func answerBytes(_ service: Child, _ request: Data) -> Int {
        service.send(request)
        return (service.line()?.count ?? 599) + 1
    }

    /// SQLite itself: ~400-byte rows, time-ordered keys, 100 a transaction, WAL, synchronous=FULL,
    /// into a new file each run.
    static func sqliteCeiling(rows count: Int, run: Int, in workDir: URL) throws -> Double {
        let path = workDir.appendingPathComponent("ceiling-\(run).sqlite3").path
        let db = try Database(path: path, migrations: [Migration("rows", "CREATE TABLE r (id TEXT PRIMARY KEY, body TEXT NOT NULL)")])
        let ids = TimeOrderedIDs()
        let body = String(repeating: "r", count: 370)
        let start = now()
        var i = 0
        while i < count {
            try db.write {
                for _ in 0..<100 { try db.run("INSERT INTO r VALUES (?, ?)", ids.next(prefix: "row", millis: SystemClock.nowMillis()), body); i += 1 }
            }
        }
        return Double(i) / (now() - start)
    }

    static func writes(_ s: SeededService, _ bench: Run, _ table: inout Table) throws {
        let service = s.service, credentialIDs = s.credentialIDs, admin = s.admin, typeID = s.typeID, q = bench.quick
        log("pipelined durable writes...")
        // Write rates, the service's and the ceiling's alike, are the best of five rounds, and each
        // round runs all three in turn, each after `sync()`: this machine's speed drifts by 10-20% from
        // one second to the next, and the page cache one run leaves dirty must not slow the next. The
        // rounds repeat one measure: each adds credentials, then renews each credential it added once
        // (a renewal is a credential's next version), to a later expiry on one of a year of days.
        let writes = q ? 1000 : 10000
        var addRates: [Double] = [], versionRates: [Double] = [], ceilingRates: [Double] = []
        func addedIDs(in answers: [[UInt8]]) -> [String] {
            answers.compactMap { ((try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any])?["result"] as? [String: Any] }
                .compactMap { $0["id"] as? String }
        }
        for run in 0..<5 {
            sync()
            ceilingRates.append(try sqliteCeiling(rows: q ? 5000 : 50000, run: run, in: bench.workDir))
            sync()
            var added: [[UInt8]]? = []
            addRates.append(pipelined(service, (0..<writes).map {
                request($0, "credentials.add", ["userId": admin, "typeId": typeID, "issueDate": "2026-01-01", "expirationDate": "2027-01-01",
                                                 "documentNumber": "W-\(run)-\($0)-" + String(repeating: "d", count: 58)])
            }, answers: &added))
            let renewing = addedIDs(in: added ?? [])
            guard renewing.count == writes else { fatalError("only \(renewing.count) of \(writes) adds succeeded") }
            sync()
            let firstExpiry = CalendarDate(year: 2027, month: 2, day: 1)!
            versionRates.append(pipelined(service, renewing.enumerated().map { i, id in
                request(i, "credentials.addVersion", ["credentialId": id, "issueDate": "2026-02-01",
                                                       "expirationDate": firstExpiry.adding(days: run * 400 + i % 365).description])
            }))
        }
        let addRate = addRates.max()!, versionRate = versionRates.max()!, sqliteRate = ceilingRates.max()!
        log("  rounds (rows or requests a second): ceiling \(ceilingRates.map { Int($0) }), adds \(addRates.map { Int($0) }), renewals \(versionRates.map { Int($0) })")
        table.ratio("pipelined credentials.add", addRate, "req/s", ceiling: sqliteRate, atLeast: 0.2)
        table.ratio("pipelined credentials.addVersion", versionRate, "req/s", ceiling: sqliteRate, atLeast: 0.2)

        // Not a target, a property worth knowing: a credential's versions are stored together, so renewals
        // spread over credentials that each have many versions dirty a page per credential. The seed
        // credentials are renewed twice over to about their 21st version; the second pass is reported.
        var deepRate = 0.0
        for pass in 0..<2 {
            let count = credentialIDs.count * 10
            deepRate = pipelined(service, (0..<count).map {
                request($0, "credentials.addVersion", ["credentialId": credentialIDs[$0 % credentialIDs.count], "issueDate": "2026-02-01",
                                                        "expirationDate": CalendarDate(year: 2030, month: 1, day: 1)!.adding(days: pass * 10 + $0 / credentialIDs.count).description])
            })
        }
        table.rows.append(Row(name: "credentials.addVersion, credentials at their 12th-21st version", value: deepRate, unit: "req/s",
                              ceiling: sqliteRate, target: "-", ok: nil))
    }
}
