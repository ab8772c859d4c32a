import CredentialsCore
import CredentialsStore
import Foundation
import JSONRPC

/// `credentials.*` and `media.get`: credentials as chains of versions, with approval, media,
/// an activity trail, and delete only with confirmation.
enum CredentialMethods {
    static let credentialID = Property("credentialId", CredentialJSON.id)
    static let versionNumber = Property("version", .integer(minimum: 1, maximum: nil))
    static let issueDate = Property("issueDate", CredentialJSON.date)
    static let expirationDate = Property.optional("expirationDate", CredentialJSON.date, "Required when the type requires it; never before issueDate.")
    static let documentNumber = Property.optional("documentNumber", .string(maxLength: CredentialFields.maxDocumentNumberLength))
    static let media = Property.optional("media", CredentialJSON.newMediaList, "Photos (JPEG, PNG, HEIC) or PDFs; the type is checked from the bytes.")
    static let versionFields: [Property] = [issueDate, expirationDate, documentNumber, media]
    static let addMedia = Property.optional("addMedia", CredentialJSON.newMediaList)
    static let removeMediaIDs = Property.optional("removeMediaIds", .array(CredentialJSON.id, maxItems: 100, unique: true))
    static let expiryStatus = Property.optional("expiryStatus", CredentialJSON.expiryStatus)
    static let approvalStatus = Property.optional("approvalStatus", CredentialJSON.approvalStatus)
    static let reason = Property("reason", .string(minLength: 1, maxLength: CredentialFields.maxReasonLength))
    static let mediaIDs = Property.optional("mediaIds", .array(CredentialJSON.id, minItems: 1, maxItems: 100, unique: true))
    static let confirm = Property.optional("confirm", .boolean)
    static let mediaID = Property("mediaId", CredentialJSON.id)
    static let mediaErrors = [ErrorDoc(.invalidParams, "invalid_date"), ErrorDoc(.invalidParams, "unsupported_media"),
                              ErrorDoc(.invalidParams, "media_too_large")]
    static let lookupErrors = [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found")]
    /// Another process renewed, edited or reviewed the credential between this call's read and its write.
    static let versionChangedDoc = ErrorDoc(.conflict, "version_changed")
    static let credential = CredentialJSON.credentialSchema

    static let all: [Method] = [
        Method("credentials.add", summary: "Adds a credential: version 1, approval pending (approved when the organization requires no approvals).", effect: .changes,
               description: "Own credentials: anyone. Another user's: an admin with orderIndividualChecks.",
               access: .ready, params: [UserJSON.userID, CredentialTypeMethods.typeID] + versionFields,
               result: "credential", credential,
               errors: mediaErrors + lookupErrors + [ErrorDoc(.conflict, "type_archived")], run: add),
        Method("credentials.addVersion", summary: "Renews a credential: a new version with new dates and media, approval pending again.", effect: .changes,
               access: .ready, params: [credentialID] + versionFields, result: "credential", credential,
               errors: mediaErrors + lookupErrors, run: addVersion),
        Method("credentials.editLatestVersion", summary: "Changes the latest version in place; every changed field is recorded in the activity.", effect: .changes, idempotent: true,
               description: "expirationDate or documentNumber null clears it. A change sends an approved or rejected version back to pending.",
               access: .ready,
               params: [credentialID, issueDate.notRequired, expirationDate.orNull.described(nil), documentNumber.orNull, addMedia, removeMediaIDs],
               result: "credential", credential, errors: mediaErrors + lookupErrors + [versionChangedDoc], run: edit),
        Method("credentials.get", summary: "A credential with its latest version.", effect: .reads, access: .ready,
               params: [credentialID, CredentialJSON.asOf], result: "credential", credential,
               errors: [ErrorDoc(.notFound, "not_found")]) { ctx, p in
            let (c, clock) = (try visible(ctx, p.required(credentialID)), try expiryClock(ctx, p))
            return CredentialJSON.credential(c, clock)
        },
        Method("credentials.getVersion", summary: "One version of a credential.", effect: .reads, access: .ready,
               params: [credentialID, versionNumber, CredentialJSON.asOf], result: "version", CredentialJSON.versionSchema,
               errors: [ErrorDoc(.notFound, "not_found")]) { ctx, p in
            let c = try visible(ctx, p.required(credentialID))
            return CredentialJSON.version(try version(ctx, c, p.int(versionNumber)), try expiryClock(ctx, p))
        },
        Method("credentials.list", summary: "Credentials the caller may see, filtered by user, type, expiry and approval of the latest version.", effect: .reads,
               description: "In creation order; with expiryStatus expiring, soonest expiration first; with expired, most recent expiration first.",
               access: .ready,
               params: [UserJSON.userID.notRequired, CredentialTypeMethods.typeID.notRequired, expiryStatus, approvalStatus,
                        CredentialJSON.asOf] + Page.params,
               result: "page", Page.schema("CredentialPage", of: credential), errors: Page.errors, run: list),
        Method("credentials.history", summary: "Every version of a credential, newest first.", effect: .reads, access: .ready,
               params: [credentialID, CredentialJSON.asOf], result: "history", CredentialJSON.items("CredentialHistory", CredentialJSON.versionSchema),
               errors: [ErrorDoc(.notFound, "not_found")]) { ctx, p in
            let c = try visible(ctx, p.required(credentialID))
            let clock = try expiryClock(ctx, p)
            return ["items": .array(try ctx.store.credentials.versions(credentialID: c.id).map { CredentialJSON.version($0, clock) })]
        },
        Method("credentials.activity", summary: "Who changed what, when, from what to what: of a credential, or of one version. Newest first.", effect: .reads,
               access: .ready, params: [credentialID, versionNumber.notRequired],
               result: "activity", CredentialJSON.items("CredentialActivity", CredentialJSON.activitySchema),
               errors: [ErrorDoc(.notFound, "not_found")]) { ctx, p in
            let c = try visible(ctx, p.required(credentialID))
            if let n = p.int(versionNumber) { _ = try version(ctx, c, n) }
            return ["items": CredentialJSON.activity(try ctx.store.credentials.activity(credentialID: c.id, version: p.int(versionNumber)))]
        },
        Method("credentials.approve", summary: "Approves a version (default: the latest). Admin. An approval is final.", effect: .changes, idempotent: true,
               access: .admin, params: [credentialID, versionNumber.notRequired],
               result: "credential", credential, errors: lookupErrors + [ErrorDoc(.conflict, "already_approved"), versionChangedDoc]) { ctx, p in
            try review(ctx, p, to: .approved, reason: nil)
        },
        Method("credentials.reject", summary: "Rejects a version (default: the latest) with a reason. Admin.", effect: .changes,
               description: "An approved version cannot be rejected. A rejected one may be rejected again with a new reason, or approved.",
               access: .admin,
               params: [credentialID, versionNumber.notRequired, reason],
               result: "credential", credential, errors: lookupErrors + [ErrorDoc(.conflict, "already_approved"), versionChangedDoc]) { ctx, p in
            try review(ctx, p, to: .rejected, reason: try CredentialFields.rejectionReason(p.required(reason)))
        },
        Method("credentials.deleteMedia", summary: "Removes media of one version (all of it when mediaIds is omitted); recorded in the activity.", effect: .destroys, idempotent: true,
               description: "Follows the rules for editing. The version's approval is unchanged.",
               access: .ready,
               params: [credentialID, versionNumber, mediaIDs],
               result: "credential", credential, errors: lookupErrors, run: deleteMedia),
        Method("credentials.delete", summary: "Deletes a credential for good: versions, activity and media bytes. Needs confirm: true.", effect: .destroys, idempotent: true,
               description: "Without confirm: true the answer is -32005 confirmation_required with error.data.preview, and nothing changes. Only an audit line remains.",
               access: .ready, params: [credentialID, confirm],
               result: "deleted", .named("Deleted", .object([Property("deleted", .boolean), Property("credentialId", .string())])),
               errors: lookupErrors + [ErrorDoc(.confirmationRequired, "confirmation_required")], run: delete),
        Method("media.get", summary: "A media file with its bytes, base64.", effect: .reads,
               description: "Another user's media needs shareReports, on a credential the caller may see.",
               access: .ready, params: [mediaID],
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
    static func visible(_ ctx: Context, _ id: String) throws -> Credential {
        let actor = try ctx.user
        guard let c = try ctx.store.credentials.find(id: id),
              CredentialAccess.canView(actor, ownerID: c.userID, latestApproval: c.latest.approval.status) else { throw notFound(id) }
        return c
    }

    static func version(_ ctx: Context, _ c: Credential, _ number: Int?) throws -> CredentialVersion {
        guard let n = number else { return c.latest }
        guard let v = try ctx.store.credentials.version(credentialID: c.id, number: n) else {
            throw DomainError.notFound("Credential \(c.id) has no version \(n)")
        }
        return v
    }

    /// Expiry statuses as of the request's `asOf` param (a method that declares it), else today.
    static func expiryClock(_ ctx: Context, _ p: Params) throws -> ExpiryClock {
        try expiryClock(ctx, asOf: p.string(CredentialJSON.asOf))
    }

    static func expiryClock(_ ctx: Context, asOf text: String? = nil) throws -> ExpiryClock {
        let asOf = try text.map { try CredentialFields.date($0, field: CredentialJSON.asOf.name) } ?? CalendarDate.today(nowMillis: ctx.now)
        return ExpiryClock(asOf: asOf, windowDays: try ctx.settings().expiringWindowDays)
    }

    /// The credential as the caller now sees it.
    static func answer(_ ctx: Context, _ id: String) throws -> JSON {
        guard let c = try ctx.store.credentials.find(id: id) else { throw notFound(id) }
        return CredentialJSON.credential(c, try expiryClock(ctx))
    }

    // MARK: Lists

    static func list(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let page = try Page(p, key: .checkedByList, seal: ctx.cursorSeal("credentials.list"))
        let clock = try expiryClock(ctx, p)
        let filter = CredentialFilter(userID: p.string(UserJSON.userID), typeID: p.string(CredentialTypeMethods.typeID),
                                      approval: p.string(approvalStatus).flatMap(ApprovalStatus.init(rawValue:)),
                                      expiry: p.string(expiryStatus).flatMap(ExpiryStatus.init(rawValue:)),
                                      asOf: clock.asOf, windowDays: clock.windowDays)
        let visibility = Visibility(actor)
        do {
            let (items, next) = try ctx.store.credentials.list(filter, visibility: visibility, after: page.after, limit: page.limit)
            return page.result(items.map { CredentialJSON.credential($0, clock) }, lastKey: next, more: next != nil)
        } catch is CursorError {
            throw Page.invalidCursor
        }
    }

    // MARK: Media

    static func mediaGet(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let id = try p.required(mediaID)
        let notFound = DomainError.notFound("No media \(id.prefix(100))")
        guard let m = try ctx.store.credentials.mediaWithBytes(id: id) else { throw notFound }
        guard let c = try? visible(ctx, m.credentialID) else { throw notFound }
        try CredentialAccess.checkMediaDownload(actor, ownerID: c.userID)
        return .encoded(CredentialJSON.media(m.file, dataBase64: Data(m.bytes).base64EncodedString()))
    }
}
