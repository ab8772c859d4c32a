import Foundation
import Testing
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC

/// Who may manage whom (contract §14): an admin changes another user only while holding every
/// permission that user has, before and after the change. Every pair of permission subsets, in
/// the core rule and through the service.
struct ManagingUsersTests {
    static func user(_ id: String, role: Role = .admin, mask: Int) -> User {
        User(id: id, email: "\(id)@example.com", firstName: "A", lastName: "B", role: role, permissions: Permissions(mask: mask),
             status: .active, mustChangePassword: false, createdAt: 0, updatedAt: 0)
    }

    @Test func theCoreRuleOverEverySubsetOfActorTargetAndResult() {
        let all = Permissions.all.mask
        for a in 0...all {
            let actor = Self.user("actor", mask: a)
            for t in 0...all {
                let target = Self.user("target", mask: t)
                for u in 0...all {
                    let allowed = (t | u) & ~a == 0
                    var after = target
                    after.permissions = Permissions(mask: u)
                    let refused = (try? UserRules.checkManage(actor: actor, target: target, after: after)) == nil
                    #expect(refused == !allowed, "actor \(a) target \(t) -> \(u)")
                }
                // A support user can manage nobody, whatever they hold.
                #expect((try? UserRules.checkManage(actor: Self.user("s", role: .support, mask: a), target: target)) == nil)
            }
        }
    }

    /// 64 admins, one for each subset of the six permissions, each acting on every other.
    @Test func everyAdminSubsetActingOnEveryOtherThroughTheService() throws {
        let (root, _) = try bootstrap()
        let masks = Array(0...Permissions.all.mask)
        var ids: [Int: String] = [:]
        for m in masks {
            var choices = JSONObject()
            for p in Permission.allCases { choices[p.rawValue] = .bool(Permissions(mask: m).has(p)) }
            ids[m] = root.addUser("a\(m)@example.com", role: "admin", permissions: .object(choices))
        }
        var actors: [Int: TestClient] = [:]
        for a in masks {
            actors[a] = TestClient(db: root.service.db)
            actors[a]!.signInFirstTime("a\(a)@example.com")
        }
        let before = root.ok("users.list", ["limit": 1000])
        for a in masks {
            let actor = actors[a]!
            for t in masks where t != a {
                let allowed = t & ~a == 0
                let target = JSON.string(ids[t]!)
                let cell = "admin \(a) on admin \(t)"
                let expected: ErrorSummary? = allowed ? nil : ErrorSummary(code: -32002, reason: "forbidden")
                // Changes that change nothing still need the right to manage the user.
                #expect(actor.failure("users.update", ["userId": target, "firstName": "Sam"]) == expected, "\(cell)")
                #expect(actor.failure("users.reactivate", ["userId": target]) == expected, "\(cell)")
                if !allowed {
                    #expect(actor.failure("users.resetPassword", ["userId": target, "temporaryPassword": "Reset#1234"]) == expected, "\(cell)")
                    #expect(actor.failure("users.deactivate", ["userId": target]) == expected, "\(cell)")
                    #expect(actor.failure("users.update", ["userId": target, "role": "support"]) == expected, "\(cell)")
                    #expect(actor.failure("users.update", ["userId": target, "permissions": ["viewReports": false]]) == expected, "\(cell)")
                }
            }
        }
        let after = root.ok("users.list", ["limit": 1000])
        #expect(after == before, "a refused change changed a user")
    }

