import Testing
@testable import CredentialsCore

struct CredentialRulesTests {
    let d = { (s: String) in CalendarDate(s)! }

    @Test("expiry status, valid through the expiration date", arguments: [
        (nil, "valid"), ("2026-01-09", "expired"), ("2026-01-10", "expiring"), ("2026-02-09", "expiring"),
        ("2026-02-10", "valid"), ("2027-01-01", "valid"),
    ] as [(String?, String)])
    func expiry(expiration: String?, status: String) {
        #expect(ExpiryStatus.of(expiration: expiration.flatMap(CalendarDate.init), asOf: d("2026-01-10"), windowDays: 30).rawValue == status)
    }

    @Test func theWindowIsASetting() {
        #expect(ExpiryStatus.of(expiration: d("2026-01-20"), asOf: d("2026-01-10"), windowDays: 5) == .valid)
        #expect(ExpiryStatus.of(expiration: d("2026-01-15"), asOf: d("2026-01-10"), windowDays: 5) == .expiring)
        #expect(ExpiryStatus.of(expiration: d("2026-01-10"), asOf: d("2026-01-10"), windowDays: 0) == .expiring)
    }

    @Test func datesMustBeRealAndInOrder() {
        #expect(throws: DomainError.invalid(reason: "invalid_date", fields: [FieldIssue("issueDate", "must be a real calendar date written YYYY-MM-DD, from 1000-01-01 to 9999-12-31")])) {
            try CredentialFields.date("2026-02-30", field: "issueDate")
        }
        #expect(throws: DomainError.self) { try CredentialFields.checkDates(issue: d("2026-01-02"), expiration: d("2026-01-01"), requiresExpiration: false) }
        #expect(throws: DomainError.invalidField("expirationDate", "is required for this credential type")) {
            try CredentialFields.checkDates(issue: d("2026-01-02"), expiration: nil, requiresExpiration: true)
        }
        #expect(throws: Never.self) { try CredentialFields.checkDates(issue: d("2026-01-02"), expiration: d("2026-01-02"), requiresExpiration: true) }
        #expect(throws: Never.self) { try CredentialFields.checkDates(issue: d("2026-01-02"), expiration: nil, requiresExpiration: false) }
    }

    /// Dates given are from 1000-01-01 to 9999-12-31; windows after them are counted in days, and
    /// as bounds on stored dates end at 9999-12-31 rather than wrap to year "0000".
    @Test func theAcceptedRangeAndWindowsAtItsTop() throws {
        for ok in ["1000-01-01", "9999-12-31"] { #expect(try CredentialFields.date(ok, field: "asOf") == d(ok)) }
        for refused in ["0999-12-31", "0001-01-01", "0000-01-01"] {
            #expect(throws: DomainError.invalid(reason: "invalid_date", fields: [FieldIssue("asOf", CredentialFields.dateRule)]),
                     "\(refused)") { try CredentialFields.date(refused, field: "asOf") }
        }
        #expect(d("9999-12-30").windowEnd(days: 30) == d("9999-12-31"))
        #expect(d("9999-12-01").windowEnd(days: 30) == d("9999-12-31"))
        #expect(d("9999-11-30").windowEnd(days: 30) == d("9999-12-30"))
        #expect(d("2024-02-28").windowEnd(days: 1) == d("2024-02-29"))
        #expect(ExpiryStatus.of(expiration: d("9999-12-31"), asOf: d("9999-12-30"), windowDays: 365) == .expiring)
        #expect(ExpiryStatus.of(expiration: d("9999-12-31"), asOf: d("9998-12-30"), windowDays: 365) == .valid)
    }

    @Test func textFields() throws {
        #expect(try CredentialFields.documentNumber("  AB-1 ") == "AB-1")
        #expect(try CredentialFields.documentNumber("   ") == nil)
        #expect(try CredentialFields.documentNumber(nil) == nil)
        #expect(throws: DomainError.self) { try CredentialFields.documentNumber(String(repeating: "x", count: 101)) }
        #expect(try CredentialFields.fileName(" card.pdf ", field: "f") == "card.pdf")
        for bad in ["", "../etc/passwd", "a/b.pdf", "a\\b.pdf", "..", "a\u{0}.pdf", String(repeating: "x", count: 256)] {
            #expect(throws: DomainError.self) { try CredentialFields.fileName(bad, field: "f") }
        }
        #expect(throws: DomainError.self) { try CredentialFields.rejectionReason("  ") }
        #expect(try CredentialFields.rejectionReason(" blurry ") == "blurry")
    }

    @Test("media kinds come from the bytes", arguments: [
        ([0xFF, 0xD8, 0xFF, 0xE0, 0, 0], "image/jpeg"),
        ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0], "image/png"),
        (Array("%PDF-1.7\n".utf8), "application/pdf"),
        ([0, 0, 0, 0x10] + Array("ftypheic".utf8) + [0, 0, 0, 0], "image/heic"),
        ([0, 0, 0, 0x14] + Array("ftypmif1".utf8) + [0, 0, 0, 0] + Array("heic".utf8), "image/heic"),
        ([0, 0, 0, 0x14] + Array("ftypisom".utf8) + [0, 0, 0, 0] + Array("msf1".utf8), "image/heic"),  // a compatible brand
        ([0, 0, 0, 0x14] + Array("ftypmp42".utf8) + [0, 0, 0, 0] + Array("isom".utf8), nil),   // an MP4 video
        ([0, 0, 0, 0x18] + Array("ftypheic".utf8), nil),   // an ftyp box longer than the file
        ([0, 0, 0, 0x10] + Array("ftypmp42".utf8) + Array("heic".utf8), nil),  // "heic" as the minor version, not a brand
        (Array("GIF89a".utf8), nil),
        (Array("PK\u{3}\u{4}".utf8), nil),                  // a zip
        ([0xFF, 0xD8], nil),
        ([], nil),
    ] as [([UInt8], String?)])
    func mediaKinds(bytes: [UInt8], kind: String?) {
        #expect(MediaKind.detect(bytes)?.rawValue == kind)
    }

    @Test func sha256FromLibcrypto() {
        #expect(Digest.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.sha256Hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func whoMaySeeAndChange() {
        let admin = makeUser("a", .admin)
        let bareAdmin = makeUser("b", .admin, .none)
        let support = makeUser("s", .support)
        let noView = makeUser("n", .support, Permissions.applying([.viewReports: false, .viewApplications: false], to: .all))
        // Own: always.
        for u in [admin, bareAdmin, support, noView] {
            for a in ApprovalStatus.allCases { #expect(CredentialAccess.canView(u, ownerID: u.id, latestApproval: a)) }
            #expect(throws: Never.self) { try CredentialAccess.checkEdit(u, ownerID: u.id) }
            #expect(throws: Never.self) { try CredentialAccess.checkDelete(u, ownerID: u.id) }
            #expect(throws: Never.self) { try CredentialAccess.checkMediaDownload(u, ownerID: u.id) }
        }
        // Others': by permission.
        #expect(CredentialAccess.canView(support, ownerID: "x", latestApproval: .approved))
        #expect(CredentialAccess.canView(support, ownerID: "x", latestApproval: .rejected))
        #expect(!CredentialAccess.canView(noView, ownerID: "x", latestApproval: .approved))
        #expect(!CredentialAccess.canView(bareAdmin, ownerID: "x", latestApproval: .pending))
        let onlyReports = makeUser("r", .support, Permissions.applying([.viewApplications: false], to: .all))
        #expect(CredentialAccess.canView(onlyReports, ownerID: "x", latestApproval: .approved))
        #expect(!CredentialAccess.canView(onlyReports, ownerID: "x", latestApproval: .pending))
        #expect(throws: Never.self) { try CredentialAccess.checkEdit(admin, ownerID: "x") }
        #expect(throws: DomainError.self) { try CredentialAccess.checkEdit(support, ownerID: "x") }
        #expect(throws: DomainError.self) { try CredentialAccess.checkEdit(bareAdmin, ownerID: "x") }
        #expect(throws: Never.self) { try CredentialAccess.checkDelete(bareAdmin, ownerID: "x") }
        #expect(throws: DomainError.self) { try CredentialAccess.checkDelete(support, ownerID: "x") }
        #expect(throws: DomainError.self) { try CredentialAccess.checkMediaDownload(bareAdmin, ownerID: "x") }
        #expect(throws: Never.self) { try CredentialAccess.checkMediaDownload(support, ownerID: "x") }
        #expect(throws: DomainError.conflict(reason: "already_approved", message: "This version is approved; an approval is final")) {
            try CredentialAccess.checkReview(current: .approved)
        }
        #expect(throws: Never.self) { try CredentialAccess.checkReview(current: .rejected) }
        #expect(throws: DomainError.self) { try UserRules.requireAdmin(support) }  // reviewing is `.admin` in the table
        #expect(throws: DomainError.self) { try UserRules.requireAdmin(bareAdmin, holding: .createEditPackages) }
        #expect(throws: Never.self) { try UserRules.requireAdmin(admin, holding: .createEditPackages) }
    }
}
