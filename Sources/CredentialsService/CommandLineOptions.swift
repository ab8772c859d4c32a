import CredentialsCore

/// The command line (README.md, "Command line"), parsed without Foundation so tests can call it.
public struct CommandLineOptions: Equatable {
    public var databasePath: String
    public var maxMessageBytes = 16 * 1024 * 1024
    public var maxMediaBytes = 10 * 1024 * 1024
    public var logLevel: LogLevel = .warning
    /// The MCP tools `tools/list` offers (`--tools`).
    public var tools: ToolSelection = .all
    /// Set only by `CREDENTIALS_RPC_FIXED_TIME`: a fixed clock and sequential ids, for conformance runs.
    public var fixedTimeMillis: Int64?
    /// `CREDENTIALS_RPC_PBKDF2_ITERATIONS`: lowers the hashing cost for tests; never below 1,000.
    public var passwordIterations = PasswordHasher.defaultIterations
    /// The test-only settings in force, by variable name, for the warning logged at start.
    public var insecureTestSettings: [String] = []

    /// The variables that weaken the service, for tests only. Each is refused at start unless
    /// `CREDENTIALS_RPC_INSECURE_TESTING=1` says on purpose that this process is a test: a weak
    /// hash cost or a frozen clock (lockouts that never end) copied from a test script into a
    /// production environment then stops the service with one clear line instead of running weak.
    public static let insecureTestingVariable = "CREDENTIALS_RPC_INSECURE_TESTING"
    static let testOnlyVariables = ["CREDENTIALS_RPC_FIXED_TIME", "CREDENTIALS_RPC_PBKDF2_ITERATIONS"]

    public enum Outcome: Equatable {
        case run(CommandLineOptions)
        case help
        case version
        /// `copy --from DB --to DB`: copy one store into another, empty one, and check it.
        case copy(from: String, to: String)
        /// A usage error: print the message on stderr and exit 2.
        case usage(String)
    }

    public static let usage = """
        usage: credentials-rpc [--db PATH] [--max-message-bytes N] [--max-media-bytes N]
                               [--log-level error|warning|info|debug]
                               [--tools all|read-only|GROUP[,GROUP...]] [--help] [--version]
               credentials-rpc copy --from DB --to DB

        Speaks JSON-RPC 2.0 on stdin/stdout, one message per line (or Content-Length frames).
        MCP hosts (initialize with protocolVersion) and LSP clients (initialize with processId)
        are recognized by their first message. Logs go to stderr.

          --db PATH              SQLite file (created when missing; ":memory:" allowed).
                                 Default: $CREDENTIALS_RPC_DB, else
                                 $XDG_DATA_HOME/credentials-rpc/credentials.sqlite3, else
                                 ~/.local/share/credentials-rpc/credentials.sqlite3
          --max-message-bytes N  longest accepted line (default 16777216)
          --max-media-bytes N    largest media file, decoded (default 10485760)
          --log-level LEVEL      stderr verbosity (default warning)
          --tools SET            the MCP tools offered to AI hosts (default all): read-only,
                                 or groups by method prefix: users, tokens, credentialTypes,
                                 credentials, media, compliance, settings, audit,
                                 notifications, teams, session. Every method stays callable.

        CREDENTIALS_RPC_TOKEN: an API token's secret (tokens.create); the process signs in with
        it before its first request. A refused one is reported on stderr; the process then serves
        signed out.

        copy: copies every table, media byte and audit row of the store --from names into the
        store --to names (a SQLite path or a postgresql:// URI each; the target new or empty),
        in one transaction, then reads the target back and compares every table's row count
        and digest. A summary goes to stderr; the exit status is 0 only when everything matched.

        Exit status: 0 at end of input or on SIGTERM/SIGINT; 2 for a usage error or a database
        that cannot be opened. LSP exit: 0 after shutdown, else 1. copy: 0 when the copy
        matched, 1 when it failed or did not match, 2 for a usage error.

        """

