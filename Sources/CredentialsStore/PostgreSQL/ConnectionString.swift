import CPostgres

/// Where the store lives, as `--db` or `CREDENTIALS_RPC_DB` names it (contract §13): a libpq URI
/// (`postgresql://` or `postgres://`) is a PostgreSQL database, anything else a SQLite file.
public enum StoreLocation: Equatable, Sendable {
    case sqlite(path: String)
    case postgresql(ConnectionString)

    /// Throws for a string that looks like a PostgreSQL URI but is not one libpq would take,
    /// rather than making a SQLite file of that name (a password inside a file path).
    /// Also refused: what looks like a connection string but is no URI libpq would read as one
    /// (a URI after a space, `postgresql:/...`, libpq's `key=value` form), which would otherwise be
    /// a file path holding its password.
    public init(_ text: String) throws {
        if ConnectionString.looksLikeURI(text) {
            self = .postgresql(try ConnectionString(text))
            return
        }
        let head = text.drop { $0 == " " || $0 == "\t" }.lowercased()
        if head.hasPrefix("postgres") && head.contains(":") {  // a URI after spaces, `postgresql:/x`, ...
            throw ConnectionString.Problem(message: "--db looks like a PostgreSQL URI but is not one: write postgresql://... with nothing before it; the value given is not shown")
        }
        if head.contains("password=") || head.contains("host=") || head.contains("dbname=") {
            throw ConnectionString.Problem(message: "--db looks like a libpq key=value connection string, which is not taken: write it as a postgresql:// URI; the value given is not shown")
        }
        self = .sqlite(path: text)
    }

    /// How logs and errors name the store: the file's path, or the URI with its password hidden.
    public var displayName: String {
        switch self {
        case .sqlite(let path): return path
        case .postgresql(let uri): return uri.redacted
        }
    }
}

/// A libpq connection URI. The text itself goes to libpq and nowhere else: `description` and
/// `redacted` hide the password (the userinfo's, or a `password` parameter's), and `scrub`
/// removes it from any message, libpq's own included, that might quote it.
public struct ConnectionString: Equatable, Sendable, CustomStringConvertible {
    /// The URI as given: for libpq only.
    let text: String
    /// The URI with every password replaced by `***`.
    public let redacted: String
    /// The password as written and as decoded: text no message may contain.
    let secrets: [String]

    public var description: String { redacted }

    /// A URI libpq refuses, in words that never show its password.
    public struct Problem: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    static let schemes = ["postgresql://", "postgres://"]

    /// Whether `text` begins like a PostgreSQL URI, in any letter case: such a string is never
    /// taken as a file name.
    public static func looksLikeURI(_ text: String) -> Bool {
        let head = text.prefix(13).lowercased()
        return schemes.contains { head.hasPrefix($0) }
    }

    /// A URI libpq cannot read is refused without being shown, nor is libpq's reason, which
    /// quotes the text it stopped at: where the password of a malformed URI ends is anyone's guess.
    public init(_ text: String) throws {
        self.text = text
        let form = "postgresql://user@host:port/dbname?parameter=value"
        // libpq reads the scheme in lower case only; anything else it would take as a host name.
        guard Self.schemes.contains(where: text.hasPrefix) else {
            throw Problem(message: "a PostgreSQL URI must begin postgresql:// or postgres://, in lower case, as libpq reads it (\(form)); the one given is not shown")
        }
        guard let options = PQconninfoParse(text, nil) else {
            throw Problem(message: "not a connection URI libpq accepts (\(form)); the one given is not shown, since it may hold a password")
        }
        var (shown, secrets) = Self.redact(text)
        // libpq's own reading of the passwords, decoded, whatever way the URI spelt them.
        var option = options
        while let keyword = option.pointee.keyword {
            let name = String(cString: keyword)
            if name == "password" || name == "sslpassword", let value = option.pointee.val { secrets.append(String(cString: value)) }
            option += 1
        }
        PQconninfoFree(options)
        secrets = Array(Set(secrets.filter { !$0.isEmpty })).sorted { ($0.count, $0) > ($1.count, $1) }
        self.secrets = secrets
        for s in secrets { shown = shown.replacingAll(s, with: "***") }
        redacted = shown
    }

    /// `message` with every form of the password replaced by `***`.
    public func scrub(_ message: String) -> String {
        secrets.reduce(message) { $0.replacingAll($1, with: "***") }
    }

    /// The URI with its passwords hidden, and the passwords themselves (raw and percent-decoded).
    /// libpq ends the userinfo at the first `@` before the first `/` (a `?` does not end it); the
    /// hiding goes on to the last `@` there, so a password that holds `@` is hidden whole too. A
    /// `password` or `sslpassword` parameter may be spelt with percent escapes, since libpq
    /// decodes parameter names.
    static func redact(_ text: String) -> (String, [String]) {
        guard let scheme = schemes.first(where: { text.lowercased().hasPrefix($0) }) else { return (text, []) }
        var secrets: [String] = []
        let rest = text.dropFirst(scheme.count)
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = String(rest[..<authorityEnd])
        if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
            let password = String(authority[authority.index(after: colon)..<at])
            secrets += [password, percentDecoded(password)]
            authority = String(authority[...colon]) + "***" + String(authority[at...])
        }
        var tail = String(rest[authorityEnd...])
        if !authority.contains("@"), let q = authority.firstIndex(of: "?") {
            tail = String(authority[q...]) + tail
            authority = String(authority[..<q])
        }
        if let q = tail.firstIndex(of: "?") {
            let parameters = tail[tail.index(after: q)...].split(separator: "&", omittingEmptySubsequences: false).map { p -> String in
                guard let eq = p.firstIndex(of: "="), ["password", "sslpassword"].contains(percentDecoded(String(p[..<eq]))) else { return String(p) }
                let value = String(p[p.index(after: eq)...])
                secrets += [value, percentDecoded(value)]
                return p[...eq] + "***"
            }
            tail = String(tail[...q]) + parameters.joined(separator: "&")
        }
        return (text.prefix(scheme.count) + authority + tail, secrets.filter { !$0.isEmpty }.sorted { $0.count > $1.count })
    }

    /// `%XX` escapes decoded; a malformed escape is kept as written (libpq refuses it later).
    static func percentDecoded(_ s: String) -> String {
        var out: [UInt8] = [], bytes = Array(s.utf8), i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let h = PostgresDialect.hexDigit(bytes[i + 1]), let l = PostgresDialect.hexDigit(bytes[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while s.last == "\n" || s.last == "\r" { s = s.dropLast() }
        return String(s)
    }

    /// Every occurrence of `target` replaced, without Foundation.
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = "", rest = Substring(self)
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound] + replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
