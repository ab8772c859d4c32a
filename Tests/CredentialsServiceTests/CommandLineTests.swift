import Testing
import CredentialsService

struct CommandLineTests {
    func parse(_ args: [String], _ env: [String: String] = ["HOME": "/home/u"]) -> CommandLineOptions.Outcome {
        CommandLineOptions.parse(args, environment: env)
    }

    @Test func defaultsAndFlags() {
        guard case .run(let o) = parse(["--db", "/tmp/a.db", "--max-message-bytes=100", "--max-media-bytes", "5", "--log-level", "debug"]) else {
            Issue.record("not run")
            return
        }
        #expect(o.databasePath == "/tmp/a.db")
        #expect(o.maxMessageBytes == 100)
        #expect(o.maxMediaBytes == 5)
        #expect(o.logLevel == .debug)
        guard case .run(let d) = parse([]) else { Issue.record("not run"); return }
        #expect(d.maxMessageBytes == 16 * 1024 * 1024)
        #expect(d.maxMediaBytes == 10 * 1024 * 1024)
        #expect(d.logLevel == .warning)
        #expect(d.fixedTimeMillis == nil)
    }

    @Test func helpVersionAndUsageErrors() {
        #expect(parse(["--help"]) == .help)
        #expect(parse(["--version"]) == .version)
        for bad in [["--bogus"], ["--db"], ["--max-message-bytes", "0"], ["--max-message-bytes", "x"], ["--log-level", "loud"], ["extra"]] {
            guard case .usage = parse(bad) else { Issue.record("\(bad) accepted"); continue }
        }
        guard case .usage = parse([], ["CREDENTIALS_RPC_FIXED_TIME": "yesterday", "CREDENTIALS_RPC_INSECURE_TESTING": "1"]) else { Issue.record("bad fixed time accepted"); return }
    }

    @Test("the default database path", arguments: [
        (["CREDENTIALS_RPC_DB": "/x/db.sqlite3", "XDG_DATA_HOME": "/xdg", "HOME": "/h"], "/x/db.sqlite3"),
        (["XDG_DATA_HOME": "/xdg", "HOME": "/h"], "/xdg/credentials-rpc/credentials.sqlite3"),
        (["XDG_DATA_HOME": "relative", "HOME": "/h"], "/h/.local/share/credentials-rpc/credentials.sqlite3"),
        (["HOME": "/h"], "/h/.local/share/credentials-rpc/credentials.sqlite3"),
        (["CREDENTIALS_RPC_DB": "", "HOME": "/h"], "/h/.local/share/credentials-rpc/credentials.sqlite3"),
    ] as [([String: String], String)])
    func defaultPath(env: [String: String], expected: String) {
        #expect(CommandLineOptions.defaultDatabasePath(environment: env) == expected)
    }

    @Test func copyTakesFromAndToOnceEach() {
        #expect(parse(["copy", "--from", "a.sqlite3", "--to", "postgresql://h/db"]) == .copy(from: "a.sqlite3", to: "postgresql://h/db"))
        #expect(parse(["copy", "--to=b", "--from=a"]) == .copy(from: "a", to: "b"))
        for bad in [["copy"], ["copy", "--from", "a"], ["copy", "--to", "b"], ["copy", "--from", "a", "--to"], ["copy", "--from", "", "--to", "b"],
                    ["copy", "--from", "a", "--from", "c", "--to", "b"], ["copy", "--from", "a", "--to", "b", "--db", "x"], ["copy", "a", "b"]] {
            guard case .usage = parse(bad) else { Issue.record("\(bad) accepted"); continue }
        }
    }
}
