import CCrypto

/// A kind of credential (a licence, a certificate), defined by admins.
public struct CredentialType: Equatable, Sendable {
    public var id: String
    public var name: String
    public var description: String
    public var requiresExpiration: Bool
    public var archived: Bool
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(id: String, name: String, description: String, requiresExpiration: Bool, archived: Bool, createdAt: Int64, updatedAt: Int64) {
        self.id = id
        self.name = name
        self.description = description
        self.requiresExpiration = requiresExpiration
        self.archived = archived
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public enum ApprovalStatus: String, CaseIterable, Sendable {
    case pending, approved, rejected
}

public struct Approval: Equatable, Sendable {
    public var status: ApprovalStatus
    public var reviewedBy: String?
    public var reviewedAt: Int64?
    public var reason: String?

    public init(status: ApprovalStatus, reviewedBy: String? = nil, reviewedAt: Int64? = nil, reason: String? = nil) {
        self.status = status
        self.reviewedBy = reviewedBy
        self.reviewedAt = reviewedAt
        self.reason = reason
    }

    public static let pending = Approval(status: .pending)
}

/// A stored media file's description (its bytes are fetched separately by `media.get`).
public struct MediaFile: Equatable, Sendable {
    public var id: String
    public var fileName: String
    public var contentType: String
    public var byteCount: Int
    public var sha256: String

    public init(id: String, fileName: String, contentType: String, byteCount: Int, sha256: String) {
        self.id = id
        self.fileName = fileName
        self.contentType = contentType
        self.byteCount = byteCount
        self.sha256 = sha256
    }
}

/// One version of a credential: a renewal adds a new one; an edit changes the latest in place.
public struct CredentialVersion: Equatable, Sendable {
    public var number: Int
    public var issueDate: CalendarDate
    public var expirationDate: CalendarDate?
    public var documentNumber: String?
    public var media: [MediaFile]
    public var approval: Approval
    public var createdBy: String
    public var createdAt: Int64

    public init(number: Int, issueDate: CalendarDate, expirationDate: CalendarDate?, documentNumber: String?, media: [MediaFile],
                approval: Approval, createdBy: String, createdAt: Int64) {
        self.number = number
        self.issueDate = issueDate
        self.expirationDate = expirationDate
        self.documentNumber = documentNumber
        self.media = media
        self.approval = approval
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// A credential: whose, of which type, and its latest version.
public struct Credential: Equatable, Sendable {
    public var id: String
    public var userID: String
    public var typeID: String
    public var typeName: String
    public var versionCount: Int
    public var latest: CredentialVersion
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(id: String, userID: String, typeID: String, typeName: String, versionCount: Int, latest: CredentialVersion,
                createdAt: Int64, updatedAt: Int64) {
        self.id = id
        self.userID = userID
        self.typeID = typeID
        self.typeName = typeName
        self.versionCount = versionCount
        self.latest = latest
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public enum ExpiryStatus: String, CaseIterable, Sendable {
    case valid, expiring, expired

    public static let defaultWindowDays = 30

    /// Valid through the expiration date: `expired` when it is before `asOf`, `expiring` when it
    /// falls within `windowDays` after `asOf`, else `valid`. No expiration date is `valid`.
    /// Counted in days, so a window that runs past 9999-12-31 needs no date beyond it.
    public static func of(expiration: CalendarDate?, asOf: CalendarDate, windowDays: Int) -> ExpiryStatus {
        guard let expiration else { return .valid }
        if expiration < asOf { return .expired }
        if expiration.daysSinceEpoch - asOf.daysSinceEpoch <= windowDays { return .expiring }
        return .valid
    }
}

/// Field rules for credentials.
public enum CredentialFields {
    public static let maxDocumentNumberLength = 100
    public static let maxTypeNameLength = 100
    public static let maxDescriptionLength = 2000
    public static let maxFileNameLength = 255
    public static let maxReasonLength = 2000

    /// A date given to the service: a real calendar date in the accepted range, 1000-01-01 to
    /// 9999-12-31 (so every due date and window computed from it is exact; see `CalendarDate`).
    public static func date(_ text: String, field: String) throws(DomainError) -> CalendarDate {
        guard let d = CalendarDate(text), d.isAccepted else {
            throw .invalid(reason: "invalid_date", fields: [FieldIssue(field, dateRule)])
        }
        return d
    }

    public static let dateRule = "must be a real calendar date written YYYY-MM-DD, from \(CalendarDate.earliestAccepted) to \(CalendarDate.latestAccepted)"

    /// The dates of a version: the expiration is required when the type says so, and never before the issue date.
    public static func checkDates(issue: CalendarDate, expiration: CalendarDate?, requiresExpiration: Bool,
                                  expirationField: String = "expirationDate") throws(DomainError) {
        if requiresExpiration && expiration == nil {
            throw .invalidField(expirationField, "is required for this credential type")
        }
        if let expiration, expiration < issue {
            throw .invalid(reason: "invalid_date", fields: [FieldIssue(expirationField, "must not be before the issue date")])
        }
    }

    /// A document number, trimmed; empty means none.
    public static func documentNumber(_ raw: String?, field: String = "documentNumber") throws(DomainError) -> String? {
        guard let raw else { return nil }
        // Checked before trimming: a tab or CR in front (`"\t=cmd"`) is refused, not trimmed away
        // into something a spreadsheet would run.
        if !(raw.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) || TextRules.all(raw, TextRules.allowedInName)) {
            throw .invalidField(field, "must not contain control characters, bidi controls or invisible formatting characters")
        }
        let v = raw.trimmingWhitespace()
        if v.isEmpty { return nil }
        // Printable ASCII (the usual case) has one character per byte.
        if v.utf8.count <= maxDocumentNumberLength { return v }
        if v.count > maxDocumentNumberLength { throw .invalidField(field, "must be at most \(maxDocumentNumberLength) characters") }
        return v
    }

    /// A type name, trimmed, 1 to 100 characters.
    public static func typeName(_ raw: String, field: String = "name") throws(DomainError) -> String {
        try UserFields.name(raw, field: field, max: maxTypeNameLength)
    }

    /// A media file name: no folders (a separator of any script), no control or format
    /// characters (`a\u{202E}gpj.exe` would show as `aexe.jpg`), 1 to 255 characters.
    public static func fileName(_ raw: String, field: String) throws(DomainError) -> String {
        if !TextRules.all(raw, TextRules.allowedInFileName) {
            throw .invalidField(field, "must be a plain file name, without folders, control characters or invisible formatting characters")
        }
        let name = raw.trimmingWhitespace()
        if name.isEmpty || name.count > maxFileNameLength {
            throw .invalidField(field, "must be 1 to \(maxFileNameLength) characters")
        }
        if name == "." || name == ".." { throw .invalidField(field, "must be a plain file name, without folders") }
        return name
    }

    /// A type's description: free text (`TextRules.allowedInText`), trimmed, at most 2,000 characters.
    public static func description(_ raw: String, field: String = "description") throws(DomainError) -> String {
        if !TextRules.all(raw, TextRules.allowedInText) {
            throw .invalidField(field, "must not contain control characters other than tabs and line breaks, nor bidi controls")
        }
        return raw.trimmingWhitespace()
    }

    public static func rejectionReason(_ raw: String) throws(DomainError) -> String {
        if !TextRules.all(raw, TextRules.allowedInText) {
            throw .invalidField("reason", "must not contain control characters other than tabs and line breaks, nor bidi controls")
        }
        let r = raw.trimmingWhitespace()
        if r.isEmpty { throw .invalidField("reason", "must not be empty: say why the credential is rejected") }
        if r.count > maxReasonLength { throw .invalidField("reason", "must be at most \(maxReasonLength) characters") }
        return r
    }
}

/// Media types accepted, recognised from their first bytes, never from the declared name or type;
/// then checked whole by `MediaFormat.problem` (MediaFormats.swift).
public enum MediaKind: String, CaseIterable, Sendable {
    case jpeg = "image/jpeg"
    case png = "image/png"
    case heic = "image/heic"
    case pdf = "application/pdf"

    /// The kind the bytes say they are, or nil when they are none of these.
    public static func detect(_ b: [UInt8]) -> MediaKind? {
        if b.count >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF { return .jpeg }
        if b.starts(with: PNGFormat.signatureBytes) { return .png }
        if b.starts(with: Array("%PDF-".utf8)) { return .pdf }
        // ISO base media file: a box size, then "ftyp" naming a HEIF brand, major or compatible.
        if b.withUnsafeBufferPointer(HEIFFormat.declaresHEIFBrand) { return .heic }
        return nil
    }
}

public enum Digest {
    /// SHA-256 from libcrypto.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        bytes.withUnsafeBufferPointer { crpc_sha256($0.baseAddress, $0.count, &out) }
        return out
    }

    /// SHA-256 from libcrypto, as lowercase hex.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        let out = sha256(bytes)
        let hex = Array("0123456789abcdef".utf8)
        var s: [UInt8] = []
        s.reserveCapacity(64)
        for b in out { s.append(hex[Int(b >> 4)]); s.append(hex[Int(b & 0xF)]) }
        return String(decoding: s, as: UTF8.self)
    }
}

/// Who may do what with credentials (Protocol/README.md §7, who may do what).
public enum CredentialAccess {
    /// One's own credentials are always visible; another user's follow its latest version's
    /// approval: approved ones need `viewReports`, pending and rejected ones `viewApplications`.
    public static func canView(_ actor: User, ownerID: String, latestApproval: ApprovalStatus) -> Bool {
        canView(actor, isOwner: actor.id == ownerID, latestApproval: latestApproval)
    }

    public static func canView(_ actor: User, isOwner: Bool, latestApproval: ApprovalStatus) -> Bool {
        isOwner || actor.permissions.has(permissionToSeeOthers(latestApproval))
    }

    /// The rule itself: the permission that shows another user's credential whose latest
    /// version has this approval. Lists, reports, reminders to followers and their SQL all ask it.
    public static func permissionToSeeOthers(_ latestApproval: ApprovalStatus) -> Permission {
        latestApproval == .approved ? .viewReports : .viewApplications
    }

    /// The latest approvals of other users' credentials that `actor` may see: the rule of
    /// `canView`, as the list of statuses a list's query filters on.
    public static func othersVisible(to actor: User) -> [ApprovalStatus] {
        ApprovalStatus.allCases.filter { canView(actor, isOwner: false, latestApproval: $0) }
    }

    /// Adding, renewing, editing and removing media: one's own, or an admin with `orderIndividualChecks`.
    public static func checkEdit(_ actor: User, ownerID: String) throws(DomainError) {
        if actor.id == ownerID { return }
        guard actor.role == .admin && actor.permissions.has(.orderIndividualChecks) else {
            throw .forbidden("Changing another user's credentials needs an admin with orderIndividualChecks")
        }
    }

    /// Deleting: one's own, or any admin.
    public static func checkDelete(_ actor: User, ownerID: String) throws(DomainError) {
        if actor.id == ownerID || actor.role == .admin { return }
        throw .forbidden("Deleting another user's credentials is for admins")
    }

    /// Media bytes of another user's credential need `shareReports`.
    public static func checkMediaDownload(_ actor: User, ownerID: String) throws(DomainError) {
        if actor.id == ownerID || actor.permissions.has(.shareReports) { return }
        throw .forbidden("Downloading another user's media needs shareReports")
    }

    /// Approving and rejecting is for admins; an approval is final.
    /// Reviewing is for admins (the method table says so); a version's approval is final.
    public static func checkReview(current: ApprovalStatus) throws(DomainError) {
        if current == .approved {
            throw .conflict(reason: "already_approved", message: "This version is approved; an approval is final")
        }
    }
}

/// Organization-wide settings that change how credentials behave.
public struct OrgSettings: Equatable, Sendable {
    /// How many days before expiry a credential counts as `expiring`.
    public var expiringWindowDays: Int
    /// When false, new versions start approved.
    public var approvalsRequired: Bool

    public init(expiringWindowDays: Int = ExpiryStatus.defaultWindowDays, approvalsRequired: Bool = true) {
        self.expiringWindowDays = expiringWindowDays
        self.approvalsRequired = approvalsRequired
    }
}
