import TestScratch
import Foundation
import Testing
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC

struct ImportTests {
    /// An organization with Sam (active), Gone (deactivated), a type that needs an expiry and an archived one.
    func organization() throws -> (TestClient, sam: String, type: String) {
        let (admin, _) = try bootstrap()
        let sam = admin.addUser("sam@example.com")
        let gone = admin.addUser("gone@example.com")
        admin.ok("users.deactivate", ["userId": .string(gone)])
        let type = admin.createType("First Aid", requiresExpiration: true)
        let old = admin.createType("Old Licence")
        admin.ok("credentialTypes.archive", ["typeId": .string(old)])
        return (admin, sam, type)
    }

    func count(_ admin: TestClient) -> Int { admin.ok("credentials.list", ["limit": 1000])["items"]?.arrayValue?.count ?? -1 }

    static let mixed = "email,credential_type,issue_date,expiration_date,document_number\r\n"
        + "sam@example.com,First Aid,2025-01-01,2027-01-01,FA-1\r\n"      // line 2: good
        + "nobody@example.com,First Aid,2025-01-01,2027-01-01,\r\n"       // line 3: unknown user
        + "gone@example.com,first aid,2025-02-30,2027-01-01,\r\n"         // line 4: deactivated user and a bad date
        + "SAM@example.com,FIRST AID,2025-01-01,,\"x\"\r\n"               // line 5: expiration required
        + "sam@example.com,Old Licence,2025-01-01,,\r\n"                  // line 6: archived type
        + "sam@example.com,First Aid,2025-01-01,2024-12-31,\"multi\r\nline\"\r\n"  // line 7: expiry before issue, control chars
        + "sam@example.com,Nope,2025-01-01,2027-01-01\r\n"                // line 9: field count
        + "sam@example.com,First Aid,2025-03-01,2027-03-01,\"FA, 2\"\r\n" // line 10: good

    @Test func allOrNothingReportsEveryBadRowAndWritesNothing() throws {
        let (admin, _, _) = try organization()
        let r = admin.ok("credentials.import", ["csv": .string(Self.mixed)])
        #expect(r["mode"] == "all_or_nothing" && r["dryRun"] == false)
        #expect(r["created"] == 0)
        #expect(r["failed"] == 6)
        let errors = r["errors"]?.arrayValue ?? []
        let summary = errors.map { "\($0["line"]?.intValue ?? 0) \($0["column"]?.stringValue ?? "-") \($0["reason"]?.stringValue ?? "")" }
        #expect(summary == [
            "3 email unknown_user",
            "4 email unknown_user", "4 issue_date invalid_date",
            "5 expiration_date invalid_params",
            "6 credential_type type_archived",
            "7 expiration_date invalid_date", "7 document_number invalid_params",
            "9 - field_count",
        ], "\(summary)")
        #expect(errors.allSatisfy { $0["message"]?.stringValue?.isEmpty == false })
        #expect(count(admin) == 0)
    }

    @Test func validRowsWritesTheGoodOnesAndReturnsAFixableCSV() throws {
        let (admin, sam, _) = try organization()
        let r = admin.ok("credentials.import", ["csv": .string(Self.mixed), "mode": "valid_rows"])
        #expect(r["created"] == 2)
        #expect(r["failed"] == 6)
        let items = admin.ok("credentials.list", ["userId": .string(sam)])["items"]?.arrayValue ?? []
        #expect(items.compactMap { $0["latestVersion"]?["documentNumber"]?.stringValue }.sorted() == ["FA, 2", "FA-1"])
        #expect(items.allSatisfy { $0["latestVersion"]?["approval"]?["status"] == "pending" })
        // The failed rows come back as CSV with an error column; fixed, they import as they are.
        let failed = try #require(r["failedRowsCsv"]?.stringValue)
        let records = try CSV.read(failed)
        #expect(records.first?.fields == ["email", "credential_type", "issue_date", "expiration_date", "document_number", "error"])
        #expect(records.count == 7)
        #expect(records[1].fields[5].contains("no active user"))
        let fixed = "email,credential_type,issue_date,expiration_date,document_number,error\r\n"
            + records.dropFirst().prefix(1).map { r in CSV.line(["sam@example.com"] + r.fields[1...4] + [r.fields[5]]) }.joined()
        let again = admin.ok("credentials.import", ["csv": .string(fixed)])
        #expect(again["created"] == 1)
        #expect(again["failed"] == 0)
        #expect(again["failedRowsCsv"] == .null)
        #expect(count(admin) == 3)
    }

    @Test func dryRunWritesNothingAndAnswersAsIfItHad() throws {
        let (admin, _, _) = try organization()
        let good = "Document_Number,ISSUE_DATE,Email,Expiration_Date,Credential_Type\n,2025-01-01,sam@example.com,2027-01-01,First Aid\n"
        let r = admin.ok("credentials.import", ["csv": .string(good), "dryRun": true])
        #expect(r["dryRun"] == true && r["created"] == 1 && r["failed"] == 0)
        #expect(count(admin) == 0)
        let mixed = admin.ok("credentials.import", ["csv": .string(Self.mixed), "dryRun": true, "mode": "valid_rows"])
        #expect(mixed["created"] == 2)
        #expect(count(admin) == 0)
    }

    @Test func approveApprovesAndSettingsDecideOtherwise() throws {
        let (admin, _, _) = try organization()
        let csv = "email,credential_type,issue_date,expiration_date\nsam@example.com,First Aid,2025-01-01,2027-01-01\n"
        admin.ok("credentials.import", ["csv": .string(csv), "approve": true])
        let first = admin.ok("credentials.list")["items"]?[0]
        #expect(first?["latestVersion"]?["approval"]?["status"] == "approved")
        #expect(first?["latestVersion"]?["approval"]?["reviewedBy"] != .null)
    }

    @Test("the header is checked as a whole", arguments: [
        ("email,credential_type,issue_date,colour\nsam@example.com,First Aid,2025-01-01,red\n", "colour"),
        ("email,credential_type\nsam@example.com,First Aid\n", "issue_date"),
        ("email,email,credential_type,issue_date\n", "twice"),
        ("", "empty"),
        ("email,credential_type,issue_date\n\"sam@example.com,First Aid,2025-01-01\n", "never closes"),
    ])
    func headerProblems(csv: String, mentions: String) throws {
        let (admin, _, _) = try organization()
        let r = admin.call("credentials.import", ["csv": .string(csv)])
        #expect(r["error"]?["code"] == -32602)
        #expect(r["error"]?["data"]?["fields"]?[0]?["field"] == "csv")
        #expect(r["error"]?["message"]?.stringValue?.contains(mentions) == true, "\(r)")
    }

    @Test func rowLimitAndAFullSizeImport() throws {
        let (admin, _, _) = try organization()
        var csv = "email,credential_type,issue_date,expiration_date,document_number\n"
        for i in 0..<20_000 { csv += "sam@example.com,First Aid,2025-01-01,2027-01-01,N-\(i)\n" }
        let r = admin.ok("credentials.import", ["csv": .string(csv)])
        #expect(r["created"] == 20_000)
        #expect(try admin.service.db.scalarInt("SELECT count(*) FROM credentials") == 20_000)
        #expect(try admin.service.db.scalarInt("SELECT count(*) FROM audit_log WHERE action = 'credentials.import'") == 20_000)
        csv += "sam@example.com,First Aid,2025-01-01,2027-01-01,N-x\n"
        #expect(admin.failure("credentials.import", ["csv": .string(csv)])?.code == -32602)
    }

    @Test func onlyAdminsWithCreateReports() throws {
        let (admin, _, _) = try organization()
        admin.addUser("lim@example.com", role: "admin", permissions: ["createReports": false])
        let lim = TestClient(db: admin.service.db)
        lim.signInFirstTime("lim@example.com")
        #expect(lim.failure("credentials.import", ["csv": "email,credential_type,issue_date\n"])?.code == -32002)
        let sam = TestClient(db: admin.service.db)
        sam.signInFirstTime("sam@example.com")
        #expect(sam.failure("credentials.import", ["csv": "email,credential_type,issue_date\n"])?.code == -32002)
    }
}

