/// The two roles of an integration user (from Certn): admins manage users, teams and settings;
/// support users view.
public enum Role: String, CaseIterable, Sendable {
    case admin, support
}

public enum UserStatus: String, CaseIterable, Sendable {
    case active, deactivated
}

/// The six permissions. Every one is on unless deselected.
public enum Permission: String, CaseIterable, Sendable {
    case createReports, viewReports, shareReports, viewApplications, createEditPackages, orderIndividualChecks

    var bit: Int { 1 << Permission.allCases.firstIndex(of: self)! }
}

/// A set of permissions, stored as a bit mask.
public struct Permissions: Equatable, Sendable {
    public private(set) var mask: Int

    public init(mask: Int) { self.mask = mask & Permissions.all.mask }
    public static let all = Permissions(uncheckedMask: (1 << Permission.allCases.count) - 1)
    public static let none = Permissions(uncheckedMask: 0)
    private init(uncheckedMask: Int) { mask = uncheckedMask }

    public func has(_ p: Permission) -> Bool { mask & p.bit != 0 }

    public subscript(p: Permission) -> Bool {
        get { has(p) }
        set { mask = newValue ? mask | p.bit : mask & ~p.bit }
    }

    /// `base` with the given choices applied; permissions not mentioned keep their value in `base`.
    public static func applying(_ choices: [Permission: Bool], to base: Permissions) -> Permissions {
        var p = base
        for (k, v) in choices { p[k] = v }
        return p
    }

    /// Whether every permission in `self` is also in `other`.
    public func isSubset(of other: Permissions) -> Bool { mask & ~other.mask == 0 }
}

/// An integration user as every method returns it. Never holds the password hash.
public struct User: Equatable, Sendable {
    public var id: String
    public var email: String
    public var firstName: String
    public var lastName: String
    public var role: Role
    public var permissions: Permissions
    public var status: UserStatus
    public var mustChangePassword: Bool
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(id: String, email: String, firstName: String, lastName: String, role: Role, permissions: Permissions,
                status: UserStatus, mustChangePassword: Bool, createdAt: Int64, updatedAt: Int64) {
        self.id = id
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.role = role
        self.permissions = permissions
        self.status = status
        self.mustChangePassword = mustChangePassword
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public var isActiveAdmin: Bool { role == .admin && status == .active }
}

/// Field rules for users: emails, names, the password policy.
public enum UserFields {
    public static let maxNameLength = 100
    public static let maxEmailLength = 254
    /// The most bytes an email's key (`TextRules.emailKey`) may have: 254 characters of 4 bytes.
    /// Characters can be longer (a letter under many combining marks), and a key over 2,704
    /// bytes is more than PostgreSQL's B-tree takes in the index that keeps emails unique.
    public static let maxEmailKeyBytes = maxEmailLength * 4
    public static let maxPasswordLength = 256

    /// The email as stored (trimmed of spaces, NFC) and its key for uniqueness (`TextRules.emailKey`),
    /// or the problem. Control and invisible format characters are refused, not trimmed.
    /// `toFind`: the email is only looked up (a sign-in, an import's row), so its key is not held
    /// to `maxEmailKeyBytes`, which came later than accounts whose keys may be longer.
    public static func email(_ raw: String, field: String = "email", toFind: Bool = false) throws(DomainError) -> (email: String, key: String) {
        if raw.utf8.allSatisfy({ $0 < 0x80 }) { return try asciiEmail(Array(raw.utf8), field: field) }
        return try unicodeEmail(raw, field: field, toFind: toFind)
    }

    /// The rules on any text, by scalars and graphemes.
    static func unicodeEmail(_ raw: String, field: String, toFind: Bool) throws(DomainError) -> (email: String, key: String) {
        if !TextRules.all(raw, { $0 == " " || TextRules.allowedInEmail($0) }) { throw refusedCharacters(field) }
        let email = TextRules.canonical(raw.trimmingWhitespace())
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= maxEmailLength else { throw tooLong(field) }
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
              TextRules.all(email, TextRules.allowedInEmail)
        else { throw notAnEmail(field) }
        let key = TextRules.emailKey(email)
        guard toFind || key.utf8.count <= maxEmailKeyBytes else { throw tooLong(field) }
        return (email, key)
    }

