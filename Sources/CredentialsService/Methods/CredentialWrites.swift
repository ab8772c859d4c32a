import CredentialsCore
import CredentialsStore
import JSONRPC

/// Writing a credential's versions: adding, renewing, editing the latest, and reviewing.
extension CredentialMethods {
    // MARK: Writing versions

    /// The dates and document number of a new version, checked against the type.
    static func versionFields(_ p: Params, type: CredentialType) throws -> (CalendarDate, CalendarDate?, String?) {
        let issue = try CredentialFields.date(p.required(issueDate), field: issueDate.name)
        let expiration = try p.string(expirationDate).map { try CredentialFields.date($0, field: expirationDate.name) }
        try CredentialFields.checkDates(issue: issue, expiration: expiration, requiresExpiration: type.requiresExpiration)
        return (issue, expiration, try CredentialFields.documentNumber(p.string(documentNumber)))
    }

    static func newApproval(_ ctx: Context) throws -> Approval {
        try ctx.settings().approvalsRequired ? .pending : Approval(status: .approved)
    }

    /// Stores, with its media and activity, a new credential's first version (`replacing` nil) or a renewal of the one
    /// `replacing` describes, read under the write lock.
    static func storeVersion(_ ctx: Context, credentialID: String, ownerID: String, typeID: String, replacing latest: CredentialStore.Latest?,
                             fields: (CalendarDate, CalendarDate?, String?), media: [NewMedia], actor: String, approval: Approval? = nil) throws -> CredentialVersion {
        let number = (latest?.versionCount ?? 0) + 1
        let now = ctx.now
        let v = CredentialVersion(number: number, issueDate: fields.0, expirationDate: fields.1, documentNumber: fields.2, media: [],
                                  approval: try approval ?? newApproval(ctx), createdBy: actor, createdAt: now)
        // The creation's activity entries go into the version's own row.
        let trail = Trail(ctx: ctx, credentialID: credentialID, version: number, actor: actor)
        trail.record("issueDate", from: nil, to: .string(v.issueDate.description))
        if let e = v.expirationDate { trail.record("expirationDate", from: nil, to: .string(e.description)) }
        if let d = v.documentNumber { trail.record("documentNumber", from: nil, to: .string(d)) }
        for m in media { trail.record("media", from: nil, to: Trail.mediaValue(m.file)) }
        trail.record("approval", from: nil, to: Trail.approvalValue(v.approval))
        let store = ctx.store.credentials
        if let latest {
            try store.insertVersion(credentialID: credentialID, v, replacing: latest, updatedAt: now, createdChanges: trail.encoded)
        } else {
            try store.insertCredential(id: credentialID, userID: ownerID, typeID: typeID, first: v, createdChanges: trail.encoded)
        }
        for m in media { try store.insertMedia(credentialID: credentialID, version: number, m.file, bytes: m.bytes, at: now) }
        var stored = v
        stored.media = media.map(\.file).sorted { $0.id < $1.id }
        return stored
    }

    static func add(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let ownerID = try p.required(UserJSON.userID)
        if ownerID != actor.id { _ = try UserMethods.find(ctx, ownerID) }
        try CredentialAccess.checkEdit(actor, ownerID: ownerID)
        let type = try CredentialTypeMethods.find(ctx, p.required(CredentialTypeMethods.typeID))
        if type.archived { throw DomainError.conflict(reason: "type_archived", message: "The credential type \(type.name) is archived") }
        let fields = try versionFields(p, type: type)
        let media = try NewMedia.decode(p[Self.media], field: Self.media.name, ctx: ctx)
        let id = ctx.deps.newID("cred")
        let version: CredentialVersion = try ctx.write {
            // Again under the write lock: an archive committed since the check above wins (on
            // PostgreSQL an add pipelined behind it landed 2 ms after it).
            if try CredentialTypeMethods.find(ctx, type.id).archived {
                throw DomainError.conflict(reason: "type_archived", message: "The credential type \(type.name) is archived")
            }
            let v = try storeVersion(ctx, credentialID: id, ownerID: ownerID, typeID: type.id, replacing: nil, fields: fields, media: media, actor: actor.id)
            try ctx.audit("credentials.add", target: id, actor: actor.id,
                              detail: ["userId": .string(ownerID), "typeId": .string(type.id), "version": 1])
            return v
        }
        // Everything the answer holds was just written: no need to read it back.
        let c = Credential(id: id, userID: ownerID, typeID: type.id, typeName: type.name, versionCount: 1, latest: version,
                           createdAt: version.createdAt, updatedAt: version.createdAt)
        return CredentialJSON.credential(c, try expiryClock(ctx))
    }

