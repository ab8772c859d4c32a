import Testing
@testable import CredentialsCore

func makeUser(_ id: String, _ role: Role, _ permissions: Permissions = .all, status: UserStatus = .active) -> User {
    User(id: id, email: "\(id)@example.com", firstName: "F", lastName: "L", role: role, permissions: permissions,
         status: status, mustChangePassword: false, createdAt: 0, updatedAt: 0)
}

struct PasswordPolicyTests {
    @Test("each rule that fails is named", arguments: [
        ("Secret#123", []),
        ("Sh#1a", ["must be at least 8 characters"]),
        ("secret#123", ["must contain an uppercase letter"]),
        ("Secret#abc", ["must contain a digit"]),
        ("Secret1234", ["must contain one of !@#$%^&*"]),
        ("Secret-123", ["must contain one of !@#$%^&*"]),
        ("short", ["must be at least 8 characters", "must contain an uppercase letter", "must contain a digit", "must contain one of !@#$%^&*"]),
        ("", ["must be at least 8 characters", "must contain an uppercase letter", "must contain a digit", "must contain one of !@#$%^&*"]),
        ("ÉCOLE#1é", []),  // a non-ASCII uppercase letter counts
        ("Secret#١٢٣", ["must contain a digit"]),  // Arabic-Indic digits are not the digits the policy means
        ("A1!" + String(repeating: "x", count: 254), ["must be at most 256 characters"]),
    ] as [(String, [String])])
    func policy(password: String, failures: [String]) {
        let problems = UserFields.passwordProblems(password, field: "temporaryPassword")
        #expect(problems.map(\.message) == failures)
        #expect(problems.allSatisfy { $0.field == "temporaryPassword" })
    }

    @Test func checkPasswordThrowsPasswordPolicyWithEveryRule() {
        do {
            try UserFields.checkPassword("abc", field: "newPassword")
            Issue.record("accepted")
        } catch {
            guard case .invalid(let reason, let fields) = error else { Issue.record("wrong error"); return }
            #expect(reason == "password_policy")
            #expect(fields.count == 4)
        }
    }
}

struct UserFieldTests {
    @Test("emails are trimmed and keyed without case", arguments: [
        ("  Ada@Example.COM ", "Ada@Example.COM", "ada@example.com"),
        ("a.b+c@sub.example.org", "a.b+c@sub.example.org", "a.b+c@sub.example.org"),
        ("ÉLISE@exemple.fr", "ÉLISE@exemple.fr", "élise@exemple.fr"),
    ])
    func validEmails(raw: String, email: String, key: String) throws {
        let e = try UserFields.email(raw)
        #expect(e.email == email)
        #expect(e.key == key)
    }

    @Test("not an email", arguments: ["", "ada", "@example.com", "ada@", "ada@example", "a@b@c.com", "ada @example.com",
                                        "ada@.com", "ada@example.", "ad\u{0}a@example.com", String(repeating: "a", count: 250) + "@b.co"])
    func invalidEmails(raw: String) {
        #expect(throws: DomainError.self) { try UserFields.email(raw) }
    }