    /// The same rules, in the same order, on ASCII text byte by byte (there a byte is a
    /// character, and only spaces can be trimmed, the other whitespace being refused): an
    /// import checks an email a row, and the general path, by scalars and graphemes, was a
    /// fifth of checking a row.
    static func asciiEmail(_ raw: [UInt8], field: String) throws(DomainError) -> (email: String, key: String) {
        let space = UInt8(ascii: " "), at = UInt8(ascii: "@"), dot = UInt8(ascii: ".")
        if !raw.allSatisfy({ $0 == space || TextRules.allowedInEmail(ascii: $0) }) { throw refusedCharacters(field) }
        let start = raw.firstIndex { $0 != space } ?? raw.endIndex
        let end = (raw.lastIndex { $0 != space } ?? -1) + 1
        let email = start < end ? raw[start..<end] : []
        guard email.count <= maxEmailLength else { throw tooLong(field) }
        guard let sign = email.firstIndex(of: at), sign > email.startIndex else { throw notAnEmail(field) }
        let domain = email[(sign + 1)...]
        guard !domain.contains(at), domain.contains(dot), domain.first != dot, domain.last != dot,
              email.allSatisfy(TextRules.allowedInEmail(ascii:))
        else { throw notAnEmail(field) }
        let text = String(decoding: email, as: UTF8.self)
        return (text, text.lowercased())
    }

    private static func refusedCharacters(_ field: String) -> DomainError {
        .invalidField(field, "must not contain control, invisible or unassigned characters, nor any of \"(),:;<>[\\]")
    }
    private static func tooLong(_ field: String) -> DomainError {
        .invalidField(field, "must be at most \(maxEmailLength) characters, and \(maxEmailKeyBytes) bytes in UTF-8 once case-folded")
    }
    private static func notAnEmail(_ field: String) -> DomainError { .invalidField(field, "must be an email address such as name@example.com") }

    /// The key an email had before schema 8 (trimmed and lowercased, not normalized): what an
    /// account whose folded key another account took still has.
    public static func keyBeforeSchema8(_ raw: String) -> String { raw.trimmingWhitespace().lowercased() }

    /// A first or last name (or any short label), trimmed of spaces; 1 to `max` characters with no
    /// control character, no bidi control, and no format character but the joiners (`TextRules`).
    public static func name(_ raw: String, field: String, max: Int = maxNameLength) throws(DomainError) -> String {
        if !TextRules.all(raw, TextRules.allowedInName) {
            throw .invalidField(field, "must not contain control characters, bidi controls or invisible formatting characters")
        }
        let name = raw.trimmingWhitespace()
        if name.isEmpty { throw .invalidField(field, "must not be empty") }
        if name.count > max { throw .invalidField(field, "must be at most \(max) characters") }
        // A character can be many bytes (a letter under many combining marks), and a team's or a
        // type's folded name is a key PostgreSQL's unique index holds in at most 2,704 bytes.
        if name.utf8.count > max * 4 { throw .invalidField(field, "must be at most \(max * 4) bytes in UTF-8 (a character under many marks counts as many)") }
        if TextRules.startsWithCombiningMark(name) { throw .invalidField(field, "must not start with a combining mark") }
        return name
    }

    public static let passwordSymbols: Set<Character> = ["!", "@", "#", "$", "%", "^", "&", "*"]

    /// The password policy: every rule that fails, each as its own field issue.
    public static func passwordProblems(_ password: String, field: String) -> [FieldIssue] {
        var problems: [FieldIssue] = []
        if password.count < 8 { problems.append(FieldIssue(field, "must be at least 8 characters")) }
        if password.count > maxPasswordLength { problems.append(FieldIssue(field, "must be at most \(maxPasswordLength) characters")) }
        if !password.contains(where: { $0.isUppercase }) { problems.append(FieldIssue(field, "must contain an uppercase letter")) }
        if !password.contains(where: { $0.isASCII && $0.isNumber }) { problems.append(FieldIssue(field, "must contain a digit")) }
        if !password.contains(where: { passwordSymbols.contains($0) }) {
            problems.append(FieldIssue(field, "must contain one of !@#$%^&*"))
        }
        return problems
    }

    public static func checkPassword(_ password: String, field: String) throws(DomainError) {
        let problems = passwordProblems(password, field: field)
        if !problems.isEmpty { throw .invalid(reason: "password_policy", fields: problems) }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        // Most text has no whitespace at either end: returned as it is, not rebuilt scalar by scalar.
        if let f = scalars.first, let l = scalars.last, !f.properties.isWhitespace, !l.properties.isWhitespace { return self }
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