    /// Whether `actor` may change the credential `id`, owned by `ownerID` with its latest version
    /// `latestApproval`: not_found when they may not even see it, forbidden when they may see it
    /// but not change it.
    static func checkChangeable(_ actor: User, id: String, ownerID: String, latestApproval: ApprovalStatus) throws {
        guard CredentialAccess.canView(actor, ownerID: ownerID, latestApproval: latestApproval) else { throw notFound(id) }
        try CredentialAccess.checkEdit(actor, ownerID: ownerID)
    }

    /// The caller, and the credential of `credentialId` they may see and change, with its type.
    static func editable(_ ctx: Context, _ p: Params) throws -> (User, Credential, CredentialType) {
        let actor = try ctx.user
        let id = try p.required(credentialID)
        guard let c = try ctx.store.credentials.find(id: id) else { throw notFound(id) }
        try checkChangeable(actor, id: id, ownerID: c.userID, latestApproval: c.latest.approval.status)
        return (actor, c, try CredentialTypeMethods.find(ctx, c.typeID))
    }

    static func addVersion(_ ctx: Context, _ p: Params) throws -> JSON {
        // The new version replaces the latest in the answer, so only the credential's own row is
        // read: it holds the latest version's approval, which decides who may see it.
        let actor = try ctx.user
        let id = try p.required(credentialID)
        guard let c = try ctx.store.credentials.summary(id: id) else { throw notFound(id) }
        try checkChangeable(actor, id: id, ownerID: c.userID, latestApproval: ApprovalStatus(rawValue: c.latest.approval) ?? .pending)
        let type = try CredentialTypeMethods.find(ctx, c.typeID)
        let fields = try versionFields(p, type: type)
        let media = try NewMedia.decode(p[Self.media], field: Self.media.name, ctx: ctx)
        let version: CredentialVersion = try ctx.write {
            guard let latest = try ctx.store.credentials.latestUnderLock(c) else { throw notFound(c.id) }
            let v = try storeVersion(ctx, credentialID: c.id, ownerID: c.userID, typeID: c.typeID, replacing: latest, fields: fields, media: media, actor: actor.id)
            try ctx.audit("credentials.addVersion", target: c.id, actor: actor.id, detail: ["version": .int(v.number)])
            return v
        }
        let renewed = Credential(id: c.id, userID: c.userID, typeID: c.typeID, typeName: type.name, versionCount: version.number,
                                 latest: version, createdAt: c.createdAt, updatedAt: version.createdAt)
        return CredentialJSON.credential(renewed, try expiryClock(ctx))
    }

