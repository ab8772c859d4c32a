import CredentialsCore
import CredentialsStore
import JSONRPC

/// How credential types, credentials, versions, media and activity look on the wire, and their schemas.
enum CredentialJSON {
    static func type(_ t: CredentialType) -> JSON {
        ["id": .string(t.id), "name": .string(t.name), "description": .string(t.description),
         "requiresExpiration": .bool(t.requiresExpiration), "archived": .bool(t.archived)]
    }

    /// A media file's description; with its bytes for `media.get`.
    static func media(_ m: MediaFile, dataBase64: String? = nil) -> [UInt8] {
        let out = ByteWriter(capacity: 256 + (dataBase64?.utf8.count ?? 0))
        writeMedia(m, dataBase64: dataBase64, into: out)
        return out.array
    }

    static func writeMedia(_ m: MediaFile, dataBase64: String? = nil, into out: ByteWriter) {
        var o = JSONObjectBytes(into: out)
        o.add("id", m.id)
        o.add("fileName", m.fileName)
        o.add("contentType", m.contentType)
        o.add("byteCount", int: m.byteCount)
        o.add("sha256", m.sha256)
        if let dataBase64 { o.add("dataBase64", dataBase64) }
        o.close()
    }

    static func writeApproval(_ a: Approval, into out: ByteWriter) {
        var o = JSONObjectBytes(into: out)
        o.add("status", a.status.rawValue)
        o.add("reviewedBy", a.reviewedBy)
        if let at = a.reviewedAt { o.add("reviewedAt") { $0.appendTimestamp(at) } } else { o.add("reviewedAt", nil) }
        o.add("reason", a.reason)
        o.close()
    }

    // Credentials and versions are the most frequent answers (every change returns one, lists
    // hold up to 1,000): they are written straight to bytes, nested objects into the same
    // writer, not built as a tree and encoded.

    /// A version with its expiry status as of `asOf`.
    static func version(_ v: CredentialVersion, _ clock: ExpiryClock) -> JSON {
        let out = ByteWriter(capacity: 512)
        writeVersion(v, clock, into: out)
        return .encoded(out.array)
    }

    static func writeVersion(_ v: CredentialVersion, _ clock: ExpiryClock, into out: ByteWriter) {
        var o = JSONObjectBytes(into: out)
        o.add("number", int: v.number)
        o.add("issueDate", v.issueDate.description)
        o.add("expirationDate", v.expirationDate?.description)
        o.add("documentNumber", v.documentNumber)
        o.add("media") { out in
            out.append(UInt8(ascii: "["))
            for (i, m) in v.media.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeMedia(m, into: out)
            }
            out.append(UInt8(ascii: "]"))
        }
        o.add("approval") { writeApproval(v.approval, into: $0) }
        o.add("expiryStatus", ExpiryStatus.of(expiration: v.expirationDate, asOf: clock.asOf, windowDays: clock.windowDays).rawValue)
        o.add("createdBy", v.createdBy)
        o.add("createdAt") { $0.appendTimestamp(v.createdAt) }
        o.close()
    }

    static func credential(_ c: Credential, _ clock: ExpiryClock) -> JSON {
        var o = JSONObjectBytes(into: ByteWriter(capacity: 1024))
        o.add("id", c.id)
        o.add("userId", c.userID)
        o.add("typeId", c.typeID)
        o.add("typeName", c.typeName)
        o.add("versionCount", int: c.versionCount)
        o.add("latestVersion") { writeVersion(c.latest, clock, into: $0) }
        o.add("createdAt") { $0.appendTimestamp(c.createdAt) }
        o.add("updatedAt") { $0.appendTimestamp(c.updatedAt) }
        return .encoded(o.closed())
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

    /// Dates taken are 1000-01-01 to 9999-12-31 (`CredentialFields.date`); the pattern stays four
    /// digits of any value, since a due date may fall before 1000 and older files hold earlier dates.
    static let date = Schema.string(format: "date", pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                                    description: "A calendar date, YYYY-MM-DD; dates given must be from 1000-01-01 to 9999-12-31 (else invalid_date)")
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
        Property("fileName", .string(minLength: 1, maxLength: CredentialFields.maxFileNameLength),
                 "A plain name. Its extension, if any, must fit the type: .pdf, .png, .jpg/.jpeg/.jpe/.jfif, .heic/.heif (else unsupported_media)."),
        Property("contentType", .oneOf(MediaKind.allCases.map(\.rawValue), reason: "unsupported_media"),
                 "Must match the file's bytes. Any other type is -32602 unsupported_media."),
        Property("dataBase64", .string(minLength: 1),
                 "The whole file, base64 as RFC 4648 section 4 writes it: standard alphabet, = padding, no whitespace. Checked whole: a file that does not parse is unsupported_media."),
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

extension ByteWriter {
    /// A timestamp as a JSON string, `"2026-01-01T00:00:00.000Z"`, written in place.
    func appendTimestamp(_ millis: Int64) {
        appendQuoted(count: Timestamp.formattedCount) { Timestamp.format(millis: millis, into: $0) }
    }
}
