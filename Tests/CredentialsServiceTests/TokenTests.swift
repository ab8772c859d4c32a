import Foundation
import Testing
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC

/// API tokens (contract §10): made by active admins, shown once, stored as digests, signing in
/// without a password, ending with revocation, expiry or the owner's demotion, in every process.
struct TokenTests {
    /// An organization on a file (so several connections share it), the admin signed in.
    static func organization(clock: TestClock = TestClock()) throws -> (root: TestClient, rootID: String, path: String) {
        let path = tempDatabasePath()
        let (root, rootID) = try bootstrap(Database(path: path), clock: clock)
        return (root, rootID, path)
    }

    static func connection(_ path: String, clock: TestClock = TestClock()) throws -> TestClient {
        TestClient(db: try Database(path: path), clock: clock)
    }

    @Test func createShowsTheSecretOnceAndListsAndRevokes() throws {
        let (root, rootID, path) = try Self.organization()
        let made = root.ok("tokens.create", ["name": "ci", "expiresInDays": 30])
        let secret = made["secret"]?.stringValue ?? ""
        #expect(TokenSecret.isWellFormed(secret) && secret.hasPrefix("crpc_") && secret.utf8.count == 48)
        let token = made["token"]!
        #expect(token["userId"] == .string(rootID) && token["name"] == "ci" && token["status"] == "active")
        #expect(token["hint"] == .string(String(secret.suffix(4))))
        #expect(token["expiresAt"] == "2026-01-31T00:00:00.000Z" && token["lastUsedAt"] == .null && token["revokedAt"] == .null)
        let second = root.ok("tokens.create", ["name": "rotation"])
        #expect(second["token"]?["expiresAt"] == "2027-01-01T00:00:00.000Z")  // 365 days by default
        #expect(second["secret"] != made["secret"])
        let listed = root.ok("tokens.list")["items"]?.arrayValue ?? []
        #expect(listed.count == 2 && listed[0] == token)
        #expect(!JSONWriter.string(root.ok("tokens.list")).contains(secret), "a list shows a secret")
        let revoked = root.ok("tokens.revoke", ["tokenId": token["id"]!])
        #expect(revoked["status"] == "revoked" && revoked["revokedAt"] == "2026-01-01T00:00:00.000Z")
        #expect(root.ok("tokens.revoke", ["tokenId": token["id"]!]) == revoked)  // again: unchanged
        let audit = root.ok("audit.list")["items"]?.arrayValue ?? []
        #expect(audit.filter { $0["action"] == "tokens.create" }.count == 2)
        #expect(audit.filter { $0["action"] == "tokens.revoke" }.count == 1)
        #expect(!JSONWriter.string(.array(audit)).contains(secret))
        // Neither secret is anywhere in the files; only digests are.
        for s in [secret, second["secret"]!.stringValue!] {
            let raw = (try Data(contentsOf: URL(fileURLWithPath: path))) + ((try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data())
            #expect(raw.range(of: Data(s.utf8)) == nil, "a secret in the database files")
            #expect(raw.range(of: Data(s.dropFirst(5).utf8)) == nil)
            #expect(raw.range(of: Data(TokenSecret.digest(s))) != nil, "the digest is what is stored")
        }
    }

    @Test func signingInWithATokenActsAsItsOwnerAndSetsLastUsedAtOnce() throws {
        let clock = TestClock()
        let (root, rootID, path) = try Self.organization(clock: clock)
        let secret = root.ok("tokens.create", ["name": "ci"])["secret"]!
        clock.advance(minutes: 5)
        let script = try Self.connection(path, clock: clock)
        let session = script.ok("session.login", ["token": secret])
        #expect(session["user"]?["id"] == .string(rootID) && session["mustChangePassword"] == false)
        clock.advance(minutes: 5)
        script.ok("users.list")
        let token = root.ok("tokens.list")["items"]![0]!
        #expect(token["lastUsedAt"] == "2026-01-01T00:05:00.000Z")  // the sign-in, not the later call
        #expect(root.ok("audit.list", ["actorId": .string(rootID)])["items"]?.arrayValue?.contains {
            $0["action"] == "session.login" && $0["detail"]?["tokenId"] == token["id"]
        } == true)
    }

    @Test("bad token strings are refused, changing nothing", arguments: [
        "", "crpc_", "crpc_" + String(repeating: "A", count: 43), "CRPC_" + String(repeating: "A", count: 43),
        "crpc_" + String(repeating: "A", count: 42) + "\u{0}", "crpc_" + String(repeating: "é", count: 43), "\u{1B}[2J", "x",
    ])
    func badTokens(token: String) throws {
        let (root, _, path) = try Self.organization()
        _ = root.ok("tokens.create", ["name": "ci"])
        let c = try Self.connection(path)
        let before = c.service.db.totalChanges
        #expect(c.failure("session.login", ["token": .string(token)]) == ErrorSummary(code: -32001, reason: "invalid_token"))
        #expect(c.service.db.totalChanges == before)
        #expect(c.failure("session.whoami")?.code == -32001)
    }

    @Test func malformedRequestsAreInvalidParams() throws {
        let (root, _, _) = try Self.organization()
        let secret = root.ok("tokens.create", ["name": "ci"])["secret"]!
        let invalid = ErrorSummary(code: -32602, reason: "invalid_params")
        #expect(root.failure("session.login", ["token": secret, "password": "x"]) == invalid)
        #expect(root.failure("session.login", ["token": secret, "email": "ada@example.com"]) == invalid)
        #expect(root.failure("session.login", ["token": .string(String(repeating: "x", count: 100_000))]) == invalid)
        #expect(root.failure("session.login", ["token": 5]) == invalid)
        #expect(root.failure("session.login", [:]) == invalid)
        for days in [0, -1, 3651] { #expect(root.failure("tokens.create", ["name": "x", "expiresInDays": .int(days)]) == invalid) }
        #expect(root.failure("tokens.create", ["name": .string(String(repeating: "n", count: 101))]) == invalid)
        #expect(root.failure("tokens.create", ["name": "   "]) == invalid)
        #expect(root.failure("tokens.create", ["name": "a\u{202E}b"]) == invalid)
        #expect(root.ok("tokens.list")["items"]?.arrayValue?.count == 1)
        #expect(root.failure("tokens.revoke", ["tokenId": "tok_nope"]) == ErrorSummary(code: -32003, reason: "not_found"))
    }

    @Test func supportUsersHaveNoTokensAndCannotTouchOthers() throws {
        let (root, rootID, _) = try Self.organization()
        let tokenID = root.ok("tokens.create", ["name": "ci"])["token"]!["id"]!
        root.addUser("sup@example.com")
        let support = TestClient(db: root.service.db)
        support.signInFirstTime("sup@example.com")
        #expect(support.failure("tokens.create", ["name": "mine"]) == ErrorSummary(code: -32002, reason: "forbidden"))
        #expect(support.ok("tokens.list")["items"]?.arrayValue?.isEmpty == true)
        #expect(support.failure("tokens.list", ["userId": .string(rootID)]) == ErrorSummary(code: -32002, reason: "forbidden"))
        #expect(support.failure("tokens.revoke", ["tokenId": tokenID]) == ErrorSummary(code: -32003, reason: "not_found"))
        #expect(root.ok("tokens.list")["items"]?[0]?["status"] == "active")
    }

    @Test func anAdminRevokesOnlyTheTokensOfUsersTheyCover() throws {
        let (root, _, _) = try Self.organization()
        let tokenID = root.ok("tokens.create", ["name": "ci"])["token"]!["id"]!
        root.addUser("lim@example.com", role: "admin", permissions: ["shareReports": false])
        let limited = TestClient(db: root.service.db)
        limited.signInFirstTime("lim@example.com")
        #expect(limited.failure("tokens.revoke", ["tokenId": tokenID]) == ErrorSummary(code: -32002, reason: "forbidden"))
        let own = limited.ok("tokens.create", ["name": "mine"])["token"]!["id"]!
        #expect(limited.ok("tokens.revoke", ["tokenId": own])["status"] == "revoked")
        #expect(root.ok("tokens.revoke", ["tokenId": tokenID])["status"] == "revoked")
    }

    /// Two connections on one file: what one does to the token or its owner ends the other's token
    /// session at its next call, and keeps the token from signing in until the owner is an active
    /// admin again.
    @Test func revocationDeactivationAndDemotionEndTokenSessionsEverywhere() throws {
        let (root, _, path) = try Self.organization()
        let ownerID = root.addUser("bot@example.com", role: "admin")
        let bot = TestClient(db: root.service.db)
        bot.signInFirstTime("bot@example.com")
        let made = bot.ok("tokens.create", ["name": "ci"])
        let secret = made["secret"]!
        func script() throws -> TestClient {
            let c = try Self.connection(path)
            #expect(c.failure("session.login", ["token": secret]) == nil)
            return c
        }
        let ended = ErrorSummary(code: -32001, reason: "unauthenticated")
        let invalid = ErrorSummary(code: -32001, reason: "invalid_token")

        var s = try script()
        root.ok("users.deactivate", ["userId": .string(ownerID)])
        #expect(s.failure("users.list") == ended)
        #expect(try Self.connection(path).failure("session.login", ["token": secret]) == invalid)
        root.ok("users.reactivate", ["userId": .string(ownerID)])
        s = try script()

        root.ok("users.update", ["userId": .string(ownerID), "role": "support"])
        #expect(s.failure("users.list") == ended)
        #expect(try Self.connection(path).failure("session.login", ["token": secret]) == invalid)
        root.ok("users.update", ["userId": .string(ownerID), "role": "admin"])
        s = try script()

        // A password reset revokes no token, and a token session is not held at the new
        // temporary password.
        root.ok("users.resetPassword", ["userId": .string(ownerID), "temporaryPassword": "Reset#1234"])
        #expect(s.failure("users.list") == nil)
        #expect(try script().failure("teams.list") == nil)

        root.ok("tokens.revoke", ["tokenId": made["token"]!["id"]!])
        #expect(s.failure("users.list") == ended)
        #expect(try Self.connection(path).failure("session.login", ["token": secret]) == invalid)
    }

    /// A session that made no call while its owner was deactivated or demoted does not come back
    /// when they are an active admin again: the token must sign in anew.
    @Test func aSessionDoesNotResumeWhenTheOwnerIsRestored() throws {
        let (root, _, path) = try Self.organization()
        let ownerID = root.addUser("bot@example.com", role: "admin")
        let bot = TestClient(db: root.service.db)
        bot.signInFirstTime("bot@example.com")
        let secret = bot.ok("tokens.create", ["name": "ci"])["secret"]!
        let ended = ErrorSummary(code: -32001, reason: "unauthenticated")
        let first = try Self.connection(path)
        #expect(first.failure("session.login", ["token": secret]) == nil)
        root.ok("users.deactivate", ["userId": .string(ownerID)])
        root.ok("users.reactivate", ["userId": .string(ownerID)])
        #expect(first.failure("users.list") == ended)
        let s = try Self.connection(path)
        #expect(s.failure("session.login", ["token": secret]) == nil)
        root.ok("users.update", ["userId": .string(ownerID), "role": "support"])
        root.ok("users.update", ["userId": .string(ownerID), "role": "admin"])
        #expect(s.failure("users.list") == ended)
        #expect(try Self.connection(path).failure("session.login", ["token": secret]) == nil)  // signs in anew
    }

    @Test func noErrorEchoesASecretAndNoNameHoldsOne() throws {
        let (root, _, _) = try Self.organization()
        let secret = root.ok("tokens.create", ["name": "ci"])["secret"]!.stringValue!
        let calls: [(String, JSON)] = [
            ("tokens.revoke", ["tokenId": .string(secret)]), ("tokens.list", ["userId": .string(secret)]),
            ("users.get", [.init(stringLiteral: secret): 1, "userId": "x"]), (secret, [:]),
            ("credentials.get", ["credentialId": .string("id-" + secret)]),
        ]
        for (method, params) in calls {
            let answer = JSONWriter.string(root.call(method, params))
            #expect(answer.contains("error") && !answer.contains(secret.dropFirst(5).prefix(16)), "\(method): \(answer)")
        }
        #expect(root.failure("tokens.create", ["name": .string("copy of " + secret)]) == ErrorSummary(code: -32602, reason: "invalid_params"))
        // A character that combines with the c does not hide it; nor does an echo cut inside it.
        for joined in ["\u{600}" + secret, "\u{D4E}" + secret] {
            let answer = JSONWriter.string(root.call("tokens.revoke", ["tokenId": .string(joined)]))
            #expect(!answer.contains(secret.dropFirst(5).prefix(8)), "\(answer)")
            #expect(root.failure("tokens.create", ["name": .string(joined)])?.code == -32602)
        }
        let cut = JSONWriter.string(root.call(String(repeating: "m", count: 190) + secret, [:]))
        #expect(!cut.contains(secret.dropFirst(5).prefix(5)), "\(cut)")
        #expect(TokenSecret.redact("a \(secret) b") == "a crpc_[redacted] b")
        #expect(TokenSecret.redact("crpc_short, and more") == "crpc_short, and more")
        #expect(TokenSecret.redact("cut at crpc_abc") == "cut at crpc_[redacted]")  // an echo cut inside a secret
    }

    /// Revoking a token must undo what it can do: a token session makes no more tokens and does
    /// not reach the owner's password.
    @Test func aTokenSessionCannotOutliveItsToken() throws {
        let (root, rootID, path) = try Self.organization()
        let secret = root.ok("tokens.create", ["name": "ci"])["secret"]!
        let s = try Self.connection(path)
        #expect(s.failure("session.login", ["token": secret]) == nil)
        let forbidden = ErrorSummary(code: -32002, reason: "forbidden")
        #expect(s.failure("tokens.create", ["name": "more"]) == forbidden)
        #expect(s.failure("session.changePassword", ["currentPassword": .string(adminPassword), "newPassword": "Taken#1234"]) == forbidden)
        #expect(s.failure("users.resetPassword", ["userId": .string(rootID), "temporaryPassword": "Taken#1234"]) == forbidden)
        #expect(root.ok("tokens.list")["items"]?.arrayValue?.count == 1)
        #expect(TestClient(db: root.service.db).failure("session.login", ["email": "ada@example.com", "password": .string(adminPassword)]) == nil)
    }

    @Test func anExpiredTokenIsRefusedAndEndsItsSession() throws {
        let clock = TestClock()
        let (root, _, path) = try Self.organization(clock: clock)
        let secret = root.ok("tokens.create", ["name": "short", "expiresInDays": 1])["secret"]!
        let s = try Self.connection(path, clock: clock)
        #expect(s.failure("session.login", ["token": secret]) == nil)
        clock.advance(minutes: 24 * 60)
        #expect(s.failure("users.list") == ErrorSummary(code: -32001, reason: "unauthenticated"))
        #expect(try Self.connection(path, clock: clock).failure("session.login", ["token": secret])
                == ErrorSummary(code: -32001, reason: "token_expired"))
        #expect(root.ok("tokens.list")["items"]?[0]?["status"] == "expired")
    }

    @Test func expiryRemindersAreDueOncePerOffset() throws {
        let clock = TestClock()
        let (root, rootID, _) = try Self.organization(clock: clock)
        let token = root.ok("tokens.create", ["name": "ci", "expiresInDays": 40])["token"]!
        let revoked = root.ok("tokens.create", ["name": "gone", "expiresInDays": 40])["token"]!
        root.ok("tokens.revoke", ["tokenId": revoked["id"]!])
        func tokenItems(_ asOf: String) -> [JSON] {
            (root.ok("notifications.due", ["asOf": .string(asOf)])["items"]?.arrayValue ?? []).filter { $0["kind"] == "token_expiring" }
        }
        #expect(tokenItems("2026-01-10").isEmpty)  // 31 days left
        let first = tokenItems("2026-01-11")
        #expect(first.count == 1)
        #expect(first.first == [
            "id": .string("\(token["id"]!.stringValue!):token:30"), "kind": "token_expiring", "tokenId": token["id"]!,
            "tokenName": "ci", "userId": .string(rootID), "email": "ada@example.com", "expiresAt": "2026-02-10T00:00:00.000Z",
            "daysBefore": 30, "dueDate": "2026-01-11", "recipient": ["userId": .string(rootID), "email": "ada@example.com", "reason": "holder"],
        ])
        #expect(root.ok("notifications.markSent", ["ids": [first[0]["id"]!]])["marked"] == 1)
        #expect(tokenItems("2026-01-20").isEmpty)
        #expect(tokenItems("2026-02-03").map { $0["daysBefore"] } == [7])
        #expect(tokenItems("2026-02-09").map { $0["daysBefore"] } == [7, 1])
        #expect(root.ok("notifications.markSent", ["ids": .array(tokenItems("2026-02-09").map { $0["id"]! })])["marked"] == 2)
        #expect(tokenItems("2026-02-09").isEmpty)
        #expect(tokenItems("2026-02-10").isEmpty)  // expired: nothing more to remind of
        #expect(root.failure("notifications.markSent", ["ids": ["tok_nope:token:7"]])?.code == -32602)
        // A revoked token offers nothing to mark; a token made to last one day offers its 1-day
        // reminder on the day it is made.
        #expect(root.failure("notifications.markSent", ["ids": .array([.string("\(revoked["id"]!.stringValue!):token:7")])])?.code == -32602)
        clock.millis = Timestamp.parse("2026-03-01T00:00:00.000Z")!
        let oneDay = root.ok("tokens.create", ["name": "short", "expiresInDays": 1])["token"]!
        #expect(tokenItems("2026-03-01").map { $0["tokenId"] } == [oneDay["id"]!])
        #expect(root.failure("notifications.markSent", ["ids": .string("\(token["id"]!.stringValue!):token:5")])?.code == -32602)
    }

    @Test func theCoreRules() {
        let bytes = (0..<32).map { UInt8($0) }
        let secret = TokenSecret.make(from: bytes)
        #expect(secret == "crpc_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")  // base64url of 00..1f, unpadded
        #expect(Data(base64Encoded: String(secret.dropFirst(5)) + "=") == Data(bytes))
        #expect(TokenSecret.digestsEqual(TokenSecret.digest(secret), TokenSecret.digest(secret)))
        #expect(!TokenSecret.digestsEqual(TokenSecret.digest(secret), TokenSecret.digest(secret + "x")))
        let live = Dependencies.live().secretBytes(32)
        #expect(live.count == 32 && live != Dependencies.live().secretBytes(32))
    }
}