    static func edit(_ ctx: Context, _ p: Params) throws -> JSON {
        let (actor, c, type) = try editable(ctx, p)
        var v = c.latest
        let before = v
        if let s = p.string(issueDate) { v.issueDate = try CredentialFields.date(s, field: issueDate.name) }
        if p.has(expirationDate) { v.expirationDate = try p.string(expirationDate).map { try CredentialFields.date($0, field: expirationDate.name) } }
        if p.has(documentNumber) { v.documentNumber = try CredentialFields.documentNumber(p.string(documentNumber)) }
        try CredentialFields.checkDates(issue: v.issueDate, expiration: v.expirationDate, requiresExpiration: type.requiresExpiration)
        let removeIDs = p[removeMediaIDs]?.arrayValue?.compactMap(\.stringValue) ?? []
        for (i, id) in removeIDs.enumerated() where !before.media.contains(where: { $0.id == id }) {
            throw DomainError.invalidField("removeMediaIds[\(i)]", "is not a file of the latest version")
        }
        let added = try NewMedia.decode(p[addMedia], field: addMedia.name, ctx: ctx)
        let fieldsChanged = v.issueDate != before.issueDate || v.expirationDate != before.expirationDate || v.documentNumber != before.documentNumber
        if !fieldsChanged && removeIDs.isEmpty && added.isEmpty { return CredentialJSON.credential(c, try expiryClock(ctx)) }
        try ctx.write {
            let store = ctx.store.credentials
            // Checked under the write lock: writing `v` over a version another process renewed,
            // edited or reviewed since it was read would lose that change.
            guard let current = try store.find(id: c.id), current.versionCount == c.versionCount, current.latest == before else {
                throw versionChanged()
            }
            let now = ctx.now
            let trail = Trail(ctx: ctx, credentialID: c.id, version: v.number, actor: actor.id)
            if v.issueDate != before.issueDate {
                trail.record("issueDate", from: .string(before.issueDate.description), to: .string(v.issueDate.description))
            }
            if v.expirationDate != before.expirationDate {
                trail.record("expirationDate", from: .optional(before.expirationDate?.description), to: .optional(v.expirationDate?.description))
            }
            if v.documentNumber != before.documentNumber {
                trail.record("documentNumber", from: .optional(before.documentNumber), to: .optional(v.documentNumber))
            }
            for id in removeIDs {
                try store.deleteMedia(id: id)
                trail.record("media", from: Trail.mediaValue(before.media.first { $0.id == id }!), to: nil)
            }
            for m in added {
                try store.insertMedia(credentialID: c.id, version: v.number, m.file, bytes: m.bytes, at: now)
                trail.record("media", from: nil, to: Trail.mediaValue(m.file))
            }
            // A change sends a reviewed version back for review.
            if before.approval.status != .pending {
                v.approval = try newApproval(ctx)
                if v.approval != before.approval { trail.record("approval", from: Trail.approvalValue(before.approval), to: Trail.approvalValue(v.approval)) }
            }
            try trail.save()
            try store.updateVersion(credentialID: c.id, v, updatedAt: now)
            try ctx.audit("credentials.editLatestVersion", target: c.id, actor: actor.id, detail: ["version": .int(v.number)])
        }
        if !removeIDs.isEmpty { ctx.store.purgeDeletedBytes() }
        return try answer(ctx, c.id)
    }

    // MARK: Approval

    static func review(_ ctx: Context, _ p: Params, to status: ApprovalStatus, reason: String?) throws -> JSON {
        let actor = try ctx.user
        let c = try visible(ctx, p.required(credentialID))
        let read = try version(ctx, c, p.int(versionNumber))
        try CredentialAccess.checkReview(current: read.approval.status)
        let before = read.approval
        var v = read
        v.approval = Approval(status: status, reviewedBy: actor.id, reviewedAt: ctx.now, reason: reason)
        try ctx.write {
            // As for an edit: a version changed since it was read is not written over.
            guard let current = try ctx.store.credentials.version(credentialID: c.id, number: v.number) else { throw notFound(c.id) }
            guard current == read else { throw versionChanged() }
            try ctx.store.credentials.updateVersion(credentialID: c.id, v, updatedAt: ctx.now)
            let trail = Trail(ctx: ctx, credentialID: c.id, version: v.number, actor: actor.id)
            trail.record("approval", from: Trail.approvalValue(before), to: Trail.approvalValue(v.approval))
            try trail.save()
            try ctx.audit(status == .approved ? "credentials.approve" : "credentials.reject", target: c.id, actor: actor.id,
                              detail: ["version": .int(v.number)])
        }
        return try answer(ctx, c.id)
    }
}
