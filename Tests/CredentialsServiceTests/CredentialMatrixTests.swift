import Testing
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC

/// Every cell of the credentials permission matrix (contract section 6): method x caller role x
/// each permission switched off x own or another user's credential x its approval state.
struct CredentialMatrixTests {
    enum Target: String, CaseIterable { case own, other }

    static let methods = ["credentials.get", "credentials.getVersion", "credentials.history", "credentials.activity",
                          "credentials.list", "credentials.add", "credentials.addVersion", "credentials.editLatestVersion",
                          "credentials.deleteMedia", "credentials.approve", "credentials.reject", "credentials.delete", "media.get"]

    /// The contract's answer, as `nil` (allowed) or the error.
    static func expected(_ method: String, role: Role, permissions: Permissions, target: Target, approval: ApprovalStatus) -> ErrorSummary? {
        let own = target == .own
        let admin = role == .admin
        let visible = own || (approval == .approved ? permissions.has(.viewReports) : permissions.has(.viewApplications))
        let forbidden = ErrorSummary(code: -32002, reason: "forbidden")
        let notFound = ErrorSummary(code: -32003, reason: "not_found")
        let canEditOthers = admin && permissions.has(.orderIndividualChecks)
        switch method {
        case "credentials.list": return nil  // membership is checked separately
        case "credentials.add": return own || canEditOthers ? nil : forbidden
        case "credentials.get", "credentials.getVersion", "credentials.history", "credentials.activity":
            return visible ? nil : notFound
        case "credentials.addVersion", "credentials.editLatestVersion", "credentials.deleteMedia":
            return !visible ? notFound : own || canEditOthers ? nil : forbidden
        case "credentials.approve", "credentials.reject":
            // Reviewing is `.admin` in the method table: a support user is refused before the
            // credential is looked up, so the refusal says nothing of whether it exists.
            return !admin ? forbidden : !visible ? notFound : approval == .approved ? ErrorSummary(code: -32004, reason: "already_approved") : nil
        case "credentials.delete": return !visible ? notFound : own || admin ? nil : forbidden
        case "media.get": return !visible ? notFound : own || permissions.has(.shareReports) ? nil : forbidden
        default: Issue.record("no rule for \(method)"); return nil
        }
    }

    static func params(_ method: String, credential: String, media: String, targetUser: String, type: String) -> JSON {
        let c = JSON.string(credential)
        switch method {
        case "credentials.add": return ["userId": .string(targetUser), "typeId": .string(type), "issueDate": "2026-01-01"]
        case "credentials.getVersion", "credentials.deleteMedia": return ["credentialId": c, "version": 1]
        case "credentials.addVersion": return ["credentialId": c, "issueDate": "2026-05-01"]
        case "credentials.editLatestVersion": return ["credentialId": c, "documentNumber": "EDITED"]
        case "credentials.reject": return ["credentialId": c, "reason": "unreadable"]
        case "credentials.delete": return ["credentialId": c, "confirm": true]
        case "media.get": return ["mediaId": .string(media)]
        case "credentials.list": return ["limit": 1000]
        default: return ["credentialId": c]
        }
    }

    static let callerPermissions: [Permission?] = [nil] + Permission.allCases.map { $0 }

    @Test("credentials matrix", arguments: Role.allCases, callerPermissions)
    func matrix(role: Role, permissionOff: Permission?) throws {
        var permissions = Permissions.all
        if let off = permissionOff { permissions[off] = false }
        for target in Target.allCases {
            for approval in ApprovalStatus.allCases {
                for method in Self.methods {
                    let (root, _) = try bootstrap()
                    var choices = JSONObject()
                    if let off = permissionOff { choices[off.rawValue] = false }
                    let callerID = root.addUser("caller@example.com", role: role.rawValue, permissions: .object(choices))
                    let otherID = root.addUser("other@example.com")
                    let type = root.createType("Licence")
                    let ownerID = target == .own ? callerID : otherID
                    let c = root.addCredential(user: ownerID, type: type, media: [Fixtures.media("a.pdf", "application/pdf", Fixtures.pdf)])
                    let credentialID = c["id"]?.stringValue ?? ""
                    let mediaID = c["latestVersion"]?["media"]?[0]?["id"]?.stringValue ?? ""
                    switch approval {
                    case .approved: root.ok("credentials.approve", ["credentialId": .string(credentialID)])
                    case .rejected: root.ok("credentials.reject", ["credentialId": .string(credentialID), "reason": "no"])
                    case .pending: break
                    }
                    let caller = TestClient(db: root.service.db)
                    caller.signInFirstTime("caller@example.com")
                    let cell = "\(method) as \(role.rawValue) without \(permissionOff?.rawValue ?? "nothing") on \(target.rawValue) \(approval.rawValue)"
                    let p = Self.params(method, credential: credentialID, media: mediaID, targetUser: ownerID, type: type)
                    let outcome = caller.failure(method, p)
                    #expect(outcome == Self.expected(method, role: role, permissions: permissions, target: target, approval: approval), "\(cell)")
                    if method == "credentials.list" {
                        let visible = Self.expected("credentials.get", role: role, permissions: permissions, target: target, approval: approval) == nil
                        let ids = caller.ok("credentials.list", p)["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                        #expect(ids.contains(credentialID) == visible, "\(cell): listed \(ids.contains(credentialID))")
                        // Filters never reveal it either.
                        let filtered = caller.ok("credentials.list", ["userId": .string(ownerID), "approvalStatus": .string(approval.rawValue)])
                        #expect((filtered["items"]?.arrayValue?.count ?? 0 > 0) == visible, "\(cell) filtered")
                    }
                }
            }
        }
    }

    @Test("credential types: admins with createEditPackages manage; everyone lists", arguments: Role.allCases, callerPermissions)
    func typesMatrix(role: Role, permissionOff: Permission?) throws {
        let (root, _) = try bootstrap()
        let existing = root.createType("Existing")
        var choices = JSONObject()
        if let off = permissionOff { choices[off.rawValue] = false }
        root.addUser("caller@example.com", role: role.rawValue, permissions: .object(choices))
        let caller = TestClient(db: root.service.db)
        caller.signInFirstTime("caller@example.com")
        let manage = role == .admin && permissionOff != .createEditPackages
        let forbidden = ErrorSummary(code: -32002, reason: "forbidden")
        #expect(caller.failure("credentialTypes.create", ["name": "New"]) == (manage ? nil : forbidden))
        #expect(caller.failure("credentialTypes.update", ["typeId": .string(existing), "description": "d"]) == (manage ? nil : forbidden))
        #expect(caller.failure("credentialTypes.archive", ["typeId": .string(existing)]) == (manage ? nil : forbidden))
        #expect(caller.failure("credentialTypes.list") == nil)
    }
}
