import Foundation

/// What a glue script pays each time it runs: spawn the release service, sign in, get one
/// answer, exit. Three ways in the same run, on a database seeded the way a deployment is (the
/// default hash cost, 600,000 PBKDF2 iterations): a bare start that answers `service.info`, a
/// start signed in with an API token (`CREDENTIALS_RPC_TOKEN`, Protocol/README.md §6, API
/// tokens), and one that signs in with a password. Each is timed from spawn to the process's exit.
enum ColdCalls {
    static func measure(_ run: Run, _ table: inout Table) throws {
        log("cold calls...")
        let path = run.workDir.appendingPathComponent("cold.sqlite3").path
        let production = Child.productionEnvironment
        let seed = try Child(run.service, ["--db", path], environment: production)
        let email = "cold@example.com", password = "Cold#12345"
        let userID = seed.call("setup.createAdmin", ["email": email, "firstName": "Cold", "lastName": "Call", "password": password])?["id"] as? String ?? ""
        _ = seed.call("session.login", ["email": email, "password": password])
        let secret = seed.call("tokens.create", ["name": "bench"])?["secret"] as? String ?? ""
        seed.finish()
        guard !userID.isEmpty, !secret.isEmpty else { fatalError("could not seed the cold-call database") }

        var withToken = production
        withToken["CREDENTIALS_RPC_TOKEN"] = secret
        let get = request(2, "users.get", ["userId": userID])
        let runs = run.quick ? 3 : 15
        // In turn, so that the ratio does not carry the machine's drift between two series.
        var bareTimes: [Double] = [], tokenTimes: [Double] = []
        for _ in 0..<runs {
            bareTimes.append(try call(run.service, path, production, [request(1, "service.info", [:])]))
            tokenTimes.append(try call(run.service, path, withToken, [get]))
        }
        let bare = percentile(bareTimes, 0.5), token = percentile(tokenTimes, 0.5)
        let signIn = request(1, "session.login", ["email": email, "password": password])
        let passwordCall = try median(run.quick ? 2 : 5) { try call(run.service, path, production, [signIn, get]) }
        table.rows.append(Row(name: "cold call: start, service.info, exit", value: bare, unit: "ms", ceiling: nil, target: "-", ok: nil))
        table.ratio("cold call: start, API token sign-in, users.get, exit", token, "ms", ceiling: bare, atMost: 1.5)
        table.rows.append(Row(name: "cold call: start, password sign-in (600,000 PBKDF2 iterations), users.get, exit", value: passwordCall,
                              unit: "ms", ceiling: bare, target: "-", ok: nil))
    }

    /// Milliseconds from spawning the service to its exit, having sent `requests` and read an
    /// answer to each; fails the run if an answer is an error. The exit is timed at the end of
    /// its output (the process closes it as it ends): Foundation's `waitUntilExit` notices an exit
    /// up to 50 ms late.
    static func call(_ service: String, _ db: String, _ environment: [String: String], _ requests: [Data]) throws -> Double {
        let t = now()
        let c = try Child(service, ["--db", db], environment: environment)
        c.send(requests.reduce(into: Data()) { $0.append($1) })
        for _ in requests {
            guard let answer = c.json(), answer["result"] != nil else { fatalError("a cold call was refused") }
        }
        try? c.stdin.fileHandleForWriting.close()
        while c.line() != nil {}
        let ms = (now() - t) * 1000
        c.finish()
        return ms
    }

    static func median(_ runs: Int, _ body: () throws -> Double) throws -> Double {
        percentile(try (0..<runs).map { _ in try body() }, 0.5)
    }
}