    /// The ASCII path gives what the general path gives, value or error, for every string of
    /// a seeded random walk over the characters that matter (spaces, `@`, `.`, specials, controls).
    @Test func asciiEmailsAreCheckedAsAnyTextIs() {
        let alphabet = Array(" @.a.Z9_-+\"(,;<[\\]\t\u{7F}\u{1}".utf8)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) % n }
        func outcome(_ f: () throws(DomainError) -> (email: String, key: String)) -> String {
            do { let r = try f(); return "ok \(r.email) \(r.key)" } catch { return "\(error)" }
        }
        var samples = ["", " ", "a@b.c", " Ada@Example.COM ", "a@b.", "a@.b", "@b.c", "a@@b.c", "a b@c.d", String(repeating: "a", count: 250) + "@b.cd"]
        for _ in 0..<20_000 { samples.append(String(decoding: (0..<next(12)).map { _ in alphabet[next(alphabet.count)] }, as: UTF8.self)) }
        for raw in samples {
            let ascii = outcome { () throws(DomainError) in try UserFields.asciiEmail(Array(raw.utf8), field: "email") }
            let general = outcome { () throws(DomainError) in try UserFields.unicodeEmail(raw, field: "email", toFind: false) }
            if ascii != general { Issue.record("\(Array(raw.utf8)): \(ascii) vs \(general)"); return }
        }
    }

    @Test func namesAreTrimmedAndBounded() throws {
        #expect(try UserFields.name("  Ada  ", field: "firstName") == "Ada")
        #expect(try UserFields.name(String(repeating: "é", count: 100), field: "firstName").count == 100)
        for bad in ["", "   ", String(repeating: "x", count: 101), "A\u{7}da", "A\nda"] {
            #expect(throws: DomainError.self) { try UserFields.name(bad, field: "lastName") }
        }
    }

    @Test func permissionsDefaultToAllAndApplyChoices() {
        #expect(Permission.allCases.allSatisfy { Permissions.all.has($0) })
        let p = Permissions.applying([.shareReports: false, .viewReports: false], to: .all)
        #expect(!p.has(.shareReports) && !p.has(.viewReports) && p.has(.createReports))
        #expect(p.isSubset(of: .all))
        #expect(!Permissions.all.isSubset(of: p))
        #expect(Permissions.applying([.shareReports: true], to: p).has(.shareReports))
        #expect(Permissions(mask: p.mask) == p)
        #expect(Permissions(mask: -1) == .all)
    }
}

struct UserRulesTests {
    let admin = makeUser("a", .admin)
    let admin2 = makeUser("b", .admin)
    let support = makeUser("s", .support, Permissions.applying([.viewReports: false], to: .all))

    @Test func onlyAdminsManage() {
        #expect(throws: DomainError.forbidden("Only admins may do this")) { try UserRules.requireAdmin(support) }
        #expect(throws: Never.self) { try UserRules.requireAdmin(admin) }
    }

    @Test func nobodyRaisesTheirOwnRoleOrPermissions() {
        let limitedAdmin = makeUser("l", .admin, Permissions.applying([.shareReports: false], to: .all))
        #expect(throws: DomainError.self) {
            try UserRules.checkUpdate(actor: limitedAdmin, target: limitedAdmin, role: nil, permissions: .all, activeAdmins: 2)
        }
        // Lowering one's own permissions is fine.
        #expect(throws: Never.self) {
            try UserRules.checkUpdate(actor: limitedAdmin, target: limitedAdmin, role: nil,
                                      permissions: Permissions.applying([.viewReports: false, .shareReports: false], to: .all), activeAdmins: 2)
        }
    }

    @Test func anAdminGrantsOnlyWhatTheyHold() {
        let limitedAdmin = makeUser("l", .admin, Permissions.applying([.shareReports: false], to: .all))
        #expect(throws: DomainError.self) { try UserRules.checkGrant(actor: limitedAdmin, granting: .all) }
        #expect(throws: Never.self) {
            try UserRules.checkGrant(actor: limitedAdmin, granting: Permissions.applying([.shareReports: false], to: .all))
        }
        // A target who holds a permission the admin lacks cannot be changed by that admin at all
        // (contract §14), even to take something else away; one who does not hold it can be.
        #expect(throws: DomainError.self) {
            try UserRules.checkUpdate(actor: limitedAdmin, target: support, role: nil, permissions: Permissions.applying([.viewReports: false], to: .all), activeAdmins: 2)
        }
        let lesser = makeUser("s2", .support, Permissions.applying([.shareReports: false], to: .all))
        #expect(throws: Never.self) {
            try UserRules.checkUpdate(actor: limitedAdmin, target: lesser, role: nil,
                                      permissions: Permissions.applying([.viewReports: false, .shareReports: false], to: .all), activeAdmins: 2)
        }
    }

    @Test func theLastActiveAdminStays() {
        #expect(throws: DomainError.conflict(reason: "last_admin", message: "The last active admin cannot be demoted")) {
            try UserRules.checkUpdate(actor: admin, target: admin, role: .support, permissions: nil, activeAdmins: 1)
        }
        #expect(throws: Never.self) { try UserRules.checkUpdate(actor: admin, target: admin2, role: .support, permissions: nil, activeAdmins: 2) }
        #expect(throws: DomainError.conflict(reason: "last_admin", message: "The last active admin cannot be deactivated")) {
            try UserRules.checkDeactivate(actor: admin, target: admin, activeAdmins: 1)
        }
        #expect(throws: Never.self) { try UserRules.checkDeactivate(actor: admin, target: support, activeAdmins: 1) }
        #expect(throws: Never.self) { try UserRules.checkDeactivate(actor: admin, target: admin2, activeAdmins: 2) }
    }
}

