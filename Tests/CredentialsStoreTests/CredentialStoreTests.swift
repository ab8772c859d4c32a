import Testing
@testable import CredentialsCore
@testable import CredentialsStore

struct CredentialStoreTests {
    func setUp() throws -> (Database, CredentialStore) {
        let db = try Database(path: ":memory:")
        let users = UserStore(db)
        for id in ["usr_a", "usr_b"] {
            try users.insert(UserRecord(user: User(id: id, email: "\(id)@example.com", firstName: "F", lastName: "L", role: .support,
                                                   permissions: .all, status: .active, mustChangePassword: false, createdAt: 0, updatedAt: 0),
                                        passwordHash: "x"))
        }
        let store = CredentialStore(db)
        try store.insertType(CredentialType(id: "ctype_1", name: "Licence", description: "", requiresExpiration: false, archived: false, createdAt: 0, updatedAt: 0))
        return (db, store)
    }

    func version(_ n: Int, expiration: String?, approval: ApprovalStatus = .pending) -> CredentialVersion {
        CredentialVersion(number: n, issueDate: CalendarDate("2025-01-01")!, expirationDate: expiration.flatMap(CalendarDate.init),
                          documentNumber: "D\(n)", media: [], approval: Approval(status: approval), createdBy: "usr_a", createdAt: Int64(n))
    }

    /// A renewal writes only the summary columns that change; whichever it writes, the row and
    /// every index on it agree with the latest version.
    @Test func aRenewalKeepsEveryIndexInStepWhateverItChanges() throws {
        let (db, store) = try setUp()
        try store.insertCredential(id: "cred_1", userID: "usr_a", typeID: "ctype_1", first: version(1, expiration: "2026-01-01"))
        let steps: [(String?, ApprovalStatus)] = [("2026-01-01", .pending), ("2027-01-01", .pending), ("2027-01-01", .approved),
                                                  (nil, .rejected), (nil, .rejected), ("2028-01-01", .pending)]
        for (i, (expiration, approval)) in steps.enumerated() {
            let latest = try #require(try store.latest(credentialID: "cred_1"))
            #expect(latest.versionCount == i + 1)
            try store.insertVersion(credentialID: "cred_1", version(i + 2, expiration: expiration, approval: approval), replacing: latest, updatedAt: Int64(100 + i))
            let now = try #require(try store.latest(credentialID: "cred_1"))
            #expect(now == CredentialStore.Latest(versionCount: i + 2, expiration: expiration, approval: approval.rawValue))
            // Through each index that holds the two columns.
            let byExpiration = try db.all("SELECT id FROM credentials INDEXED BY credentials_expiration WHERE latest_expiration IS ?", expiration) { $0.text(0) }
            let byApproval = try db.all("SELECT id FROM credentials INDEXED BY credentials_approval WHERE latest_approval = ?", approval.rawValue) { $0.text(0) }
            let byType = try db.all("SELECT id FROM credentials INDEXED BY credentials_type_expiration WHERE type_id = 'ctype_1' AND latest_expiration IS ?", expiration) { $0.text(0) }
            let byUser = try db.all("SELECT latest_expiration, latest_approval FROM credentials INDEXED BY credentials_user WHERE user_id = 'usr_a'") { [$0.optionalText(0), $0.text(1)] }
            #expect(byExpiration == ["cred_1"] && byApproval == ["cred_1"] && byType == ["cred_1"], "step \(i)")
            #expect(byUser == [[expiration, approval.rawValue]], "step \(i)")
            #expect(try store.find(id: "cred_1")?.updatedAt == Int64(100 + i))
        }
        #expect(try db.scalarText("PRAGMA integrity_check") == "ok")
    }