    /// The observed takeover: an admin with every permission deselected.
    @Test func anAdminWithoutPermissionsCannotTakeOverPromoteOrLockOut() throws {
        let (root, rootID) = try bootstrap()
        var off = JSONObject()
        for p in Permission.allCases { off[p.rawValue] = false }
        let none = JSON.object(off)
        root.addUser("bare@example.com", role: "admin", permissions: none)
        let supportID = root.addUser("sup@example.com", role: "support")
        let bare = TestClient(db: root.service.db)
        bare.signInFirstTime("bare@example.com")
        let forbidden = ErrorSummary(code: -32002, reason: "forbidden")
        #expect(bare.failure("users.resetPassword", ["userId": .string(rootID), "temporaryPassword": "Takeover#1"]) == forbidden)
        #expect(bare.failure("users.update", ["userId": .string(supportID), "role": "admin"]) == forbidden)
        #expect(bare.failure("users.update", ["userId": .string(rootID), "role": "support"]) == forbidden)
        #expect(bare.failure("users.deactivate", ["userId": .string(rootID)]) == forbidden)
        // The full admin still signs in with the old password.
        let again = TestClient(db: root.service.db)
        #expect(again.failure("session.login", ["email": "ada@example.com", "password": .string(adminPassword)]) == nil)
        #expect(again.ok("session.whoami")["user"]?["role"] == "admin")
        // What the bare admin may still do: manage users who hold nothing, and itself.
        let emptyID = bare.ok("users.add", ["email": "empty@example.com", "firstName": "E", "lastName": "M", "role": "support",
                                            "permissions": none, "temporaryPassword": .string(tempPassword)])["id"]!
        #expect(bare.failure("users.update", ["userId": emptyID, "role": "admin"]) == nil)
        #expect(bare.failure("users.deactivate", ["userId": emptyID]) == nil)
    }
}

/// The organization never loses a permission for good: since an admin grants only what they
/// hold, removing the last active admin who holds one would make it impossible to grant again.
struct LastHolderOfAPermissionTests {
    @Test func theLastActiveAdminHoldingAPermissionStays() throws {
        let (root, rootID) = try bootstrap()
        let limitedID = root.addUser("lim@example.com", role: "admin", permissions: ["createEditPackages": false])
        let last = ErrorSummary(code: -32004, reason: "last_admin")
        #expect(root.failure("users.deactivate", ["userId": .string(rootID)]) == last)
        #expect(root.failure("users.update", ["userId": .string(rootID), "role": "support"]) == last)
        #expect(root.failure("users.update", ["userId": .string(rootID), "permissions": ["createEditPackages": false]]) == last)
        // Another holder makes each of them possible.
        root.ok("users.update", ["userId": .string(limitedID), "permissions": ["createEditPackages": true]])
        #expect(root.failure("users.update", ["userId": .string(rootID), "permissions": ["createEditPackages": false]]) == nil)
        // Now the other admin is the last holder: it cannot drop it either (and root, without it,
        // may no longer manage that admin at all).
        let limited = TestClient(db: root.service.db)
        limited.signInFirstTime("lim@example.com")
        #expect(limited.failure("users.update", ["userId": .string(limitedID), "permissions": ["createEditPackages": false]]) == last)
        #expect(root.failure("users.update", ["userId": .string(limitedID), "permissions": ["createEditPackages": false]])
                == ErrorSummary(code: -32002, reason: "forbidden"))
    }

    @Test func changingAnotherUsersReminderSettingsNeedsTheirPermissions() throws {
        let (root, rootID) = try bootstrap()
        root.addUser("lim@example.com", role: "admin", permissions: ["viewReports": false])
        let limited = TestClient(db: root.service.db)
        limited.signInFirstTime("lim@example.com")
        #expect(limited.failure("notifications.updateSettings", ["userId": .string(rootID), "enabled": false])
                == ErrorSummary(code: -32002, reason: "forbidden"))
        #expect(root.ok("notifications.getSettings")["enabled"] == true)
        #expect(limited.failure("notifications.getSettings", ["userId": .string(rootID)]) == nil)  // reading stays open to admins
    }
}

/// Authorization decided inside the write's transaction, on the caller as committed (contract §14):
/// another connection changes the caller after the request's checks and before its write.
struct CallerChangedMidRequestTests {
    /// A second connection to one file, whose id generator (called by the handlers after their
    /// checks and before their write) first runs `between` once.
    final class Gap: @unchecked Sendable {
        var between: (() -> Void)?
    }