    public static func parse(_ args: [String], environment env: [String: String]) -> Outcome {
        if args.first == "copy" { return parseCopy(Array(args.dropFirst())) }
        var options = CommandLineOptions(databasePath: defaultDatabasePath(environment: env))
        var i = 0
        func value(_ flag: String, inline: String?) -> String? {
            if let inline { return inline }
            i += 1
            return i < args.count ? args[i] : nil
        }
        while i < args.count {
            let arg = args[i]
            var flag = arg
            var inline: String? = nil
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
                flag = String(arg[..<eq])
                inline = String(arg[arg.index(after: eq)...])
            }
            switch flag {
            case "--help", "-h": return .help
            case "--version": return .version
            case "--db":
                guard let v = value(flag, inline: inline), !v.isEmpty else { return .usage("--db needs a path") }
                options.databasePath = v
            case "--max-message-bytes", "--max-media-bytes":
                guard let v = value(flag, inline: inline), let n = Int(v), n >= 1 else {
                    return .usage("\(flag) needs a whole number of bytes, at least 1")
                }
                if flag == "--max-message-bytes" { options.maxMessageBytes = n } else { options.maxMediaBytes = n }
            case "--log-level":
                guard let v = value(flag, inline: inline), let level = LogLevel(name: v) else {
                    return .usage("--log-level takes error, warning, info or debug")
                }
                options.logLevel = level
            case "--tools":
                guard let v = value(flag, inline: inline) else { return .usage("--tools needs all, read-only or a list of groups") }
                switch ToolSelection.parse(v) {
                case .success(let t): options.tools = t
                case .failure(let problem): return .usage(problem.message)
                }
            default:
                return .usage("unknown argument \(shown(arg)); see --help")
            }
            i += 1
        }
        let testOnly = testOnlyVariables.filter { env[$0].map { !$0.isEmpty } ?? false }
        if !testOnly.isEmpty && env[insecureTestingVariable] != "1" {
            return .usage("\(testOnly.joined(separator: " and ")) weaken the service and are for tests only; set \(insecureTestingVariable)=1 as well to use them")
        }
        options.insecureTestSettings = testOnly
        if let fixed = env["CREDENTIALS_RPC_FIXED_TIME"], !fixed.isEmpty {
            guard let ms = Timestamp.parse(fixed) else {
                return .usage("CREDENTIALS_RPC_FIXED_TIME must look like 2026-01-01T00:00:00.000Z")
            }
            options.fixedTimeMillis = ms
        }
        if let text = env["CREDENTIALS_RPC_PBKDF2_ITERATIONS"], !text.isEmpty {
            guard let n = Int(text), PasswordHasher.iterationRange.contains(n) else {
                return .usage("CREDENTIALS_RPC_PBKDF2_ITERATIONS must be a whole number from \(PasswordHasher.minimumIterations) to \(PasswordHasher.maximumIterations)")
            }
            options.passwordIterations = n
        }
        return .run(options)
    }

    /// An argument as a usage error names it: a flag's name, never a value, which may be a URI
    /// with a password.
    static func shown(_ arg: String) -> String {
        guard arg.hasPrefix("-") else { return "(a value without its flag, not shown)" }
        return String(arg.prefix { $0 != "=" }.prefix(40))
    }

    /// `copy --from DB --to DB`, each flag once, in either order, `--flag=value` too.
    static func parseCopy(_ args: [String]) -> Outcome {
        var from: String?, to: String?, i = 0
        while i < args.count {
            var flag = args[i], value: String?
            if let eq = flag.firstIndex(of: "="), flag.hasPrefix("--") {
                value = String(flag[flag.index(after: eq)...])
                flag = String(flag[..<eq])
            } else if i + 1 < args.count {
                i += 1
                value = args[i]
            }
            switch flag {
            case "--from" where from == nil: from = value
            case "--to" where to == nil: to = value
            default: return .usage("copy takes --from DB and --to DB, once each; not \(shown(flag))")
            }
            i += 1
        }
        guard let from, !from.isEmpty, let to, !to.isEmpty else { return .usage("copy needs --from DB and --to DB") }
        return .copy(from: from, to: to)
    }

    /// `$CREDENTIALS_RPC_DB`, else `$XDG_DATA_HOME/credentials-rpc/...` (an absolute XDG_DATA_HOME
    /// only, as the XDG spec says), else `~/.local/share/credentials-rpc/credentials.sqlite3`.
    public static func defaultDatabasePath(environment env: [String: String]) -> String {
        if let p = env["CREDENTIALS_RPC_DB"], !p.isEmpty { return p }
        let file = "credentials-rpc/credentials.sqlite3"
        if let xdg = env["XDG_DATA_HOME"], xdg.hasPrefix("/") { return xdg + "/" + file }
        let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "."
        return home + "/.local/share/" + file
    }
}
