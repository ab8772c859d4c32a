import Foundation
import Testing
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC

struct UserMethodsTests {
    @Test func addReturnsTheUserWithDefaultsAndChoices() throws {
        let (admin, _) = try bootstrap()
        let u = admin.ok("users.add", ["email": " Sam@Example.com ", "firstName": "  Sam ", "lastName": "Smith", "role": "support",
                                       "permissions": ["shareReports": false], "temporaryPassword": .string(tempPassword)])
        #expect(u["email"] == "Sam@Example.com")
        #expect(u["firstName"] == "Sam")
        #expect(u["role"] == "support")
        #expect(u["status"] == "active")
        #expect(u["mustChangePassword"] == true)
        #expect(u["permissions"]?["shareReports"] == false)
        #expect(u["permissions"]?["viewReports"] == true)
        #expect(u["createdAt"] == "2026-01-01T00:00:00.000Z")
        #expect(u.objectValue?.keys.sorted() == ["createdAt", "email", "firstName", "id", "lastName", "mustChangePassword", "permissions", "role", "status", "updatedAt"])
        #expect(admin.ok("users.get", ["userId": u["id"]!]) == u)
    }

    @Test func addRefusesBadInput() throws {
        let (admin, _) = try bootstrap()
        admin.addUser("sam@example.com")
        let base: JSONObject = JSONObject(["email": "new@example.com", "firstName": "N", "lastName": "N", "role": "support", "temporaryPassword": .string(tempPassword)])
        func with(_ k: String, _ v: JSON?) -> JSON { var o = base; o[k] = v; return .object(o) }
        #expect(admin.failure("users.add", with("email", "SAM@example.com")) == ErrorSummary(code: -32004, reason: "email_taken"))
        #expect(admin.failure("users.add", with("temporaryPassword", "password")) == ErrorSummary(code: -32602, reason: "password_policy"))
        #expect(admin.failure("users.add", with("role", "owner"))?.code == -32602)
        #expect(admin.failure("users.add", with("permissions", ["fly": true]))?.code == -32602)
        #expect(admin.failure("users.add", with("permissions", ["viewReports": "yes"]))?.code == -32602)
        #expect(admin.failure("users.add", with("email", nil))?.code == -32602)
        #expect(admin.failure("users.add", with("extra", 1))?.code == -32602)
        #expect(admin.failure("users.add", with("firstName", .string(String(repeating: "x", count: 101))))?.code == -32602)
        let r = admin.call("users.add", with("permissions", ["fly": true, "viewReports": 1]))
        let fields = r["error"]?["data"]?["fields"]?.arrayValue?.compactMap { $0["field"]?.stringValue }
        #expect(fields == ["permissions.viewReports", "permissions.fly"])
    }

    @Test func getUnknownIsNotFound() throws {
        let (admin, _) = try bootstrap()
        #expect(admin.failure("users.get", ["userId": "usr_nope"]) == ErrorSummary(code: -32003, reason: "not_found"))
        #expect(admin.failure("users.update", ["userId": "usr_nope", "firstName": "X"])?.code == -32003)
        #expect(admin.failure("users.deactivate", ["userId": "usr_nope"])?.code == -32003)
        #expect(admin.failure("users.resetPassword", ["userId": "usr_nope", "temporaryPassword": .string(tempPassword)])?.code == -32003)
        #expect(admin.failure("users.invitation", ["userId": "usr_nope"])?.code == -32003)
    }