/// `CREDENTIALS_RPC_TOKEN`: the process signs in before its first request.
struct TokenEnvironmentTests {
    @Test func aGoodTokenSignsTheProcessInAndABadOneSaysWhyWithoutTheSecret() throws {
        let path = tempDatabasePath()
        let (root, rootID) = try bootstrap(Database(path: path))
        let secret = root.ok("tokens.create", ["name": "ci"])["secret"]!.stringValue!
        let whoami = Array(#"{"jsonrpc":"2.0","id":1,"method":"session.whoami"}"#.utf8) + [0x0A]
        let good = try runService(["--db", path], input: whoami, environment: ["CREDENTIALS_RPC_TOKEN": secret])
        #expect(try JSONParser.parse(good.lines[0]).value["result"]?["user"]?["id"] == .string(rootID))
        #expect(good.stderr.isEmpty)
        let wrong = "crpc_" + String(repeating: "Z", count: 43)
        let bad = try runService(["--db", path], input: whoami, environment: ["CREDENTIALS_RPC_TOKEN": wrong])
        #expect(try JSONParser.parse(bad.lines[0]).value["error"]?["code"] == -32001)
        let lines = bad.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("invalid_token"), "\(bad.stderr)")
        #expect(!bad.stderr.contains(wrong) && !bad.stderr.contains("ZZZZ"))
        #expect(bad.status == 0)
    }
}
