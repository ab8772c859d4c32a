import Testing
@testable import CredentialsService
import CredentialsCore
import JSONRPC

/// Permissions are checked on every method: the methods outside the users and credentials
/// matrices, for both roles with each permission switched off, and a check that no method of the
/// table escapes every matrix.
struct EveryMethodAccessTests {
    typealias Rule = @Sendable (_ role: Role, _ permissions: Permissions) -> Bool  // allowed?

    static let adminOnly: Rule = { role, _ in role == .admin }
    static let anyone: Rule = { _, _ in true }
    static let viewReports: Rule = { _, p in p.has(.viewReports) }

    /// The rest of the methods, called on objects that are not the caller's.
    static let rules: [String: Rule] = [
        "credentials.import": { role, p in role == .admin && p.has(.createReports) },
        "settings.get": anyone, "settings.update": adminOnly,
        "notifications.getSettings": adminOnly,  // another user's
        // Changing another user's (one with every permission) needs what managing them needs.
        "notifications.updateSettings": { role, p in role == .admin && p == .all },
        "notifications.due": adminOnly, "notifications.markSent": adminOnly,
        "teams.create": adminOnly, "teams.addMember": adminOnly, "teams.removeMember": adminOnly,
        "teams.setRequiredTypes": adminOnly, "teams.list": anyone,
        // The caller is no member of the team, so only an admin may follow it; unfollowing for
        // another user (one with every permission) needs what managing them needs.
        "teams.follow": adminOnly, "teams.unfollow": { role, p in role == .admin && p == .all },
        "notifications.digest": adminOnly,
        "compliance.check": viewReports, "compliance.report": viewReports,  // another user's
        "audit.list": adminOnly,
        "tokens.create": adminOnly, "tokens.list": adminOnly,  // another user's
        "credentials.export": anyone,  // what the caller may view, as credentials.list (ExportTests)
        "compliance.export": viewReports,
    ]

    /// Covered elsewhere: open methods and the two matrices.
    static let elsewhere: Set<String> = Set(["rpc.discover", "service.info", "setup.createAdmin", "session.login", "session.changePassword"]
        + AuthorizationMatrixTests.table.map(\.method) + CredentialMatrixTests.methods
        + ["credentialTypes.create", "credentialTypes.update", "credentialTypes.archive", "credentialTypes.list"]
        + ["tokens.revoke"])  // TokenTests: another's token is not_found to a support user, forbidden past checkManage

    @Test func noMethodEscapesEveryMatrix() {
        for m in Service.methods {
            #expect(Self.rules[m.name] != nil || Self.elsewhere.contains(m.name), "\(m.name) has no access rule in any matrix")
        }
    }

    /// Who may call is the table's (`Method.access`): a caller without the role or permission is
    /// refused before the params are looked at, and every such method documents `forbidden`.
    @Test func theTablesAccessIsCheckedBeforeTheParams() throws {
        let (root, _) = try bootstrap()
        root.addUser("support@example.com", role: "support")
        let support = TestClient(db: root.service.db)
        support.signInFirstTime("support@example.com")
        var admins: [Permission: TestClient] = [:]
        for p in Permission.allCases {
            root.addUser("admin-\(p.rawValue.lowercased())@example.com", role: "admin", permissions: .object(JSONObject([p.rawValue: false])))
            let c = TestClient(db: root.service.db)
            c.signInFirstTime("admin-\(p.rawValue.lowercased())@example.com")
            admins[p] = c
        }
        var gated = 0
        for m in Service.methods {
            let needed: Permission?
            switch m.access {
            case .admin: needed = nil
            case .adminWith(let p): needed = p
            default: continue
            }
            gated += 1
            #expect(m.errors.contains { $0.reason == "forbidden" }, "\(m.name) does not document forbidden")
            // Params that would fail validation: the refusal comes first all the same.
            #expect(support.failure(m.name, ["nonsense": true])?.reason == "forbidden", "\(m.name) to a support user")
            if let needed {
                #expect(admins[needed]!.failure(m.name, ["nonsense": true])?.reason == "forbidden", "\(m.name) without \(needed)")
            }
            #expect(root.failure(m.name, ["nonsense": true])?.reason == "invalid_params", "\(m.name) to an admin with everything")
        }
        #expect(gated >= 19)
    }

    @Test("the rest of the methods", arguments: Role.allCases, AuthorizationMatrixTests.callerPermissions)
    func matrix(role: Role, permissionOff: Permission?) throws {
        let world = try FuzzTests.World()
        let root = world.client
        var choices = JSONObject()
        if let off = permissionOff { choices[off.rawValue] = false }
        root.addUser("caller@example.com", role: role.rawValue, permissions: .object(choices))
        let caller = TestClient(db: root.service.db)
        caller.signInFirstTime("caller@example.com")
        var permissions = Permissions.all
        if let off = permissionOff { permissions[off] = false }
        for request in world.corpus {
            guard let name = request["method"]?.stringValue, let allowed = Self.rules[name] else { continue }
            let outcome = caller.failure(name, request["params"] ?? [:])
            let cell = "\(name) as \(role.rawValue) without \(permissionOff?.rawValue ?? "nothing")"
            if allowed(role, permissions) {
                #expect(outcome?.code != -32002 && outcome?.code != -32001, "\(cell): \(outcome.map(\.description) ?? "")")
            } else {
                #expect(outcome == ErrorSummary(code: -32002, reason: "forbidden"), "\(cell)")
            }
        }
    }
}