    @Test func listFiltersAndPagesStablyWhileUsersAreAdded() throws {
        let clock = TestClock()
        let (admin, adminID) = try bootstrap(clock: clock)
        var ids = [adminID]
        for i in 0..<25 {
            clock.millis += 1
            ids.append(admin.addUser("user\(i)@example.com", role: i % 5 == 0 ? "admin" : "support", first: i % 2 == 0 ? "Even" : "Odd"))
        }
        // Page through 10 at a time while more users arrive; every user seen once, in order.
        var seen: [String] = []
        var cursor: JSON = .null
        repeat {
            var p = JSONObject(["limit": 10])
            if cursor != .null { p["cursor"] = cursor }
            let page = admin.ok("users.list", .object(p))
            seen += page["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            cursor = page["nextCursor"] ?? .null
            clock.millis += 1
            ids.append(admin.addUser("late\(seen.count)@example.com"))
        } while cursor != .null
        #expect(seen == Array(ids.prefix(seen.count)))
        #expect(seen.count >= 26)
        #expect(Set(seen).count == seen.count)

        let admins = admin.ok("users.list", ["role": "admin", "limit": 1000])["items"]?.arrayValue ?? []
        #expect(admins.count == 6)
        let odd = admin.ok("users.list", ["query": "oDD", "limit": 1000])["items"]?.arrayValue ?? []
        #expect(odd.count == 12)
        let byEmail = admin.ok("users.list", ["query": "USER1", "limit": 1000])["items"]?.arrayValue ?? []
        #expect(byEmail.count == 11)  // user1, user10..user19
        admin.ok("users.deactivate", ["userId": .string(ids[1])])
        #expect(admin.ok("users.list", ["status": "deactivated"])["items"]?.arrayValue?.count == 1)
        #expect(admin.ok("users.list", ["status": "deactivated", "role": "support"])["items"]?.arrayValue?.count == 0)
        #expect(admin.failure("users.list", ["limit": 0])?.code == -32602)
        #expect(admin.failure("users.list", ["limit": 1001])?.code == -32602)
        #expect(admin.failure("users.list", ["cursor": "garbage!"])?.code == -32602)
        #expect(admin.failure("users.list", ["status": "gone"])?.code == -32602)
    }

    @Test func updateChangesOnlyWhatIsNamed() throws {
        let clock = TestClock()
        let (admin, _) = try bootstrap(clock: clock)
        let id = admin.addUser("sam@example.com", permissions: ["viewReports": false])
        clock.advance(minutes: 1)
        let u = admin.ok("users.update", ["userId": .string(id), "lastName": " Jones ", "permissions": ["shareReports": false]])
        #expect(u["lastName"] == "Jones")
        #expect(u["firstName"] == "Sam")
        #expect(u["permissions"]?["viewReports"] == false)  // unchanged
        #expect(u["permissions"]?["shareReports"] == false)
        #expect(u["permissions"]?["createReports"] == true)
        #expect(u["updatedAt"] == "2026-01-01T00:01:00.000Z")
        let promoted = admin.ok("users.update", ["userId": .string(id), "role": "admin"])
        #expect(promoted["role"] == "admin")
    }

    @Test func theLastAdminAndSelfElevationRules() throws {
        let (admin, adminID) = try bootstrap()
        #expect(admin.failure("users.update", ["userId": .string(adminID), "role": "support"]) == ErrorSummary(code: -32004, reason: "last_admin"))
        #expect(admin.failure("users.deactivate", ["userId": .string(adminID)]) == ErrorSummary(code: -32004, reason: "last_admin"))
        // A second admin with fewer permissions cannot give themselves more, nor grant what they lack.
        let limitedID = admin.addUser("lim@example.com", role: "admin", permissions: ["shareReports": false])
        let limited = TestClient(db: admin.service.db)
        limited.signInFirstTime("lim@example.com")
        #expect(limited.failure("users.update", ["userId": .string(limitedID), "permissions": ["shareReports": true]])?.code == -32002)
        #expect(limited.failure("users.add", ["email": "x@example.com", "firstName": "X", "lastName": "Y", "role": "support",
                                               "temporaryPassword": .string(tempPassword)])?.code == -32002)
        #expect(limited.failure("users.add", ["email": "x@example.com", "firstName": "X", "lastName": "Y", "role": "support",
                                               "permissions": ["shareReports": false], "temporaryPassword": .string(tempPassword)]) == nil)
        // Now two admins: either may be demoted, and an admin may step down.
        limited.ok("users.update", ["userId": .string(limitedID), "role": "support"])
        #expect(admin.failure("users.deactivate", ["userId": .string(adminID)])?.reason == "last_admin")
    }

    @Test func deactivatedAdminsDoNotCountAsTheLastAdmin() throws {
        let (admin, adminID) = try bootstrap()
        let otherID = admin.addUser("other@example.com", role: "admin")
        admin.ok("users.deactivate", ["userId": .string(otherID)])
        #expect(admin.failure("users.update", ["userId": .string(adminID), "role": "support"])?.reason == "last_admin")
    }

    @Test func invitationNamesTheInviterAndNeverThePassword() throws {
        let (admin, _) = try bootstrap()
        let id = admin.addUser("sam@example.com")
        let inv = admin.ok("users.invitation", ["userId": .string(id)])
        #expect(inv["to"] == "sam@example.com")
        let body = inv["body"]?.stringValue ?? ""
        #expect(body.contains("Ada Admin"))
        #expect(body.contains("ada@example.com"))
        #expect(body.contains("sam@example.com"))
        #expect(body.contains("change it"))
        #expect(!body.contains(tempPassword))
        #expect(inv["subject"]?.stringValue?.isEmpty == false)
    }

    @Test func everyChangeIsAuditedInItsTransactionWithoutSecrets() throws {
        let (admin, adminID) = try bootstrap()
        let id = admin.addUser("sam@example.com")
        admin.ok("users.update", ["userId": .string(id), "firstName": "Samuel"])
        admin.ok("users.update", ["userId": .string(id), "firstName": "Samuel"])  // no change: no row
        admin.ok("users.resetPassword", ["userId": .string(id), "temporaryPassword": "Reset#9999"])
        admin.ok("users.deactivate", ["userId": .string(id)])
        admin.ok("users.reactivate", ["userId": .string(id)])
        _ = admin.failure("users.add", ["email": "sam@example.com", "firstName": "S", "lastName": "S", "role": "support", "temporaryPassword": .string(tempPassword)])
        let db = admin.service.db
        let rows = try db.all("SELECT actor_id, action, target_id, detail FROM audit_log ORDER BY seq") { r in
            (r.optionalText(0), r.text(1), r.optionalText(2), r.text(3))
        }
        #expect(rows.map(\.1) == ["setup.createAdmin", "session.login", "users.add", "users.update", "users.resetPassword",
                                  "users.deactivate", "users.reactivate"])
        #expect(rows.dropFirst(2).allSatisfy { $0.0 == adminID && $0.2 == id })
        let update = try JSONParser.parseValue(rows[3].3)
        #expect(update == ["firstName": ["from": "Sam", "to": "Samuel"]])
        for r in rows {
            for secret in [adminPassword, tempPassword, "Reset#9999", "pbkdf2"] { #expect(!r.3.contains(secret)) }
        }
    }

    @Test func listQueriesUseIndexes() throws {
        let db = try Database(path: ":memory:")
        let plan = { (sql: String) in try db.all("EXPLAIN QUERY PLAN " + sql) { $0.text(3) }.joined(separator: " | ") }
        #expect(try plan("SELECT id FROM users WHERE email_key = 'a'").contains("USING COVERING INDEX users_email_key")
                || plan("SELECT id FROM users WHERE email_key = 'a'").contains("USING INDEX users_email_key"))
        #expect(try plan("SELECT id FROM users WHERE id > '' AND role = 'admin' AND status = 'active' ORDER BY id LIMIT 10").contains("users_role_status"))
        #expect(try plan("SELECT id FROM users WHERE id > '' AND status = 'active' ORDER BY id LIMIT 10").contains("users_status"))
        #expect(try !plan("SELECT id FROM users WHERE id = 'x'").contains("SCAN"))
    }
}