    static func clients() throws -> (root: TestClient, y: TestClient, yID: String, gap: Gap) {
        let path = tempDatabasePath()
        let (root, _) = try bootstrap(Database(path: path))
        let yID = root.addUser("y@example.com", role: "admin")
        root.addUser("z@example.com", role: "support")
        let gap = Gap()
        let ids = TimeOrderedIDs()
        let clock = TestClock()
        let deps = Dependencies(nowMillis: { clock.millis }, newID: { prefix in
            if let run = gap.between { gap.between = nil; run() }
            return ids.next(prefix: prefix, millis: clock.millis)
        })
        let y = TestClient(wrapping: Service(db: try Database(path: path), deps: deps, config: testConfig()))
        y.signInFirstTime("y@example.com")
        return (root, y, yID, gap)
    }

    @Test func deactivatedAfterTheChecksTheAddIsRefusedAndNothingWritten() throws {
        let (root, y, yID, gap) = try Self.clients()
        gap.between = { root.ok("users.deactivate", ["userId": .string(yID)]) }
        let outcome = y.failure("users.add", ["email": "new@example.com", "firstName": "N", "lastName": "U", "role": "support",
                                              "temporaryPassword": .string(tempPassword)])
        #expect(outcome == ErrorSummary(code: -32001, reason: "unauthenticated"))
        #expect(gap.between == nil, "the gap was never reached")
        #expect(root.ok("users.list", ["query": "new@"])["items"]?.arrayValue?.count == 0)
    }

    @Test func demotedAfterTheChecksTheTeamIsNotCreated() throws {
        let (root, y, yID, gap) = try Self.clients()
        gap.between = { root.ok("users.update", ["userId": .string(yID), "role": "support"]) }
        #expect(y.failure("teams.create", ["name": "Raced"]) == ErrorSummary(code: -32002, reason: "forbidden"))
        #expect(gap.between == nil, "the gap was never reached")
        #expect(root.ok("teams.list")["items"]?.arrayValue?.isEmpty == true)
        #expect(root.ok("audit.list", ["actorId": .string(yID)])["items"]?.arrayValue?.contains { $0["action"] == "teams.create" } == false)
    }

