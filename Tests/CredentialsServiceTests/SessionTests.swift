import Foundation
import Testing
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC

struct SessionTests {
    @Test func bootstrapOnlyOnce() throws {
        let (client, adminID) = try bootstrap()
        #expect(adminID.hasPrefix("usr_"))
        #expect(client.failure("setup.createAdmin", ["email": "b@example.com", "firstName": "B", "lastName": "B", "password": "Other#1234"])
                == ErrorSummary(code: -32004, reason: "already_initialized"))
        let me = client.ok("session.whoami")
        #expect(me["user"]?["role"] == "admin")
        #expect(me["mustChangePassword"] == false)
        #expect(me["user"]?["permissions"] == UserJSON.permissions(.all))
    }

    /// An account whose email's key is longer than new emails may now have (made before the
    /// byte bound) still signs in with it, and is found by an import: the bound is for emails
    /// being set, not for lookups.
    @Test func anAccountWithAKeyOverTheNewByteBoundStillSignsIn() throws {
        let (admin, _) = try bootstrap()
        let id = admin.addUser("zed@example.com")
        let marks = String((0..<10).map { Character(Unicode.Scalar(0x301 + $0)!) })
        let long = TextRules.canonical(String(repeating: "a" + marks, count: 60) + "@example.com")
        #expect(TextRules.emailKey(long).utf8.count > UserFields.maxEmailKeyBytes && long.count <= UserFields.maxEmailLength)
        try admin.service.db.run("UPDATE users SET email = ?, email_key = ? WHERE id = ?", long, TextRules.emailKey(long), id)
        let other = TestClient(db: admin.service.db)
        #expect(other.ok("session.login", ["email": .string(long), "password": .string(tempPassword)])["user"]?["id"]?.stringValue == id)
        let csv = "email,credential_type,issue_date\n\(long),Licence,2026-01-01\n"
        _ = admin.createType("Licence")
        #expect(admin.ok("credentials.import", ["csv": .string(csv), "dryRun": true])["created"] == 1)
    }

    @Test func bootstrapValidatesEveryField() throws {
        let client = TestClient(db: try Database(path: ":memory:"))
        let r = client.call("setup.createAdmin", ["email": "nope", "firstName": " ", "lastName": "L", "password": "weak"])
        #expect(r["error"]?["code"] == -32602)
        let fields = r["error"]?["data"]?["fields"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? []
        #expect(fields == ["email", "firstName", "password", "password", "password", "password"])
        // Nothing was created.
        #expect(client.failure("setup.createAdmin", ["email": "a@example.com", "firstName": "A", "lastName": "L", "password": "Good#1234"]) == nil)
    }

    @Test func unknownEmailAndWrongPasswordAreTheSameAnswerAndTheSameWork() throws {
        let (client, _) = try bootstrap()
        client.addUser("gone@example.com")
        let users = UserStore(client.service.db)
        let gone = try #require(try users.find(emailKey: "gone@example.com"))
        client.ok("users.deactivate", ["userId": .string(gone.user.id)])
        let counter = DerivationCounter()
        client.service.hasher.counter = counter
        let anon = TestClient(db: client.service.db)
        anon.service.hasher.counter = counter
        for (email, password) in [("nobody@example.com", "Whatever#1"), ("ada@example.com", "Wrong#1234"), ("not an email", "x"),
                                  ("gone@example.com", "Wrong#1234"), ("gone@example.com", tempPassword)] {
            counter.count = 0
            let f = anon.failure("session.login", ["email": .string(email), "password": .string(password)])
            #expect(counter.count == 1, "\(email) cost \(counter.count) derivations")
            let expected = (email, password) == ("gone@example.com", tempPassword) ? "account_deactivated" : "invalid_credentials"
            #expect(f == ErrorSummary(code: -32001, reason: expected))
        }
    }

    @Test func emailIsMatchedWithoutCase() throws {
        let (client, _) = try bootstrap()
        let other = TestClient(db: client.service.db)
        #expect(other.call("session.login", ["email": "  ADA@example.COM ", "password": .string(adminPassword)])["result"] != nil)
    }

    @Test func fiveFailuresLockEvenTheRightPasswordAndTheLockEnds() throws {
        let clock = TestClock()
        let (client, _) = try bootstrap(clock: clock)
        let anon = TestClient(db: client.service.db, clock: clock)
        for i in 1...5 {
            let f = anon.failure("session.login", ["email": "ada@example.com", "password": "Wrong#1234"])
            #expect(f?.reason == (i == 5 ? "locked_out" : "invalid_credentials"))
        }
        #expect(anon.failure("session.login", ["email": "ada@example.com", "password": .string(adminPassword)])?.reason == "locked_out")
        clock.advance(minutes: 14)
        #expect(anon.failure("session.login", ["email": "ada@example.com", "password": .string(adminPassword)])?.reason == "locked_out")
        clock.advance(minutes: 1)
        #expect(anon.failure("session.login", ["email": "ada@example.com", "password": .string(adminPassword)]) == nil)
        // A success resets the count: four more failures do not lock.
        for _ in 1...4 { _ = anon.failure("session.login", ["email": "ada@example.com", "password": "Wrong#1234"]) }
        #expect(anon.failure("session.login", ["email": "ada@example.com", "password": .string(adminPassword)]) == nil)
    }

    @Test func theLockSurvivesARestart() throws {
        let path = tempDatabasePath()
        let clock = TestClock()
        _ = try bootstrap(try Database(path: path), clock: clock)
        let first = TestClient(db: try Database(path: path), clock: clock)
        for _ in 1...5 { _ = first.failure("session.login", ["email": "ada@example.com", "password": "Wrong#1234"]) }
        let restarted = TestClient(db: try Database(path: path), clock: clock)
        #expect(restarted.failure("session.login", ["email": "ada@example.com", "password": .string(adminPassword)])?.reason == "locked_out")
    }

    @Test func aNewUserMustChangeThePasswordBeforeAnythingElse() throws {
        let (admin, _) = try bootstrap()
        admin.addUser("sam@example.com")
        let sam = TestClient(db: admin.service.db)
        let login = sam.ok("session.login", ["email": "sam@example.com", "password": .string(tempPassword)])
        #expect(login["mustChangePassword"] == true)
        // Every method that needs a changed password answers -32006, whatever its params.
        for m in Service.methods where m.access == .ready {
            #expect(sam.failure(m.name) == ErrorSummary(code: -32006, reason: "password_change_required"), "\(m.name)")
        }
        #expect(sam.ok("session.whoami")["mustChangePassword"] == true)
        #expect(sam.failure("session.changePassword", ["currentPassword": .string(tempPassword), "newPassword": .string(tempPassword)])?.reason == "password_policy")
        #expect(sam.failure("session.changePassword", ["currentPassword": .string(tempPassword), "newPassword": "weakpass"])?.reason == "password_policy")
        #expect(sam.failure("session.changePassword", ["currentPassword": "Wrong#1234", "newPassword": .string(changedPassword)])?.reason == "invalid_credentials")
        let changed = sam.ok("session.changePassword", ["currentPassword": .string(tempPassword), "newPassword": .string(changedPassword)])
        #expect(changed["mustChangePassword"] == false)
        #expect(sam.call("users.list")["result"] != nil)
        // The old password no longer works; the new one does.
        let again = TestClient(db: admin.service.db)
        #expect(again.failure("session.login", ["email": "sam@example.com", "password": .string(tempPassword)])?.reason == "invalid_credentials")
        #expect(again.ok("session.login", ["email": "sam@example.com", "password": .string(changedPassword)])["mustChangePassword"] == false)
    }

    @Test func signedOutCallsAreUnauthenticatedWhateverTheirParams() throws {
        let client = TestClient(db: try Database(path: ":memory:"))
        for m in Service.methods where m.access != .open {
            #expect(client.failure(m.name, ["junk": 1]) == ErrorSummary(code: -32001, reason: "unauthenticated"), "\(m.name)")
        }
        #expect(client.ok("session.logout") == ["signedOut": true])
    }

    @Test func logoutEndsTheSession() throws {
        let (client, _) = try bootstrap()
        #expect(client.ok("session.logout") == ["signedOut": true])
        #expect(client.failure("session.whoami")?.code == -32001)
    }

    @Test func deactivationAndResetEndSessionsInOtherProcesses() throws {
        let path = tempDatabasePath()
        let (admin, _) = try bootstrap(try Database(path: path))
        let samID = admin.addUser("sam@example.com")
        let sam = TestClient(db: try Database(path: path))  // another process on the same file
        sam.signInFirstTime("sam@example.com")
        #expect(sam.call("users.list")["result"] != nil)
        admin.ok("users.resetPassword", ["userId": .string(samID), "temporaryPassword": "Reset#1234"])
        #expect(sam.failure("users.list") == ErrorSummary(code: -32001, reason: "unauthenticated"))
        #expect(sam.failure("session.whoami")?.code == -32001)
        let reset = sam.ok("session.login", ["email": "sam@example.com", "password": "Reset#1234"])
        #expect(reset["mustChangePassword"] == true)
        sam.ok("session.changePassword", ["currentPassword": "Reset#1234", "newPassword": .string(changedPassword)])
        admin.ok("users.deactivate", ["userId": .string(samID)])
        #expect(sam.failure("session.whoami") == ErrorSummary(code: -32001, reason: "unauthenticated"))
        #expect(sam.failure("session.login", ["email": "sam@example.com", "password": .string(changedPassword)])?.reason == "account_deactivated")
        admin.ok("users.reactivate", ["userId": .string(samID)])
        #expect(sam.call("session.login", ["email": "sam@example.com", "password": .string(changedPassword)])["result"] != nil)
    }

    @Test func changingThePasswordKeepsThisSessionAndEndsOthers() throws {
        let path = tempDatabasePath()
        _ = try bootstrap(try Database(path: path))
        let a = TestClient(db: try Database(path: path))
        let b = TestClient(db: try Database(path: path))
        for c in [a, b] { c.ok("session.login", ["email": "ada@example.com", "password": .string(adminPassword)]) }
        a.ok("session.changePassword", ["currentPassword": .string(adminPassword), "newPassword": .string(changedPassword)])
        #expect(a.call("session.whoami")["result"] != nil)
        #expect(b.failure("session.whoami")?.code == -32001)
    }

    @Test func aWeakerOldHashIsUpgradedAtSignIn() throws {
        let (client, adminID) = try bootstrap()
        let users = UserStore(client.service.db)
        let before = try #require(try users.find(id: adminID)).passwordHash
        #expect(before.hasPrefix("pbkdf2-sha256$1000$"))
        var stronger = testConfig()
        stronger.passwordIterations = 2000
        let later = Service(db: client.service.db, deps: .live(), config: stronger)
        let server = RPCServer(handler: later)
        let out = server.handle(line: Array(#"{"jsonrpc":"2.0","id":1,"method":"session.login","params":{"email":"ada@example.com","password":"Admin#1234"}}"#.utf8))
        #expect(out.flatMap { try? JSONParser.parse($0).value["result"] } != nil)
        let after = try #require(try users.find(id: adminID)).passwordHash
        #expect(after.hasPrefix("pbkdf2-sha256$2000$"))
        #expect(PasswordHasher(iterations: 2000).verify(adminPassword, against: after))
    }
}
