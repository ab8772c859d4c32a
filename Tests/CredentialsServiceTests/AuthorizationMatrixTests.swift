import Testing
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC

/// Every cell of the users/sessions permission matrix: method x caller role x each permission
/// switched off x own or other user. The expected answers are the table in Protocol/README.md.
struct AuthorizationMatrixTests {
    enum Target: String, CaseIterable { case own, other }

    /// Allowed to an admin / a support user. Permissions never change these answers for users.*.
    static let table: [(method: String, admin: Bool, support: Bool)] = [
        ("users.add", true, false),
        ("users.get", true, true),
        ("users.list", true, true),
        ("users.update", true, false),
        ("users.deactivate", true, false),
        ("users.reactivate", true, false),
        ("users.resetPassword", true, false),
        ("users.invitation", true, false),
        ("session.whoami", true, true),
        ("session.logout", true, true),
    ]

    /// The methods that change another user, ruled by `UserRules.checkManage`.
    static let manages: Set<String> = ["users.update", "users.deactivate", "users.reactivate", "users.resetPassword"]

    /// Valid params for `method` aimed at `target`.
    static func params(_ method: String, target: String) -> JSON {
        switch method {
        case "users.add":
            return ["email": "new@example.com", "firstName": "New", "lastName": "User", "role": "support",
                    "permissions": ["viewReports": false], "temporaryPassword": .string(tempPassword)]
        case "users.update": return ["userId": .string(target), "firstName": "Renamed"]
        case "users.resetPassword": return ["userId": .string(target), "temporaryPassword": "Reset#1234"]
        case "users.list", "session.whoami", "session.logout": return [:]
        default: return ["userId": .string(target)]
        }
    }

    static let callerPermissions: [Permission?] = [nil] + Permission.allCases.map { $0 }

    @Test("users and sessions matrix", arguments: Role.allCases, callerPermissions)
    func matrix(role: Role, permissionOff: Permission?) throws {
        for (method, adminAllowed, supportAllowed) in Self.table {
            for target in Target.allCases {
                // A fresh organization per cell: the caller, plus another admin and another support user.
                let (root, _) = try bootstrap()
                var choices = JSONObject()
                if let off = permissionOff { choices[off.rawValue] = false }
                let callerID = root.addUser("caller@example.com", role: role.rawValue, permissions: .object(choices))
                let otherID = root.addUser("other@example.com", role: "support")
                root.addUser("admin2@example.com", role: "admin")
                let caller = TestClient(db: root.service.db)
                caller.signInFirstTime("caller@example.com")

                let targetID = target == .own ? callerID : otherID
                let allowed = role == .admin ? adminAllowed : supportAllowed
                let outcome = caller.failure(method, Self.params(method, target: targetID))
                let cell = "\(method) as \(role.rawValue) without \(permissionOff?.rawValue ?? "nothing") on \(target.rawValue)"
                if allowed {
                    // users.add may only grant what the caller holds: its params switch viewReports off,
                    // so a caller lacking another permission must switch that off too. And another
                    // user (here one with every permission) is managed only by an admin who holds
                    // all of theirs (contract §14; every subset pair is in ManageMatrixTests).
                    if method == "users.add", let off = permissionOff, off != .viewReports {
                        #expect(outcome == ErrorSummary(code: -32002, reason: "forbidden"), "\(cell)")
                    } else if Self.manages.contains(method), permissionOff != nil, target == .other {
                        #expect(outcome == ErrorSummary(code: -32002, reason: "forbidden"), "\(cell)")
                    } else {
                        #expect(outcome == nil, "\(cell): \(outcome.map(\.description) ?? "")")
                    }
                } else {
                    #expect(outcome == ErrorSummary(code: -32002, reason: "forbidden"), "\(cell)")
                }
            }
        }
    }

    @Test func nobodyRaisesTheirOwnRoleOrPermissions() throws {
        let (root, _) = try bootstrap()
        let limitedID = root.addUser("lim@example.com", role: "admin", permissions: ["orderIndividualChecks": false])
        let supportID = root.addUser("sup@example.com", role: "support")
        let limited = TestClient(db: root.service.db)
        limited.signInFirstTime("lim@example.com")
        #expect(limited.failure("users.update", ["userId": .string(limitedID), "permissions": ["orderIndividualChecks": true]])?.code == -32002)
        let support = TestClient(db: root.service.db)
        support.signInFirstTime("sup@example.com")
        #expect(support.failure("users.update", ["userId": .string(supportID), "role": "admin"])?.code == -32002)
        // A user who holds a permission the admin lacks is out of the admin's reach, even for a
        // change that would not add anything; without it, giving it back is refused too, and
        // changing what the admin holds is fine.
        #expect(limited.failure("users.update", ["userId": .string(supportID), "permissions": ["orderIndividualChecks": true]])?.code == -32002)
        #expect(limited.failure("users.update", ["userId": .string(supportID), "permissions": ["viewReports": false]])?.code == -32002)
        root.ok("users.update", ["userId": .string(supportID), "permissions": ["orderIndividualChecks": false]])
        #expect(limited.failure("users.update", ["userId": .string(supportID), "permissions": ["orderIndividualChecks": true]])?.code == -32002)
        #expect(limited.failure("users.update", ["userId": .string(supportID), "permissions": ["viewReports": false]]) == nil)
    }
}