struct LoginThrottleTests {
    @Test func fiveFailuresLockForFifteenMinutes() {
        var failures = 0
        var locked: Int64? = nil
        for i in 1...5 {
            let next = LoginThrottle.afterFailure(failures: failures, lockedUntil: locked, now: 1000)
            failures = next.failures
            locked = next.lockedUntil
            #expect(next.locked == (i == 5))
        }
        #expect(locked == Optional(Int64(1000 + 15 * 60 * 1000)))
        #expect(LoginThrottle.isLocked(until: locked, now: 1000 + 15 * 60 * 1000 - 1))
        #expect(!LoginThrottle.isLocked(until: locked, now: 1000 + 15 * 60 * 1000))
        // After the lock runs out, counting starts again from one.
        let after = LoginThrottle.afterFailure(failures: failures, lockedUntil: locked, now: locked!)
        #expect(after.failures == 1 && after.lockedUntil == nil && !after.locked)
    }
}

struct PasswordHasherTests {
    let hasher = PasswordHasher(iterations: 1000)

    @Test func hashesAreSaltedSelfDescribingAndVerify() {
        let a = hasher.hash("Secret#123")
        let b = hasher.hash("Secret#123")
        #expect(a != b)
        #expect(a.hasPrefix("pbkdf2-sha256$1000$"))
        #expect(!a.contains("Secret#123"))
        #expect(a.split(separator: "$").count == 4)
        #expect(hasher.verify("Secret#123", against: a))
        #expect(!hasher.verify("Secret#124", against: a))
        #expect(!hasher.verify("", against: a))
        #expect(!hasher.verify("Secret#123", against: "garbage"))
    }

    @Test func matchesAKnownPBKDF2Vector() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, dkLen=64 begins 55 ac 04 6e.
        let out = hasher.derive("passwd", salt: Array("salt".utf8), iterations: 1)
        #expect(Array(out.prefix(4)) == [0x55, 0xAC, 0x04, 0x6E])
    }

    @Test func theCostCanRiseWithoutBreakingOldHashes() {
        let old = hasher.hash("Secret#123")
        let stronger = PasswordHasher(iterations: 2000)
        #expect(stronger.verify("Secret#123", against: old))
        #expect(stronger.needsUpgrade(old))
        #expect(!stronger.needsUpgrade(stronger.hash("Secret#123")))
        #expect(!hasher.needsUpgrade(stronger.hash("x")))
    }

    @Test func neverBelowTheFloor() {
        #expect(PasswordHasher(iterations: 1).iterations == 1000)
        #expect(PasswordHasher().iterations == 600_000)
    }

    @Test func everyVerificationCostsOneDerivation() {
        var h = hasher
        let counter = DerivationCounter()
        h.counter = counter
        let stored = h.hash("Secret#123")
        counter.count = 0
        _ = h.verify("Secret#123", against: stored)
        _ = h.verify("wrong", against: stored)
        _ = h.verify("wrong", against: "not a hash")
        h.verifyNothing("wrong")
        #expect(counter.count == 4)
    }
}
