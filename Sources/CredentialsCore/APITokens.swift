import CCrypto

/// An API token's secret (Protocol/README.md §6, API tokens): `crpc_` and 43 URL-safe characters, the base64url of 32
/// bytes from OpenSSL's CSPRNG. The fixed prefix lets secret scanners be taught the pattern
/// (`crpc_[A-Za-z0-9_-]{43}`). Only its SHA-256 digest is stored.
public enum TokenSecret {
    public static let prefix = "crpc_"
    public static let randomByteCount = 32
    /// base64url of 32 bytes, without padding.
    public static let encodedLength = 43
    public static var length: Int { prefix.utf8.count + encodedLength }

    /// The secret for 32 random bytes.
    public static func make(from bytes: [UInt8]) -> String {
        precondition(bytes.count == randomByteCount, "a token secret is made from \(randomByteCount) bytes")
        return prefix + Base64.encodeURLSafe(bytes)
    }

    /// Whether `text` has the shape of a secret the service makes. Says nothing of whether it is one.
    public static func isWellFormed(_ text: String) -> Bool {
        let bytes = text.utf8
        guard bytes.count == length, bytes.starts(with: prefix.utf8) else { return false }
        return bytes.dropFirst(prefix.utf8.count).allSatisfy(Base64.isURLSafe)
    }

    /// SHA-256 of the secret's bytes: what is stored and looked up. Any string has one, so a
    /// malformed or wrong secret costs the same digest and lookup as a right one, and how many of
    /// its characters match a real secret changes nothing a caller can time.
    public static func digest(_ text: String) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBufferPointer { crpc_sha256($0.baseAddress, $0.count, &out) }
        return out
    }

    /// Whether two digests are equal, in constant time.
    public static func digestsEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && CRYPTO_memcmp(a, b, a.count) == 0
    }

    /// `text` with anything shaped like a secret (`crpc_` and 16 or more characters of its
    /// alphabet, or any run of them that reaches the end, where an echo may have cut a secret)
    /// replaced by `crpc_[redacted]`: errors echo what a request held (an unknown id, a field
    /// name), and a careless client pastes a secret where an id belongs. Searched as bytes:
    /// a character that combines with the `c` must not hide it.
    public static func redact(_ text: String) -> String {
        let bytes = Array(text.utf8)
        let p = Array(prefix.utf8)
        guard bytes.count > p.count, bytes.firstRange(of: p) != nil else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i...].starts(with: p) {
                var j = i + p.count
                while j < bytes.count && Base64.isURLSafe(bytes[j]) { j += 1 }
                if j - i - p.count >= 16 || (j == bytes.count && j > i + p.count) {
                    out += Array("crpc_[redacted]".utf8)
                    i = j
                    continue
                }
            }
            out.append(bytes[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `text` holds something shaped like a secret.
    public static func holdsSecret(_ text: String) -> Bool { redact(text) != text }

    /// The last four characters, shown in lists so a person can tell tokens apart.
    public static func hint(_ secret: String) -> String { String(secret.suffix(4)) }
}

/// An API token as methods return it (never its secret or digest).
public struct APIToken: Equatable, Sendable {
    public enum Status: String, Sendable { case active, expired, revoked }

    public var id: String
    public var userID: String
    public var name: String
    public var hint: String
    public var createdAt: Int64
    public var expiresAt: Int64
    public var lastUsedAt: Int64?
    public var revokedAt: Int64?

    public init(id: String, userID: String, name: String, hint: String, createdAt: Int64, expiresAt: Int64,
                lastUsedAt: Int64? = nil, revokedAt: Int64? = nil) {
        self.id = id
        self.userID = userID
        self.name = name
        self.hint = hint
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }

    /// Revoked is final; otherwise expired from `expiresAt` on.
    public func status(at now: Int64) -> Status {
        if revokedAt != nil { return .revoked }
        return now >= expiresAt ? .expired : .active
    }
}

/// Who may hold and use API tokens (Protocol/README.md §6, API tokens): admins reach the API with keys; support users
/// cannot (Certn).
public enum TokenRules {
    public static let maxNameLength = 100
    public static let expiryDays = 1...3650
    public static let defaultExpiryDays = 365
    static let dayMillis: Int64 = 86_400_000

    public static func expiry(createdAt: Int64, days: Int) -> Int64 { createdAt + Int64(days) * dayMillis }

    public static let invalidToken = DomainError.unauthenticated(
        reason: "invalid_token", message: "The token is unknown or revoked, or its owner is not an active admin")
    public static let tokenExpired = DomainError.unauthenticated(reason: "token_expired", message: "The token has expired: make a new one")

    /// Why `token` may not sign in (or go on acting) now, or nil. A revoked token, or one whose
    /// owner is gone, deactivated or a support user (suspended until they are an active admin
    /// again), is `invalid_token`; an expired one `token_expired`.
    public static func refusal(_ token: APIToken, owner: User?, now: Int64) -> DomainError? {
        guard token.revokedAt == nil, let owner, owner.isActiveAdmin else { return invalidToken }
        return token.status(at: now) == .expired ? tokenExpired : nil
    }

    /// Certn's key reminders: 30, 7 and 1 days before expiry.
    public static let reminderOffsets = [30, 7, 1]

    /// The day the reminder `days` before the token's expiry is due on, when the token offers
    /// it at all: the expiry's UTC date minus `days`, if that day is neither before the day the
    /// token was made (a token made to last three days is not told it has 30 or 7 left) nor after
    /// its last working day, and the token is not revoked.
    public static func reminderDay(_ token: APIToken, days: Int) -> CalendarDate? {
        guard token.revokedAt == nil, reminderOffsets.contains(days) else { return nil }
        let due = CalendarDate.today(nowMillis: token.expiresAt).adding(days: -days)
        let madeOn = CalendarDate.today(nowMillis: token.createdAt)
        let lastWorkingDay = CalendarDate.today(nowMillis: token.expiresAt - 1)
        return due >= madeOn && due <= lastWorkingDay ? due : nil
    }

    /// The reminders due for `token` at `asOf`: each offered one whose day has come, while the
    /// token still works.
    public static func dueReminders(_ token: APIToken, asOf: CalendarDate) -> [(daysBefore: Int, dueDate: CalendarDate)] {
        guard asOf <= CalendarDate.today(nowMillis: token.expiresAt - 1) else { return [] }
        return reminderOffsets.compactMap { d in reminderDay(token, days: d).flatMap { $0 <= asOf ? (d, $0) : nil } }
    }
}