/// A row names an active user; one deactivated by another connection while the rows are being
/// checked gets nothing: the import checks its holders again inside its write (the rows were
/// checked on a snapshot from before the deactivation, on SQLite, or partly before it).
struct ImportRaceTests {
    @Test func aUserDeactivatedWhileTheRowsAreCheckedGetsNothing() throws {
        let path = tempDatabasePath()
        try Self.deactivateDuringTheCheck(try Database(path: path)) { try Database(path: path) }
    }

    @Test(.enabled(if: TestPostgres.runs, TestPostgres.skip)) func aUserDeactivatedWhileTheRowsAreCheckedGetsNothingOnPostgres() throws {
        let scratch = try ScratchPostgresDatabase()
        try Self.deactivateDuringTheCheck(try Database(postgres: ConnectionString(scratch.uri))) {
            try Database(postgres: ConnectionString(scratch.uri))
        }
    }

    /// `first` and `second()` are two connections to one new store.
    static func deactivateDuringTheCheck(_ first: Database, _ second: () throws -> Database) throws {
        let (importer, _) = try bootstrap(first)
        let sam = importer.addUser("sam@example.com")
        _ = importer.createType("Licence")
        let other = TestClient(db: try second())
        other.ok("session.login", ["email": "ada@example.com", "password": .string(adminPassword)])
        // Past the first progress step, so that the deactivation lands between two rows' checks.
        let rows = ImportMethods.progressStep + 10
        let csv = "email,credential_type,issue_date\n" + String(repeating: "sam@example.com,Licence,2026-01-01\n", count: rows)
        var deactivated = false
        importer.service.progress = { done, _ in
            guard done == ImportMethods.progressStep, !deactivated else { return }
            deactivated = true
            other.ok("users.deactivate", ["userId": .string(sam)])
        }
        for mode in ["valid_rows", "all_or_nothing"] {
            deactivated = false
            let r = importer.call("credentials.import", ["csv": .string(csv), "mode": .string(mode)])
            #expect(deactivated, "the deactivation did not run during the check")
            // valid_rows: the rows checked before the deactivation pass, and the write refuses
            // them. all_or_nothing the same on SQLite (one snapshot); on PostgreSQL the rows
            // checked after it fail as unknown_user, so nothing is written either way.
            let refused = r["error"]?["data"]?["reason"] == "user_deactivated"
            let rowsFailed = r["result"]?["created"] == 0 && (r["result"]?["failed"]?.intValue ?? 0) > 0
            #expect(refused || (mode == "all_or_nothing" && rowsFailed), "\(mode): \(r)")
            #expect(other.ok("credentials.list", ["userId": .string(sam)])["items"]?.arrayValue?.count == 0, "\(mode)")
            other.ok("users.reactivate", ["userId": .string(sam)])  // active again for the next round
        }
        importer.service.progress = nil
    }
}
