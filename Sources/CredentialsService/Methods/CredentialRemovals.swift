import CredentialsCore
import CredentialsStore
import JSONRPC

/// Removing media from a version, and deleting a credential for good (only with confirmation).
extension CredentialMethods {
    static func deleteMedia(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let c = try visible(ctx, p.required(credentialID))
        try CredentialAccess.checkEdit(actor, ownerID: c.userID)
        let v = try version(ctx, c, p.int(versionNumber))
        let ids = p[mediaIDs]?.arrayValue?.compactMap(\.stringValue) ?? v.media.map(\.id)
        for (i, id) in ids.enumerated() where !v.media.contains(where: { $0.id == id }) {
            throw DomainError.invalidField("mediaIds[\(i)]", "is not a file of version \(v.number)")
        }
        if ids.isEmpty { return CredentialJSON.credential(c, try expiryClock(ctx)) }
        try ctx.write {
            let store = ctx.store.credentials
            let trail = Trail(ctx: ctx, credentialID: c.id, version: v.number, actor: actor.id)
            for id in ids {
                try store.deleteMedia(id: id)
                trail.record("media", from: Trail.mediaValue(v.media.first { $0.id == id }!), to: nil)
            }
            try trail.save()
            try store.touch(credentialID: c.id, at: ctx.now)
            try ctx.audit("credentials.deleteMedia", target: c.id, actor: actor.id,
                              detail: ["version": .int(v.number), "mediaIds": .array(ids.map(JSON.string))])
        }
        ctx.store.purgeDeletedBytes()
        return try answer(ctx, c.id)
    }

    static func delete(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let c = try visible(ctx, p.required(credentialID))
        try CredentialAccess.checkDelete(actor, ownerID: c.userID)
        guard p.bool(confirm) == true else {
            let preview = try ctx.store.credentials.deletePreview(credentialID: c.id)
            throw DomainError.confirmationRequired(
                message: "Deleting is irreversible: send confirm: true to delete this credential and everything below",
                preview: ["versions": preview.versions, "mediaFiles": preview.mediaFiles, "mediaBytes": preview.mediaBytes,
                          "activityEntries": preview.activityEntries])
        }
        try ctx.write {
            try ctx.store.credentials.delete(credentialID: c.id)
            try ctx.audit("credentials.delete", target: c.id, actor: actor.id)
        }
        // Move the change out of the WAL into the main file (zeroed there by secure_delete) and
        // truncate the WAL, so no copy of the deleted bytes stays behind.
        ctx.store.purgeDeletedBytes()
        return ["deleted": true, "credentialId": .string(c.id)]
    }
}