    @Test func theCredentialRowFollowsItsLatestVersion() throws {
        let (_, store) = try setUp()
        try store.insertCredential(id: "cred_1", userID: "usr_a", typeID: "ctype_1", first: version(1, expiration: "2026-01-01", approval: .approved))
        try store.insertVersion(credentialID: "cred_1", version(2, expiration: "2027-01-01"), replacing: try #require(try store.latest(credentialID: "cred_1")), updatedAt: 9)
        let c = try #require(try store.find(id: "cred_1"))
        #expect(c.versionCount == 2)
        #expect(c.latest.number == 2)
        #expect(c.typeName == "Licence")
        #expect(c.updatedAt == 9)
        let f = CredentialFilter(approval: .pending, asOf: CalendarDate("2026-06-01")!, windowDays: 30)
        #expect(try store.list(f, visibility: .everything, after: nil, limit: 10).credentials.map(\.id) == ["cred_1"])
        var v2 = try #require(try store.version(credentialID: "cred_1", number: 2))
        v2.approval = Approval(status: .approved, reviewedBy: "usr_b", reviewedAt: 5, reason: nil)
        try store.updateVersion(credentialID: "cred_1", v2, updatedAt: 10)
        #expect(try store.list(f, visibility: .everything, after: nil, limit: 10).credentials.isEmpty)
        #expect(try store.versions(credentialID: "cred_1").map(\.number) == [2, 1])
    }

    @Test func visibilityLimitsOtherUsersByApproval() throws {
        let (_, store) = try setUp()
        try store.insertCredential(id: "cred_1", userID: "usr_a", typeID: "ctype_1", first: version(1, expiration: nil))
        try store.insertCredential(id: "cred_2", userID: "usr_b", typeID: "ctype_1", first: version(1, expiration: nil, approval: .approved))
        try store.insertCredential(id: "cred_3", userID: "usr_b", typeID: "ctype_1", first: version(1, expiration: nil))
        let f = CredentialFilter(asOf: CalendarDate("2026-01-01")!, windowDays: 30)
        func ids(_ v: Visibility) throws -> [String] { try store.list(f, visibility: v, after: nil, limit: 10).credentials.map(\.id) }
        #expect(try ids(.everything) == ["cred_1", "cred_2", "cred_3"])
        #expect(try ids(.ownPlus(userID: "usr_a", approvals: [])) == ["cred_1"])
        #expect(try ids(.ownPlus(userID: "usr_a", approvals: [.approved])) == ["cred_1", "cred_2"])
        #expect(try ids(.ownPlus(userID: "usr_a", approvals: [.pending, .rejected])) == ["cred_1", "cred_3"])
    }

    @Test func deletingCascadesToEverything() throws {
        let (db, store) = try setUp()
        try store.insertCredential(id: "cred_1", userID: "usr_a", typeID: "ctype_1", first: version(1, expiration: nil))
        try store.insertMedia(credentialID: "cred_1", version: 1, MediaFile(id: "med_1", fileName: "a.pdf", contentType: "application/pdf", byteCount: 3, sha256: "x"), bytes: [1, 2, 3], at: 0)
        try store.appendActivity(credentialID: "cred_1", version: 1, at: 0, actorID: nil,
                                 changes: Array(#"[{"field":"issueDate","from":null,"to":"x"},{"field":"media","from":null,"to":{"id":"med_1"}}]"#.utf8))
        #expect(try store.deletePreview(credentialID: "cred_1") == DeletePreview(versions: 1, mediaFiles: 1, mediaBytes: 3, activityEntries: 2))
        try store.delete(credentialID: "cred_1")
        for table in ["credentials", "credential_versions", "media", "credential_events"] {
            #expect(try db.scalarInt("SELECT count(*) FROM \(table)") == 0, "\(table)")
        }
    }

    static let asOf = CalendarDate("2026-01-01")!
    static let shapes: [(String, CredentialFilter, Visibility, String)] = [
        ("all", CredentialFilter(asOf: asOf, windowDays: 30), .everything, "sqlite_autoindex_credentials_1"),
        ("user", CredentialFilter(userID: "u", asOf: asOf, windowDays: 30), .everything, "credentials_user"),
        ("user and approval", CredentialFilter(userID: "u", approval: .approved, asOf: asOf, windowDays: 30), .everything, "credentials_user"),
        ("user and expiring", CredentialFilter(userID: "u", expiry: .expiring, asOf: asOf, windowDays: 30), .everything, "credentials_user"),
        ("type", CredentialFilter(typeID: "t", asOf: asOf, windowDays: 30), .everything, "credentials_type"),
        ("approval", CredentialFilter(approval: .pending, asOf: asOf, windowDays: 30), .everything, "credentials_approval"),
        ("expired", CredentialFilter(expiry: .expired, asOf: asOf, windowDays: 30), .everything, "credentials_expiration"),
        ("expiring", CredentialFilter(expiry: .expiring, asOf: asOf, windowDays: 30), .everything, "credentials_expiration"),
        ("expiring of a type", CredentialFilter(typeID: "t", expiry: .expiring, asOf: asOf, windowDays: 30), .everything, "credentials_type_expiration"),
        ("expired of a type", CredentialFilter(typeID: "t", expiry: .expired, asOf: asOf, windowDays: 30), .everything, "credentials_type_expiration"),
        ("expired, own plus approved", CredentialFilter(expiry: .expired, asOf: asOf, windowDays: 30), .ownPlus(userID: "u", approvals: [.approved]), "credentials_expiration"),
        ("only own", CredentialFilter(asOf: asOf, windowDays: 30), .ownPlus(userID: "u", approvals: []), "credentials_user"),
        // A caller who sees only their own lists one user's credentials whatever the filter: left
        // to the planner, page 2 of these walked every credential of the type (or approval).
        ("only own, of a type", CredentialFilter(typeID: "t", asOf: asOf, windowDays: 30), .ownPlus(userID: "u", approvals: []), "credentials_user"),
        ("only own, approved", CredentialFilter(approval: .approved, asOf: asOf, windowDays: 30), .ownPlus(userID: "u", approvals: []), "credentials_user"),
        ("only own, valid", CredentialFilter(expiry: .valid, asOf: asOf, windowDays: 30), .ownPlus(userID: "u", approvals: []), "credentials_user"),
        ("only own, expiring", CredentialFilter(expiry: .expiring, asOf: asOf, windowDays: 30), .ownPlus(userID: "u", approvals: []), "credentials_user"),
        ("valid", CredentialFilter(expiry: .valid, asOf: asOf, windowDays: 30), .everything, "sqlite_autoindex_credentials_1"),
        ("own plus approved", CredentialFilter(asOf: asOf, windowDays: 30), .ownPlus(userID: "u", approvals: [.approved]), "sqlite_autoindex_credentials_1"),
    ]

    @Test("every list shape is served by an index in its own order", arguments: shapes.indices)
    func listQueriesUseIndexes(index: Int) throws {
        let (name, filter, visibility, expectedIndex) = Self.shapes[index]
        let (db, _) = try setUp()
        for after in [nil, Order.of(filter).key(id: Self.someID, expiration: CalendarDate("2026-01-01"))] as [String?] {
            let (sql, args) = try CredentialStore.listQuery(filter, visibility: visibility, after: after, limit: 100)
            var plan: [String] = []
            try db.query("EXPLAIN QUERY PLAN " + sql, args) { plan.append($0.text(3)) }
            let credentials = plan.first { $0.hasPrefix("SEARCH c ") || $0.hasPrefix("SCAN c ") } ?? ""
            #expect(credentials.contains("INDEX \(expectedIndex)"), "\(name): \(plan)")
            // Versions and types are looked up by key, never scanned.
            #expect(!plan.contains { $0.hasPrefix("SCAN v") || $0.hasPrefix("SCAN t") }, "\(name): \(plan)")
            // No shape but one user's credentials sorts (a user holds few, and credentials_user
            // is in type order for compliance): each page reads about `limit` rows.
            if expectedIndex != "credentials_user" { #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(name): \(plan)") }
        }
    }

    @Test func aTeamReportReadsMembersInKeyOrderAndCredentialsFromTheIndexAlone() throws {
        let (db, _) = try setUp()
        let plan = try db.all("EXPLAIN QUERY PLAN " + TeamStore.memberHoldingsSQL(types: 3), "t1", "t2", "t3", "team") { $0.text(3) }
        #expect(plan.contains { $0.hasPrefix("SEARCH c USING COVERING INDEX credentials_user (user_id=? AND type_id=?)") }, "\(plan)")
        #expect(!plan.contains { $0.contains("TEMP B-TREE") || $0.hasPrefix("SCAN") }, "\(plan)")
        // The statistics row is loaded: between one type asked and the next, SQLite steps
        // through the member's entries (SeekScan) rather than seeking from the root again.
        let opcodes = try db.all("EXPLAIN " + TeamStore.memberHoldingsSQL(types: 3), "t1", "t2", "t3", "team") { $0.text(1) }
        #expect(opcodes.contains("SeekScan"), "\(opcodes)")
    }

    /// Every credentials.get reads its latest version's media: in id order from the index, not sorted.
    @Test func aVersionsMediaComeInIdOrderFromTheIndex() throws {
        let (db, _) = try setUp()
        let plan = try db.all("EXPLAIN QUERY PLAN " + CredentialStore.mediaOfVersion, "c", 1) { $0.text(3) }
        #expect(plan.contains { $0.contains("INDEX media_version_id") }, "\(plan)")
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
    }

    /// `find` reads the media only when the latest version has some, and names the type from the
    /// read cache: both must still give what the one-query-per-part form gave.
    @Test func findGivesTheLatestVersionsMediaAndTheTypesCurrentName() throws {
        let (db, store) = try setUp()
        try store.insertCredential(id: "cred_1", userID: "usr_a", typeID: "ctype_1", first: version(1, expiration: nil))
        #expect(try store.find(id: "cred_1")?.latest.media == [])
        let scan = MediaFile(id: "med_2", fileName: "b.pdf", contentType: "application/pdf", byteCount: 3, sha256: "s2")
        let photo = MediaFile(id: "med_1", fileName: "a.png", contentType: "image/png", byteCount: 2, sha256: "s1")
        try store.insertMedia(credentialID: "cred_1", version: 1, scan, bytes: [1, 2, 3], at: 1)
        try store.insertMedia(credentialID: "cred_1", version: 1, photo, bytes: [1, 2], at: 1)
        #expect(try store.find(id: "cred_1")?.latest.media == [photo, scan])
        // A renewal's version has no media of its own: the first version's stay with it.
        try store.insertVersion(credentialID: "cred_1", version(2, expiration: nil), replacing: #require(try store.latest(credentialID: "cred_1")), updatedAt: 2)
        #expect(try store.find(id: "cred_1")?.latest.media == [])
        #expect(try store.version(credentialID: "cred_1", number: 1)?.media == [photo, scan])
        // Renamed inside the same write transaction as an earlier read: the cache sees the change.
        try db.write {
            #expect(try store.find(id: "cred_1")?.typeName == "Licence")
            try store.updateType(CredentialType(id: "ctype_1", name: "Permit", description: "", requiresExpiration: false, archived: false, createdAt: 0, updatedAt: 3))
            #expect(try store.find(id: "cred_1")?.typeName == "Permit")
        }
        #expect(try store.find(id: "cred_1")?.typeName == "Permit")
        #expect(try store.find(id: "cred_none") == nil)
    }

    @Test func findLooksUpMediaThroughTheIndex() throws {
        let (db, _) = try setUp()
        let plan = try db.all("EXPLAIN QUERY PLAN " + CredentialStore.byID, "c") { $0.text(3) }
        #expect(plan.contains { $0.contains("COVERING INDEX media_version_id") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN") || $0.contains("TEMP B-TREE") }, "\(plan)")
    }

    static let someID = "cred_01KDVDNA000000000000000001"

    @Test func cursorsOfAnotherOrderOrShapeAreRefused() throws {
        let id = CredentialFilter(asOf: Self.asOf, windowDays: 30)
        let expiring = CredentialFilter(expiry: .expiring, asOf: Self.asOf, windowDays: 30)
        let expired = CredentialFilter(expiry: .expired, asOf: Self.asOf, windowDays: 30)
        let date = CalendarDate("2026-01-01")
        for (filter, key) in [
            (id, "asc|2026-01-01|\(Self.someID)"), (id, "cred_1"), (id, "usr_01KDVDNA000000000000000001"), (id, ""),
            (expiring, Self.someID), (expiring, "asc|2026-02-30|\(Self.someID)"), (expiring, "asc|2026-1-01|\(Self.someID)"),
            (expiring, "asc|2026-01-01|cred_1"), (expiring, "asc|2026-01-01|\(Self.someID)|"),
            (expiring, Order.expirationDescending.key(id: Self.someID, expiration: date)),
            (expired, Order.expirationAscending.key(id: Self.someID, expiration: date)),
            // The untagged form, which each expiration order used to take from the other.
            (expiring, "2026-01-01|\(Self.someID)"), (expired, "2026-01-01|\(Self.someID)"),
        ] {
            #expect(throws: CursorError.self, "\(key)") { try CredentialStore.listQuery(filter, visibility: .everything, after: key, limit: 1) }
        }
        for filter in [id, expiring, expired] {
            let key = Order.of(filter).key(id: Self.someID, expiration: date)
            #expect(throws: Never.self) { try CredentialStore.listQuery(filter, visibility: .everything, after: key, limit: 1) }
        }
    }
}

typealias Order = CredentialStore.Order
