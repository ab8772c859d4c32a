import Foundation
import Testing
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC

/// The import's doors (contract §12, §14): rows for other users need what credentials.add needs,
/// formula cells never come back live, and failing rows cost what good rows cost.
struct ImportDoorsTests {
    /// Whether a spreadsheet would run the cell.
    static func runsAsFormula(_ cell: String) -> Bool { cell.first.map { "=+-@\t\r".contains($0) } ?? false }

    static let header = "email,credential_type,issue_date,expiration_date,document_number\r\n"

    /// An admin with createReports but not orderIndividualChecks, beside a support user Sam.
    func limitedImporter(_ permissionsOff: [String]) throws -> (root: TestClient, importer: TestClient, sam: String) {
        let (root, _) = try bootstrap()
        let sam = root.addUser("sam@example.com")
        var off = JSONObject()
        for p in permissionsOff { off[p] = false }
        root.addUser("imp@example.com", role: "admin", permissions: .object(off))
        _ = root.createType("First Aid")
        let importer = TestClient(db: root.service.db)
        importer.signInFirstTime("imp@example.com")
        return (root, importer, sam)
    }

    @Test func rowsForAnotherUserNeedOrderIndividualChecks() throws {
        let (root, importer, sam) = try limitedImporter(["orderIndividualChecks"])
        #expect(importer.failure("credentials.add", ["userId": .string(sam), "typeId": root.ok("credentialTypes.list")["items"]![0]!["id"]!,
                                                     "issueDate": "2026-01-01"])?.code == -32002)
        let csv = Self.header + "sam@example.com,First Aid,2026-01-01,,A\r\nimp@example.com,First Aid,2026-01-01,,B\r\n"
        let r = importer.ok("credentials.import", ["csv": .string(csv), "mode": "valid_rows", "approve": true])
        #expect(r["created"] == 1)
        #expect(r["errors"]?[0]?["line"] == 2 && r["errors"]?[0]?["reason"] == "forbidden" && r["errors"]?[0]?["column"] == "email")
        #expect(root.ok("credentials.list", ["userId": .string(sam)])["items"]?.arrayValue?.isEmpty == true)
    }

    @Test func approvingAnotherUsersRowsNeedsViewApplications() throws {
        let (root, importer, sam) = try limitedImporter(["viewApplications"])
        let csv = Self.header + "sam@example.com,First Aid,2026-01-01,,A\r\n"
        let refused = importer.ok("credentials.import", ["csv": .string(csv), "approve": true])
        #expect(refused["created"] == 0 && refused["errors"]?[0]?["reason"] == "forbidden")
        // Without approve the same row is what credentials.add allows.
        #expect(importer.ok("credentials.import", ["csv": .string(csv)])["created"] == 1)
        #expect(root.ok("credentials.list", ["userId": .string(sam)])["items"]?[0]?["latestVersion"]?["approval"]?["status"] == "pending")
    }

    @Test func failedRowsComeBackEscapedAndReimportUnchanged() throws {
        let (root, _) = try bootstrap()
        root.addUser("sam@example.com")
        _ = root.createType("First Aid")
        let cells = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(A1:A2)", "-2+3", "'=already quoted"]
        var csv = Self.header
        for c in cells { csv += CSV.line(["nobody@example.com", "First Aid", "2026-01-01", "", c]) }
        let r = root.ok("credentials.import", ["csv": .string(csv), "dryRun": true])
        let failed = try CSV.read(r["failedRowsCsv"]?.stringValue ?? "")
        #expect(failed.count == cells.count + 1)
        for (row, cell) in zip(failed.dropFirst(), cells) {
            #expect(row.fields[4] == "'" + cell, "not escaped: \(row.fields[4])")
            #expect(row.fields.allSatisfy { !Self.runsAsFormula($0) }, "a live formula: \(row.fields)")
        }
        // Fixed (the email) and uploaded again, the escaped cells are stored as they were meant.
        let fixed = (r["failedRowsCsv"]?.stringValue ?? "").replacingOccurrences(of: "nobody@", with: "sam@")
        #expect(root.ok("credentials.import", ["csv": .string(fixed)])["created"] == .int(cells.count))
        let stored = root.ok("credentials.list")["items"]?.arrayValue?.compactMap { $0["latestVersion"]?["documentNumber"]?.stringValue }
        #expect(Set(stored ?? []) == Set(cells))
    }

    @Test func aQuotedTabOrCRBeforeAFormulaIsRefusedNotTrimmed() throws {
        let (root, _) = try bootstrap()
        root.addUser("sam@example.com")
        _ = root.createType("First Aid")
        let csv = Self.header + "sam@example.com,First Aid,2026-01-01,,\"\t=cmd\"\r\nsam@example.com,First Aid,2026-01-01,,\"\r=cmd\"\r\n"
        let r = root.ok("credentials.import", ["csv": .string(csv), "mode": "valid_rows"])
        #expect(r["created"] == 0 && r["failed"] == 2)
        #expect(r["errors"]?.arrayValue?.allSatisfy { $0["column"] == "document_number" } == true)
        #expect(root.ok("credentials.list")["items"]?.arrayValue?.isEmpty == true)
    }

    @Test func aRowWithTheWrongFieldCountComesBackWholeAndStillFails() throws {
        let (root, _) = try bootstrap()
        _ = root.createType("Lic")
        let csv = Self.header + "ada@example.com,Lic,2026-01-01,,AB,123\r\nada@example.com,Lic,2026-01-01\r\n"
        let r = root.ok("credentials.import", ["csv": .string(csv), "dryRun": true])
        let failed = try CSV.read(r["failedRowsCsv"]?.stringValue ?? "")
        #expect(failed[1].fields.prefix(6) == ["ada@example.com", "Lic", "2026-01-01", "", "AB", "123"])
        #expect(failed[2].fields.prefix(3) == ["ada@example.com", "Lic", "2026-01-01"] && failed[2].fields.count == 4)
        let again = root.ok("credentials.import", ["csv": r["failedRowsCsv"]!, "dryRun": true])
        #expect(again["created"] == 0 && again["failed"] == 2)
    }

    /// A row that is not valid CSV comes back as it was written, not mended by the parser's
    /// reading of it: uploaded again unfixed, it fails again (an attacking helper had `"a"b`,
    /// `a"b`, `"a""b"c` and `"ab" ` imported on the second round), in either mode, round after
    /// round; and a formula cell in it is still written with its `'`.
    @Test func anUnreadableRowUploadedAgainUnfixedKeepsFailing() throws {
        let (root, _) = try bootstrap()
        _ = root.createType("Lic")
        let bad = ["\"a\"b", "a\"b", "\"a\"\"b\"c", "\"ab\" "]
        for mode in ["valid_rows", "all_or_nothing"] {
            var csv = Self.header + bad.map { "ada@example.com,Lic,2026-01-01,,\($0)\r\n" }.joined() + "=1+1,Lic,2026-01-01,,x\"y\r\n"
            for round in 1...4 {
                let r = root.ok("credentials.import", ["csv": .string(csv), "mode": .string(mode)])
                #expect(r["created"] == 0 && r["failed"] == 5, "\(mode) round \(round): \(r)")
                #expect(r["errors"]?.arrayValue?.allSatisfy { $0["reason"] == "malformed_row" } == true, "\(mode) round \(round)")
                csv = try #require(r["failedRowsCsv"]?.stringValue)
                #expect(csv.contains("\r\n'=1+1,Lic,"), "\(mode) round \(round): \(csv)")
                for b in bad { #expect(csv.contains("2026-01-01,,\(b)"), "\(mode) round \(round): \(b) in \(csv)") }
            }
        }
        #expect(root.ok("credentials.list")["items"]?.arrayValue?.count == 0)
    }

    /// A row one field short, uploaded again and again unfixed: its first reason, appended after
    /// its fields, must never come to sit in a field's place once the file has an error column
    /// (an attacking helper had it imported as the document number on the third upload).
    @Test func aShortRowUploadedAgainUnfixedNeverTakesItsReasonAsData() throws {
        let (root, _) = try bootstrap()
        _ = root.createType("Lic")
        var csv = Self.header + "ada@example.com,Lic,2026-01-01,2027-01-01\r\n"
        for round in 1...4 {
            let r = root.ok("credentials.import", ["csv": .string(csv)])
            #expect(r["created"] == 0 && r["failed"] == 1, "round \(round): \(r)")
            #expect(r["errors"]?[0]?["reason"] == "field_count", "round \(round)")
            csv = try #require(r["failedRowsCsv"]?.stringValue)
            let rows = try CSV.read(csv)
            #expect(rows[0].fields.last == "error")
            // The row's own four fields, first to last; from the second round on, with the first
            // round's reason where it was put and nothing more.
            #expect(Array(rows[1].fields.prefix(4)) == ["ada@example.com", "Lic", "2026-01-01", "2027-01-01"], "round \(round)")
            #expect(rows[1].fields.count == 5, "round \(round): \(rows[1].fields)")
        }
        #expect(root.ok("credentials.list")["items"]?.arrayValue?.count == 0)
    }

    @Test func aLoneCRInsideQuotesIsALineAndSpacesAroundAnEscapeAreNotPartOfIt() throws {
        let (root, _) = try bootstrap()
        _ = root.createType("Lic")
        let csv = Self.header + "ada@example.com,Lic,2026-01-01,,\"x\ry\"\r\nnobody@example.com,Lic,2026-01-01,,\r\n"
            + "ada@example.com,Lic,2026-01-01,, '=1\r\n"
        let r = root.ok("credentials.import", ["csv": .string(csv), "mode": "valid_rows"])
        #expect(r["errors"]?.arrayValue?.map { $0["line"] } == [2, 4], "\(JSONWriter.string(r["errors"] ?? .null))")
        let stored = root.ok("credentials.list")["items"]?.arrayValue?.compactMap { $0["latestVersion"]?["documentNumber"]?.stringValue }
        #expect(stored == ["=1"])
    }

    /// Asserts the cost's shape, not a speed: failing rows were quadratic (8,000 of them cost
    /// about 14 times 8,000 good ones); they must now stay within a small factor.
    @Test func failingRowsCostAboutWhatGoodRowsCost() throws {
        let (root, _) = try bootstrap()
        root.addUser("sam@example.com")
        _ = root.createType("First Aid")
        let n = 8000
        var good = Self.header, bad = Self.header
        for i in 0..<n {
            good += "sam@example.com,First Aid,2026-01-01,,D\(i)\r\n"
            bad += "nobody\(i)@example.com,First Aid,2026-01-01,,D\(i)\r\n"
        }
        func seconds(_ csv: String) -> Double {
            let start = Date()
            let r = root.ok("credentials.import", ["csv": .string(csv), "dryRun": true])
            #expect((r["created"]?.intValue ?? 0) + (r["failed"]?.intValue ?? 0) == n)
            return Date().timeIntervalSince(start)
        }
        _ = seconds(good)  // warm-up
        let goodTime = seconds(good), badTime = seconds(bad)
        #expect(badTime < max(goodTime, 0.05) * 5, "good \(goodTime) s, failing \(badTime) s")
    }
}
