import CredentialsCore
import CredentialsStore
import JSONRPC

/// How credential types, credentials, versions, media and activity look on the wire, and their schemas.
enum CredentialJSON {
    static func type(_ t: CredentialType) -> JSON {
        ["id": .string(t.id), "name": .string(t.name), "description": .string(t.description),
         "requiresExpiration": .bool(t.requiresExpiration), "archived": .bool(t.archived)]
    }

    static func media(_ m: MediaFile) -> JSON {
        ["id": .string(m.id), "fileName": .string(m.fileName), "contentType": .string(m.contentType),
         "byteCount": .int(m.byteCount), "sha256": .string(m.sha256)]
    }

    static func approval(_ a: Approval) -> JSON {
        ["status": .string(a.status.rawValue), "reviewedBy": .optional(a.reviewedBy),
         "reviewedAt": .optional(a.reviewedAt.map { Timestamp.format(millis: $0) }), "reason": .optional(a.reason)]
    }

    /// A version with its expiry status as of `asOf`.
    static func version(_ v: CredentialVersion, _ clock: ExpiryClock) -> JSON {
        [
            "number": .int(v.number),
            "issueDate": .string(v.issueDate.description),
            "expirationDate": .optional(v.expirationDate?.description),
            "documentNumber": .optional(v.documentNumber),
            "media": .array(v.media.map(media)),
            "approval": approval(v.approval),
            "expiryStatus": .string(ExpiryStatus.of(expiration: v.expirationDate, asOf: clock.asOf, windowDays: clock.windowDays).rawValue),
            "createdBy": .string(v.createdBy),
            "createdAt": .string(Timestamp.format(millis: v.createdAt)),
        ]
    }

    static func credential(_ c: Credential, _ clock: ExpiryClock) -> JSON {
        [
            "id": .string(c.id), "userId": .string(c.userID), "typeId": .string(c.typeID), "typeName": .string(c.typeName),
            "versionCount": .int(c.versionCount), "latestVersion": version(c.latest, clock),
            "createdAt": .string(Timestamp.format(millis: c.createdAt)), "updatedAt": .string(Timestamp.format(millis: c.updatedAt)),
        ]
    }

    /// The entries of the trail, newest first: an event's changes in the reverse of the order made.
    static func activity(_ events: [ActivityEvent]) -> JSON {
        var items: [JSON] = []
        for e in events {
            let changes = (try? JSONParser.parseValue(e.changes))?.arrayValue ?? []
            let by = JSON.optional(e.actorID), at = JSON.string(Timestamp.format(millis: e.at))
            for c in changes.reversed() {
                items.append(["version": .int(e.version), "field": c["field"] ?? .null, "from": c["from"] ?? .null, "to": c["to"] ?? .null,
                              "changedBy": by, "changedAt": at])
            }
        }
        return .array(items)
    }

    // MARK: Schemas

    static let date = Schema.string(format: "date", pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description: "A calendar date, YYYY-MM-DD")
    static let id = Schema.string(minLength: 1, maxLength: 100)
    static let approvalStatus = Schema.oneOf(ApprovalStatus.allCases.map(\.rawValue))
    static let expiryStatus = Schema.oneOf(ExpiryStatus.allCases.map(\.rawValue))
    static let asOf = Property.optional("asOf", date, "The day expiry statuses are computed for (default: today, UTC).")

    static let typeSchema: Schema = .named("CredentialType", .object([
        Property("id", .string()), Property("name", .string()), Property("description", .string()),
        Property("requiresExpiration", .boolean), Property("archived", .boolean),
    ]))

    static let mediaSchema: Schema = .named("Media", .object([
        Property("id", .string()), Property("fileName", .string()), Property("contentType", .oneOf(MediaKind.allCases.map(\.rawValue))),
        Property("byteCount", .integer(minimum: 1, maximum: nil)), Property("sha256", .string(minLength: 64, maxLength: 64)),
    ]))

    static let approvalSchema: Schema = .named("Approval", .object([
        Property("status", approvalStatus), Property("reviewedBy", .nullable(.string())),
        Property("reviewedAt", .nullable(UserJSON.timestamp)), Property("reason", .nullable(.string())),
    ]))

    static let versionSchema: Schema = .named("CredentialVersion", .object([
        Property("number", .integer(minimum: 1, maximum: nil)), Property("issueDate", date), Property("expirationDate", .nullable(date)),
        Property("documentNumber", .nullable(.string())), Property("media", .array(mediaSchema)), Property("approval", approvalSchema),
        Property("expiryStatus", expiryStatus), Property("createdBy", .string()), Property("createdAt", UserJSON.timestamp),
    ]))

    static let credentialSchema: Schema = .named("Credential", .object([
        Property("id", .string()), Property("userId", .string()), Property("typeId", .string()), Property("typeName", .string()),
        Property("versionCount", .integer(minimum: 1, maximum: nil)), Property("latestVersion", versionSchema),
        Property("createdAt", UserJSON.timestamp), Property("updatedAt", UserJSON.timestamp),
    ]))

    static let activitySchema: Schema = .named("ActivityEntry", .object([
        Property("version", .integer(minimum: 1, maximum: nil)),
        Property("field", .oneOf(["issueDate", "expirationDate", "documentNumber", "media", "approval"])),
        Property("from", .any, "The value before: null when the field was first set or a file was added."),
        Property("to", .any, "The value after: null when a field was cleared or a file removed."),
        Property("changedBy", .nullable(.string())), Property("changedAt", UserJSON.timestamp),
    ]))

    /// A new media file in params.
    static let newMediaSchema: Schema = .named("NewMedia", .object([
        Property("fileName", .string(minLength: 1, maxLength: CredentialFields.maxFileNameLength)),
        Property("contentType", .oneOf(MediaKind.allCases.map(\.rawValue)), "Must match the file's bytes."),
        Property("dataBase64", .string(minLength: 1), "The file, base64 (RFC 4648, no line breaks)."),
    ]))
    static let maxMediaPerRequest = 20
    static let newMediaList = Schema.array(newMediaSchema, minItems: 0, maxItems: maxMediaPerRequest)

    static func items(_ name: String, _ item: Schema) -> Schema {
        .named(name, .object([Property("items", .array(item))]))
    }
}

/// The day and window expiry statuses are computed for.
struct ExpiryClock {
    var asOf: CalendarDate
    var windowDays: Int
}
