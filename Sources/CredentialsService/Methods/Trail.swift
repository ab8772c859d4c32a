import CredentialsCore
import CredentialsStore
import JSONRPC

/// Collects the changes one request makes to one version of a credential, then writes them as
/// one activity event (`save`, inside the request's `ctx.write`), or, for a new version, into its
/// row (`encoded`).
struct Trail {
    let ctx: Context
    let credentialID: String
    let version: Int
    let actor: String
    /// The changes so far, as the JSON array's UTF-8 text without its closing bracket.
    private let changes = ByteWriter(capacity: 512)

    init(ctx: Context, credentialID: String, version: Int, actor: String) {
        self.ctx = ctx
        self.credentialID = credentialID
        self.version = version
        self.actor = actor
        changes.append(UInt8(ascii: "["))
    }

    func record(_ field: String, from: JSON?, to: JSON?) {
        if changes.count > 1 { changes.append(UInt8(ascii: ",")) }
        var change = JSONObjectBytes(into: changes)
        change.add("field", field)
        change.add("from", json: from ?? .null)
        change.add("to", json: to ?? .null)
        change.close()
    }

    /// The changes as a JSON array's UTF-8 text.
    var encoded: [UInt8] { changes.array + [UInt8(ascii: "]")] }

    func save() throws {
        guard changes.count > 1 else { return }
        try ctx.store.credentials.appendActivity(credentialID: credentialID, version: version, at: ctx.now, actorID: actor, changes: encoded)
    }

    static func mediaValue(_ m: MediaFile) -> JSON { ["id": .string(m.id), "fileName": .string(m.fileName)] }

    static func approvalValue(_ a: Approval) -> JSON {
        var o = JSONObject(["status": .string(a.status.rawValue)])
        if let r = a.reason { o["reason"] = .string(r) }
        return .object(o)
    }
}