    @Test func aPermissionTakenAwayAfterTheChecksStopsTheWrite() throws {
        let (root, y, yID, gap) = try Self.clients()
        let zID = root.ok("users.list", ["query": "z@"])["items"]![0]!["id"]!
        let typeID = root.ok("credentialTypes.create", ["name": "Licence"])["id"]!
        gap.between = { root.ok("users.update", ["userId": .string(yID), "permissions": ["orderIndividualChecks": false]]) }
        #expect(y.failure("credentials.add", ["userId": zID, "typeId": typeID, "issueDate": "2026-01-01"])
                == ErrorSummary(code: -32002, reason: "forbidden"))
        #expect(gap.between == nil, "the gap was never reached")
        #expect(root.ok("credentials.list", ["userId": zID])["items"]?.arrayValue?.isEmpty == true)
    }

    /// The race as observed, between two real processes: Y's add spends ~120 ms deriving the new
    /// user's hash at the default cost; another connection deactivates Y 50 ms after Y sent it.
    @Test func betweenProcessesWithTheRealHashCost() throws {
        let path = tempDatabasePath()
        let (root, _) = try bootstrap(Database(path: path))
        let yID = root.addUser("y@example.com", role: "admin")
        for attempt in 0..<3 {
            if attempt > 0 { root.ok("users.reactivate", ["userId": .string(yID)]) }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: try executablePath())
            p.arguments = ["--db", path]
            var env = ProcessInfo.processInfo.environment
            env["CREDENTIALS_RPC_PBKDF2_ITERATIONS"] = nil  // the default, 600,000
            p.environment = env
            let input = Pipe(), output = Pipe()
            p.standardInput = input
            p.standardOutput = output
            try p.run()
            let password = attempt == 0 ? tempPassword : changedPassword
            var lines = #"{"jsonrpc":"2.0","id":1,"method":"session.login","params":{"email":"y@example.com","password":"\#(password)"}}"# + "\n"
            if attempt == 0 {
                lines += #"{"jsonrpc":"2.0","id":2,"method":"session.changePassword","params":{"currentPassword":"\#(tempPassword)","newPassword":"\#(changedPassword)"}}"# + "\n"
            }
            input.fileHandleForWriting.write(Data(lines.utf8))
            let reader = LineReaderBox(output.fileHandleForReading)
            for _ in 0..<(attempt == 0 ? 2 : 1) { #expect(reader.next()?.contains("\"result\"") == true) }
            let add = #"{"jsonrpc":"2.0","id":3,"method":"users.add","params":{"email":"raced\#(attempt)@example.com","firstName":"R","lastName":"A","role":"support","temporaryPassword":"\#(tempPassword)"}}"# + "\n"
            input.fileHandleForWriting.write(Data(add.utf8))
            usleep(50_000)
            root.ok("users.deactivate", ["userId": .string(yID)])
            let answer = reader.next() ?? ""
            #expect(answer.contains("-32001"), "attempt \(attempt): \(answer)")
            try input.fileHandleForWriting.close()
            p.waitUntilExit()
            #expect(root.ok("users.list", ["query": "raced"])["items"]?.arrayValue?.count == 0)
        }
    }
}

/// Reads a child's stdout line by line.
final class LineReaderBox {
    let handle: FileHandle
    var buffer = Data()
    init(_ handle: FileHandle) { self.handle = handle }
    func next() -> String? {
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<nl]
                buffer = Data(buffer[(nl + 1)...])
                return String(decoding: line, as: UTF8.self)
            }
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            buffer += chunk
        }
    }
}

/// Lockout tells nothing about which emails exist (contract §14).
struct LockoutOfUnknownEmailsTests {
    @Test func unknownAndKnownEmailsGetTheSameAnswersInTheSameOrder() throws {
        let (root, _) = try bootstrap()
        root.addUser("known@example.com")
        func answers(_ email: String) -> [ErrorSummary?] {
            let c = TestClient(db: root.service.db)
            return (0..<7).map { _ in c.failure("session.login", ["email": .string(email), "password": "Wrong#1234"]) }
        }
        let known = answers("known@example.com")
        let unknown = answers("nobody@example.com")
        #expect(known == unknown)
        #expect(unknown.suffix(3).allSatisfy { $0 == ErrorSummary(code: -32001, reason: "locked_out") })
        // Both forms of one unknown address count together, like a known one's.
        #expect(answers("NOBODY@example.com").allSatisfy { $0?.reason == "locked_out" })
    }

    @Test func aMalformedEmailIsCountedToo() throws {
        let (root, _) = try bootstrap()
        for typed in ["not an email", "jo\u{200B}e@example.com", String(repeating: "x", count: 300)] {
            let c = TestClient(db: root.service.db)
            let answers = (0..<6).map { _ in c.failure("session.login", ["email": .string(typed), "password": "Wrong#1234"])?.reason }
            #expect(answers == Array(repeating: "invalid_credentials", count: 4) + ["locked_out", "locked_out"], "\(typed.prefix(20))")
        }
    }

    @Test func anAccountMadeForALockedEmailStartsClean() throws {
        let (root, _) = try bootstrap()
        let c = TestClient(db: root.service.db)
        for _ in 0..<5 { _ = c.failure("session.login", ["email": "later@example.com", "password": "Wrong#1234"]) }
        root.addUser("later@example.com")
        #expect(c.failure("session.login", ["email": "later@example.com", "password": .string(tempPassword)]) == nil)
    }
}
