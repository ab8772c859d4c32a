import CredentialsCore
import CredentialsStore
import Foundation
import JSONRPC

/// `credentials.*` and `media.get`: credentials as chains of versions, with approval, media,
/// an activity trail, and delete only with confirmation.
enum CredentialMethods {
    static let credentialID = Property("credentialId", CredentialJSON.id)
    static let versionNumber = Property("version", .integer(minimum: 1, maximum: nil))
    static let versionFields: [Property] = [
        Property("issueDate", CredentialJSON.date),
        .optional("expirationDate", CredentialJSON.date, "Required when the type requires it; never before issueDate."),
        .optional("documentNumber", .string(maxLength: CredentialFields.maxDocumentNumberLength)),
        .optional("media", CredentialJSON.newMediaList, "Photos (JPEG, PNG, HEIC) or PDFs; the type is checked from the bytes."),
    ]
    static let mediaErrors = [ErrorDoc(.invalidParams, "invalid_date"), ErrorDoc(.invalidParams, "unsupported_media"),
                              ErrorDoc(.invalidParams, "media_too_large")]
    static let lookupErrors = [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found")]
    /// Another process renewed, edited or reviewed the credential between this call's read and its write.
    static let versionChangedDoc = ErrorDoc(.conflict, "version_changed")
    static let credential = CredentialJSON.credentialSchema

    static let all: [Method] = [
        Method("credentials.add", summary: "Adds a credential: version 1, approval pending (approved when the organization requires no approvals).", effect: .changes,
               description: "Own credentials: anyone. Another user's: an admin with orderIndividualChecks.",
               access: .ready, params: [UserJSON.userID, Property("typeId", CredentialJSON.id)] + versionFields,
               result: "credential", credential,
               errors: mediaErrors + lookupErrors + [ErrorDoc(.conflict, "type_archived")], run: add),
        Method("credentials.addVersion", summary: "Renews a credential: a new version with new dates and media, approval pending again.", effect: .changes,
               access: .ready, params: [credentialID] + versionFields, result: "credential", credential,
               errors: mediaErrors + lookupErrors, run: addVersion),
        Method("credentials.editLatestVersion", summary: "Changes the latest version in place; every changed field is recorded in the activity.", effect: .changes, idempotent: true,
               description: "expirationDate or documentNumber null clears it. A change sends an approved or rejected version back to pending.",
               access: .ready,
               params: [credentialID, .optional("issueDate", CredentialJSON.date), .optional("expirationDate", .nullable(CredentialJSON.date)),
                        .optional("documentNumber", .nullable(.string(maxLength: CredentialFields.maxDocumentNumberLength))),
                        .optional("addMedia", CredentialJSON.newMediaList),
                        .optional("removeMediaIds", .array(CredentialJSON.id, maxItems: 100, unique: true))],
               result: "credential", credential, errors: mediaErrors + lookupErrors + [versionChangedDoc], run: edit),
        Method("credentials.get", summary: "A credential with its latest version.", effect: .reads, access: .ready,
               params: [credentialID, CredentialJSON.asOf], result: "credential", credential,
               errors: [ErrorDoc(.notFound, "not_found")]) { service, p in
            let (c, clock) = (try visible(service, p.required("credentialId")), try expiryClock(service, p))
            return CredentialJSON.credential(c, clock)
        },
        Method("credentials.getVersion", summary: "One version of a credential.", effect: .reads, access: .ready,
               params: [credentialID, versionNumber, CredentialJSON.asOf], result: "version", CredentialJSON.versionSchema,
               errors: [ErrorDoc(.notFound, "not_found")]) { service, p in
            let c = try visible(service, p.required("credentialId"))
            return CredentialJSON.version(try version(service, c, p.int("version")), try expiryClock(service, p))
        },
        Method("credentials.list", summary: "Credentials the caller may see, filtered by user, type, expiry and approval of the latest version.", effect: .reads,
               description: "In creation order; with expiryStatus expiring, soonest expiration first; with expired, most recent expiration first.",
               access: .ready,
               params: [.optional("userId", CredentialJSON.id), .optional("typeId", CredentialJSON.id),
                        .optional("expiryStatus", CredentialJSON.expiryStatus), .optional("approvalStatus", CredentialJSON.approvalStatus),
                        CredentialJSON.asOf] + Page.params,
               result: "page", Page.schema("CredentialPage", of: credential), errors: Page.errors, run: list),
        Method("credentials.history", summary: "Every version of a credential, newest first.", effect: .reads, access: .ready,
               params: [credentialID, CredentialJSON.asOf], result: "history", CredentialJSON.items("CredentialHistory", CredentialJSON.versionSchema),
               errors: [ErrorDoc(.notFound, "not_found")]) { service, p in
            let c = try visible(service, p.required("credentialId"))
            let clock = try expiryClock(service, p)
            return ["items": .array(try CredentialStore(service.db).versions(credentialID: c.id).map { CredentialJSON.version($0, clock) })]
        },
        Method("credentials.activity", summary: "Who changed what, when, from what to what: of a credential, or of one version. Newest first.", effect: .reads,
               access: .ready, params: [credentialID, .optional("version", .integer(minimum: 1, maximum: nil))],
               result: "activity", CredentialJSON.items("CredentialActivity", CredentialJSON.activitySchema),
               errors: [ErrorDoc(.notFound, "not_found")]) { service, p in
            let c = try visible(service, p.required("credentialId"))
            if let n = p.int("version") { _ = try version(service, c, n) }
            return ["items": CredentialJSON.activity(try CredentialStore(service.db).activity(credentialID: c.id, version: p.int("version")))]
        },
        Method("credentials.approve", summary: "Approves a version (default: the latest). Admin. An approval is final.", effect: .changes, idempotent: true,
               access: .ready, params: [credentialID, .optional("version", .integer(minimum: 1, maximum: nil))],
               result: "credential", credential, errors: lookupErrors + [ErrorDoc(.conflict, "already_approved"), versionChangedDoc]) { service, p in
            try review(service, p, to: .approved, reason: nil)
        },
        Method("credentials.reject", summary: "Rejects a version (default: the latest) with a reason. Admin.", effect: .changes,
               description: "An approved version cannot be rejected. A rejected one may be rejected again with a new reason, or approved.",
               access: .ready,
               params: [credentialID, .optional("version", .integer(minimum: 1, maximum: nil)),
                        Property("reason", .string(minLength: 1, maxLength: CredentialFields.maxReasonLength))],
               result: "credential", credential, errors: lookupErrors + [ErrorDoc(.conflict, "already_approved"), versionChangedDoc]) { service, p in
            try review(service, p, to: .rejected, reason: try CredentialFields.rejectionReason(p.required("reason")))
        },
        Method("credentials.deleteMedia", summary: "Removes media of one version (all of it when mediaIds is omitted); recorded in the activity.", effect: .destroys, idempotent: true,
               description: "Follows the rules for editing. The version's approval is unchanged.",
               access: .ready,
               params: [credentialID, versionNumber, .optional("mediaIds", .array(CredentialJSON.id, minItems: 1, maxItems: 100, unique: true))],
               result: "credential", credential, errors: lookupErrors, run: deleteMedia),
        Method("credentials.delete", summary: "Deletes a credential for good: versions, activity and media bytes. Needs confirm: true.", effect: .destroys, idempotent: true,
               description: "Without confirm: true the answer is -32005 confirmation_required with error.data.preview, and nothing changes. Only an audit line remains.",
               access: .ready, params: [credentialID, .optional("confirm", .boolean)],
               result: "deleted", .named("Deleted", .object([Property("deleted", .boolean), Property("credentialId", .string())])),
               errors: lookupErrors + [ErrorDoc(.confirmationRequired, "confirmation_required")], run: delete),
        Method("media.get", summary: "A media file with its bytes, base64.", effect: .reads,
               description: "Another user's media needs shareReports, on a credential the caller may see.",
               access: .ready, params: [Property("mediaId", CredentialJSON.id)],
               result: "media", .named("MediaWithData", .object([
                   Property("id", .string()), Property("fileName", .string()), Property("contentType", .string()),
                   Property("byteCount", .integer(minimum: 1, maximum: nil)), Property("sha256", .string()), Property("dataBase64", .string()),
               ])),
               errors: lookupErrors, run: mediaGet),
    ]

    // MARK: Lookups

    static func notFound(_ id: String) -> DomainError { .notFound("No credential \(id.prefix(100))") }

    static func versionChanged() -> DomainError {
        .conflict(reason: "version_changed", message: "The credential changed since it was read (renewed, edited or reviewed); read it again")
    }

    /// The credential, if it exists and the caller may see it; otherwise not_found, never forbidden.
    static func visible(_ service: Service, _ id: String) throws -> Credential {
        let actor = try service.requireActor()
        guard let c = try CredentialStore(service.db).find(id: id),
              CredentialAccess.canView(actor, ownerID: c.userID, latestApproval: c.latest.approval.status) else { throw notFound(id) }
        return c
    }

    static func version(_ service: Service, _ c: Credential, _ number: Int?) throws -> CredentialVersion {
        guard let n = number else { return c.latest }
        guard let v = try CredentialStore(service.db).version(credentialID: c.id, number: n) else {
            throw DomainError.notFound("Credential \(c.id) has no version \(n)")
        }
        return v
    }

    static func expiryClock(_ service: Service, _ p: Params) throws -> ExpiryClock {
        let asOf = try p.string("asOf").map { try CredentialFields.date($0, field: "asOf") } ?? CalendarDate.today(nowMillis: service.now)
        return ExpiryClock(asOf: asOf, windowDays: try service.orgSettings().expiringWindowDays)
    }

    /// The credential as the caller now sees it.
    static func answer(_ service: Service, _ id: String) throws -> JSON {
        guard let c = try CredentialStore(service.db).find(id: id) else { throw notFound(id) }
        return CredentialJSON.credential(c, try expiryClock(service, Params(JSONObject())))
    }

    // MARK: Writing versions

    /// The dates and document number of a new version, checked against the type.
    static func versionFields(_ p: Params, type: CredentialType) throws -> (CalendarDate, CalendarDate?, String?) {
        let issue = try CredentialFields.date(p.required("issueDate"), field: "issueDate")
        let expiration = try p.string("expirationDate").map { try CredentialFields.date($0, field: "expirationDate") }
        try CredentialFields.checkDates(issue: issue, expiration: expiration, requiresExpiration: type.requiresExpiration)
        return (issue, expiration, try CredentialFields.documentNumber(p.string("documentNumber")))
    }

    static func newApproval(_ service: Service) throws -> Approval {
        try service.orgSettings().approvalsRequired ? .pending : Approval(status: .approved)
    }

    /// Stores a new version with its media and activity; `number` 1 creates the credential.
    /// Stores a new credential's first version (`replacing` nil) or a renewal of the one
    /// `replacing` describes, read under the write lock.
    static func storeVersion(_ service: Service, credentialID: String, ownerID: String, typeID: String, replacing latest: CredentialStore.Latest?,
                             fields: (CalendarDate, CalendarDate?, String?), media: [NewMedia], actor: String, approval: Approval? = nil) throws -> CredentialVersion {
        let number = (latest?.versionCount ?? 0) + 1
        let now = service.now
        let v = CredentialVersion(number: number, issueDate: fields.0, expirationDate: fields.1, documentNumber: fields.2, media: [],
                                  approval: try approval ?? newApproval(service), createdBy: actor, createdAt: now)
        // The creation's activity entries go into the version's own row.
        let trail = Trail(service: service, credentialID: credentialID, version: number, actor: actor)
        trail.record("issueDate", from: nil, to: .string(v.issueDate.description))
        if let e = v.expirationDate { trail.record("expirationDate", from: nil, to: .string(e.description)) }
        if let d = v.documentNumber { trail.record("documentNumber", from: nil, to: .string(d)) }
        for m in media { trail.record("media", from: nil, to: Trail.mediaValue(m.file)) }
        trail.record("approval", from: nil, to: Trail.approvalValue(v.approval))
        let store = CredentialStore(service.db)
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

    static func add(_ service: Service, _ p: Params) throws -> JSON {
        let actor = try service.requireActor()
        let ownerID = try p.required("userId")
        if ownerID != actor.id { _ = try UserMethods.find(service, ownerID) }
        try CredentialAccess.checkEdit(actor, ownerID: ownerID)
        let type = try CredentialTypeMethods.find(service, p.required("typeId"))
        if type.archived { throw DomainError.conflict(reason: "type_archived", message: "The credential type \(type.name) is archived") }
        let fields = try versionFields(p, type: type)
        let media = try NewMedia.decode(p["media"], field: "media", service: service)
        let id = service.deps.newID("cred")
        let version: CredentialVersion = try service.write {
            let v = try storeVersion(service, credentialID: id, ownerID: ownerID, typeID: type.id, replacing: nil, fields: fields, media: media, actor: actor.id)
            try service.audit("credentials.add", target: id, actor: actor.id,
                              detail: ["userId": .string(ownerID), "typeId": .string(type.id), "version": 1])
            return v
        }
        // Everything the answer holds was just written: no need to read it back.
        let c = Credential(id: id, userID: ownerID, typeID: type.id, typeName: type.name, versionCount: 1, latest: version,
                           createdAt: version.createdAt, updatedAt: version.createdAt)
        return CredentialJSON.credential(c, try expiryClock(service, Params(JSONObject())))
    }

    /// Whether `actor` may change the credential `id`, owned by `ownerID` with its latest version
    /// `latestApproval`: not_found when they may not even see it, forbidden when they may see it
    /// but not change it.
    static func checkChangeable(_ actor: User, id: String, ownerID: String, latestApproval: ApprovalStatus) throws {
        guard CredentialAccess.canView(actor, ownerID: ownerID, latestApproval: latestApproval) else { throw notFound(id) }
        try CredentialAccess.checkEdit(actor, ownerID: ownerID)
    }

    /// The caller, and the credential of `credentialId` they may see and change, with its type.
    static func editable(_ service: Service, _ p: Params) throws -> (User, Credential, CredentialType) {
        let actor = try service.requireActor()
        let id = try p.required("credentialId")
        guard let c = try CredentialStore(service.db).find(id: id) else { throw notFound(id) }
        try checkChangeable(actor, id: id, ownerID: c.userID, latestApproval: c.latest.approval.status)
        return (actor, c, try CredentialTypeMethods.find(service, c.typeID))
    }

    static func addVersion(_ service: Service, _ p: Params) throws -> JSON {
        // Read inside a group's write transaction, the credential is what the write will find:
        // no other process can write until the group commits (see Service.sessionUser).
        let readUnderLock = service.db.isInTransaction
        // The new version replaces the latest in the answer, so only the credential's own row is
        // read: it holds the latest version's approval, which decides who may see it.
        let actor = try service.requireActor()
        let id = try p.required("credentialId")
        guard let c = try CredentialStore(service.db).summary(id: id) else { throw notFound(id) }
        try checkChangeable(actor, id: id, ownerID: c.userID, latestApproval: ApprovalStatus(rawValue: c.latest.approval) ?? .pending)
        let type = try CredentialTypeMethods.find(service, c.typeID)
        let fields = try versionFields(p, type: type)
        let media = try NewMedia.decode(p["media"], field: "media", service: service)
        let version: CredentialVersion = try service.write {
            // What it replaces is read under the write lock, so two renewals cannot take the same
            // number: the summary the credential's row holds, which is its latest version's.
            guard let latest = readUnderLock ? c.latest : try CredentialStore(service.db).latest(credentialID: c.id) else { throw notFound(c.id) }
            let v = try storeVersion(service, credentialID: c.id, ownerID: c.userID, typeID: c.typeID, replacing: latest, fields: fields, media: media, actor: actor.id)
            try service.audit("credentials.addVersion", target: c.id, actor: actor.id, detail: ["version": .int(v.number)])
            return v
        }
        let renewed = Credential(id: c.id, userID: c.userID, typeID: c.typeID, typeName: type.name, versionCount: version.number,
                                 latest: version, createdAt: c.createdAt, updatedAt: version.createdAt)
        return CredentialJSON.credential(renewed, try expiryClock(service, Params(JSONObject())))
    }

    static func edit(_ service: Service, _ p: Params) throws -> JSON {
        let (actor, c, type) = try editable(service, p)
        var v = c.latest
        let before = v
        if let s = p.string("issueDate") { v.issueDate = try CredentialFields.date(s, field: "issueDate") }
        if p.has("expirationDate") { v.expirationDate = try p.string("expirationDate").map { try CredentialFields.date($0, field: "expirationDate") } }
        if p.has("documentNumber") { v.documentNumber = try CredentialFields.documentNumber(p.string("documentNumber")) }
        try CredentialFields.checkDates(issue: v.issueDate, expiration: v.expirationDate, requiresExpiration: type.requiresExpiration)
        let removeIDs = p["removeMediaIds"]?.arrayValue?.compactMap(\.stringValue) ?? []
        for (i, id) in removeIDs.enumerated() where !before.media.contains(where: { $0.id == id }) {
            throw DomainError.invalidField("removeMediaIds[\(i)]", "is not a file of the latest version")
        }
        let added = try NewMedia.decode(p["addMedia"], field: "addMedia", service: service)
        let fieldsChanged = v.issueDate != before.issueDate || v.expirationDate != before.expirationDate || v.documentNumber != before.documentNumber
        if !fieldsChanged && removeIDs.isEmpty && added.isEmpty { return CredentialJSON.credential(c, try expiryClock(service, p)) }
        try service.write {
            let store = CredentialStore(service.db)
            // Checked under the write lock: writing `v` over a version another process renewed,
            // edited or reviewed since it was read would lose that change.
            guard let current = try store.find(id: c.id), current.versionCount == c.versionCount, current.latest == before else {
                throw versionChanged()
            }
            let now = service.now
            let trail = Trail(service: service, credentialID: c.id, version: v.number, actor: actor.id)
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
                v.approval = try newApproval(service)
                if v.approval != before.approval { trail.record("approval", from: Trail.approvalValue(before.approval), to: Trail.approvalValue(v.approval)) }
            }
            try trail.save()
            try store.updateVersion(credentialID: c.id, v, updatedAt: now)
            try service.audit("credentials.editLatestVersion", target: c.id, actor: actor.id, detail: ["version": .int(v.number)])
        }
        if !removeIDs.isEmpty { service.db.checkpoint() }
        return try answer(service, c.id)
    }

    // MARK: Approval

    static func review(_ service: Service, _ p: Params, to status: ApprovalStatus, reason: String?) throws -> JSON {
        let actor = try service.requireActor()
        let c = try visible(service, p.required("credentialId"))
        let read = try version(service, c, p.int("version"))
        try CredentialAccess.checkReview(actor, current: read.approval.status)
        let before = read.approval
        var v = read
        v.approval = Approval(status: status, reviewedBy: actor.id, reviewedAt: service.now, reason: reason)
        try service.write {
            // As for an edit: a version changed since it was read is not written over.
            guard let current = try CredentialStore(service.db).version(credentialID: c.id, number: v.number) else { throw notFound(c.id) }
            guard current == read else { throw versionChanged() }
            try CredentialStore(service.db).updateVersion(credentialID: c.id, v, updatedAt: service.now)
            let trail = Trail(service: service, credentialID: c.id, version: v.number, actor: actor.id)
            trail.record("approval", from: Trail.approvalValue(before), to: Trail.approvalValue(v.approval))
            try trail.save()
            try service.audit(status == .approved ? "credentials.approve" : "credentials.reject", target: c.id, actor: actor.id,
                              detail: ["version": .int(v.number)])
        }
        return try answer(service, c.id)
    }

    // MARK: Lists

    static func list(_ service: Service, _ p: Params) throws -> JSON {
        let actor = try service.requireActor()
        let page = try Page(p, key: .checkedByList, seal: service.cursorSeal("credentials.list"))
        let clock = try expiryClock(service, p)
        let filter = CredentialFilter(userID: p.string("userId"), typeID: p.string("typeId"),
                                      approval: p.string("approvalStatus").flatMap(ApprovalStatus.init(rawValue:)),
                                      expiry: p.string("expiryStatus").flatMap(ExpiryStatus.init(rawValue:)),
                                      asOf: clock.asOf, windowDays: clock.windowDays)
        let visibility = Visibility(actor)
        do {
            let (items, next) = try CredentialStore(service.db).list(filter, visibility: visibility, after: page.after, limit: page.limit)
            return page.result(items.map { CredentialJSON.credential($0, clock) }, lastKey: next, more: next != nil)
        } catch is CursorError {
            throw Page.invalidCursor
        }
    }

    // MARK: Media and delete

    static func deleteMedia(_ service: Service, _ p: Params) throws -> JSON {
        let actor = try service.requireActor()
        let c = try visible(service, p.required("credentialId"))
        try CredentialAccess.checkEdit(actor, ownerID: c.userID)
        let v = try version(service, c, p.int("version"))
        let ids = p["mediaIds"]?.arrayValue?.compactMap(\.stringValue) ?? v.media.map(\.id)
        for (i, id) in ids.enumerated() where !v.media.contains(where: { $0.id == id }) {
            throw DomainError.invalidField("mediaIds[\(i)]", "is not a file of version \(v.number)")
        }
        if ids.isEmpty { return CredentialJSON.credential(c, try expiryClock(service, p)) }
        try service.write {
            let store = CredentialStore(service.db)
            let trail = Trail(service: service, credentialID: c.id, version: v.number, actor: actor.id)
            for id in ids {
                try store.deleteMedia(id: id)
                trail.record("media", from: Trail.mediaValue(v.media.first { $0.id == id }!), to: nil)
            }
            try trail.save()
            try store.touch(credentialID: c.id, at: service.now)
            try service.audit("credentials.deleteMedia", target: c.id, actor: actor.id,
                              detail: ["version": .int(v.number), "mediaIds": .array(ids.map(JSON.string))])
        }
        service.db.checkpoint()
        return try answer(service, c.id)
    }

    static func delete(_ service: Service, _ p: Params) throws -> JSON {
        let actor = try service.requireActor()
        let c = try visible(service, p.required("credentialId"))
        try CredentialAccess.checkDelete(actor, ownerID: c.userID)
        guard p.bool("confirm") == true else {
            let preview = try CredentialStore(service.db).deletePreview(credentialID: c.id)
            throw DomainError.confirmationRequired(
                message: "Deleting is irreversible: send confirm: true to delete this credential and everything below",
                preview: ["versions": preview.versions, "mediaFiles": preview.mediaFiles, "mediaBytes": preview.mediaBytes,
                          "activityEntries": preview.activityEntries])
        }
        try service.write {
            try CredentialStore(service.db).delete(credentialID: c.id)
            try service.audit("credentials.delete", target: c.id, actor: actor.id)
        }
        // Move the change out of the WAL into the main file (zeroed there by secure_delete) and
        // truncate the WAL, so no copy of the deleted bytes stays behind.
        service.db.checkpoint()
        return ["deleted": true, "credentialId": .string(c.id)]
    }

    static func mediaGet(_ service: Service, _ p: Params) throws -> JSON {
        let actor = try service.requireActor()
        let id = try p.required("mediaId")
        let notFound = DomainError.notFound("No media \(id.prefix(100))")
        guard let m = try CredentialStore(service.db).mediaWithBytes(id: id) else { throw notFound }
        guard let c = try? visible(service, m.credentialID) else { throw notFound }
        try CredentialAccess.checkMediaDownload(actor, ownerID: c.userID)
        return .encoded(CredentialJSON.media(m.file, dataBase64: Data(m.bytes).base64EncodedString()))
    }
}

/// Collects the changes one request makes to one version of a credential, then writes them as
/// one activity event (`save`, inside the request's `db.write`), or, for a new version, into its
/// row (`encoded`).
struct Trail {
    let service: Service
    let credentialID: String
    let version: Int
    let actor: String
    /// The changes so far, as the JSON array's UTF-8 text without its closing bracket.
    private let changes = ByteWriter(capacity: 512)

    init(service: Service, credentialID: String, version: Int, actor: String) {
        self.service = service
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
        try CredentialStore(service.db).appendActivity(credentialID: credentialID, version: version, at: service.now, actorID: actor, changes: encoded)
    }

    static func mediaValue(_ m: MediaFile) -> JSON { ["id": .string(m.id), "fileName": .string(m.fileName)] }

    static func approvalValue(_ a: Approval) -> JSON {
        var o = JSONObject(["status": .string(a.status.rawValue)])
        if let r = a.reason { o["reason"] = .string(r) }
        return .object(o)
    }
}
