import Foundation
import Testing
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC

/// CSV out (contract §12): credentials.export re-imports unchanged and shows what credentials.list
/// shows; compliance.export is compliance.check, cell by cell, in compliance.report's order.
struct ExportTests {
    /// Two holders, two types, credentials of every approval and expiry, awkward text included.
    func organization() throws -> (root: TestClient, sam: String, kim: String, types: [String]) {
        let (root, _) = try bootstrap()
        let sam = root.addUser("sam@example.com", first: "Sam", last: "O'Neil, Jr")
        let kim = root.addUser("kim@example.com", first: "=Kim", last: "Lee")
        let firstAid = root.createType("First Aid", requiresExpiration: true)
        let forklift = root.createType("Forklift")
        let a = root.addCredential(user: sam, type: firstAid, issue: "2025-01-01", expiration: "2026-01-20", document: "=HYPERLINK(\"x\")")
        root.addCredential(user: sam, type: forklift, issue: "2024-05-01", expiration: nil, document: "FL, \"2\"")
        let b = root.addCredential(user: kim, type: firstAid, issue: "2023-01-01", expiration: "2025-06-30", document: "+1")
        root.addCredential(user: kim, type: forklift, issue: "2025-03-03", expiration: "2030-01-01")
        root.ok("credentials.approve", ["credentialId": a["id"]!])
        root.ok("credentials.reject", ["credentialId": b["id"]!, "reason": "blurry"])
        root.ok("credentials.addVersion", ["credentialId": a["id"]!, "issueDate": "2026-01-10", "expirationDate": "2027-01-09", "documentNumber": "-2"])
        return (root, sam, kim, [firstAid, forklift])
    }

    @Test func anExportReimportsIntoAFreshDatabaseUnchanged() throws {
        let (root, _, _, _) = try organization()
        let export = root.ok("credentials.export", ["asOf": "2026-01-01"])
        #expect(export["rows"] == 4 && export["nextCursor"] == .null)
        let csv = export["csv"]?.stringValue ?? ""
        let records = try CSV.read(csv)
        #expect(records[0].fields == ExportMethods.credentialColumns)
        #expect(records.dropFirst().allSatisfy { r in r.fields.allSatisfy { $0.first.map { !"=+-@\t\r".contains($0) } ?? true } })
        // A fresh organization with the same people and types takes the page as it is.
        let (fresh, _) = try bootstrap()
        fresh.addUser("sam@example.com")
        fresh.addUser("kim@example.com")
        _ = fresh.createType("First Aid", requiresExpiration: true)
        _ = fresh.createType("Forklift")
        let imported = fresh.ok("credentials.import", ["csv": .string(csv)])
        #expect(imported["created"] == 4 && imported["failed"] == 0, "\(JSONWriter.string(imported))")
        func shape(_ c: TestClient) -> [String] {
            (c.ok("credentials.list")["items"]?.arrayValue ?? []).map { i in
                let v = i["latestVersion"]!
                let email = c.ok("users.get", ["userId": i["userId"]!])["email"]?.stringValue ?? ""
                return [email, i["typeName"]?.stringValue ?? "", v["issueDate"]?.stringValue ?? "", v["expirationDate"]?.stringValue ?? "-",
                        v["documentNumber"]?.stringValue ?? "-"].joined(separator: "|")
            }.sorted()
        }
        #expect(shape(fresh) == shape(root))
        #expect(shape(root).contains("sam@example.com|First Aid|2026-01-10|2027-01-09|-2"))
        #expect(shape(root).contains { $0.hasSuffix("|=HYPERLINK(\"x\")") } == false)  // replaced by the renewal
    }

    @Test func visibilityFiltersAndPagesAreCredentialsLists() throws {
        let (root, sam, _, types) = try organization()
        root.addUser("lim@example.com", role: "admin", permissions: ["viewApplications": false])
        let limited = TestClient(db: root.service.db)
        limited.signInFirstTime("lim@example.com")
        for (client, params) in [(root, JSONObject()), (limited, JSONObject()), (root, JSONObject(["userId": .string(sam)])),
                                 (root, JSONObject(["typeId": .string(types[0]), "expiryStatus": "expired", "asOf": "2026-01-01"])),
                                 (limited, JSONObject(["approvalStatus": "approved"]))] {
            let listed = (client.ok("credentials.list", .object(params))["items"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
            let exported = try CSV.read(client.ok("credentials.export", .object(params))["csv"]?.stringValue ?? "").dropFirst().map { $0.fields[10] }
            #expect(exported == listed, "\(params)")
        }
        // Pages of two, in the same order, with their own cursors.
        var ids: [String] = []
        var cursor: JSON = .null
        repeat {
            var p = JSONObject(["limit": 2])
            if cursor != .null { p["cursor"] = cursor }
            let page = root.ok("credentials.export", .object(p))
            ids += try CSV.read(page["csv"]?.stringValue ?? "").dropFirst().map { $0.fields[10] }
            cursor = page["nextCursor"] ?? .null
        } while cursor != .null
        #expect(ids == (root.ok("credentials.list")["items"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue })
        let listCursor = root.ok("credentials.list", ["limit": 1])["nextCursor"]!
        #expect(root.failure("credentials.export", ["cursor": listCursor]) == ErrorSummary(code: -32602, reason: "invalid_cursor"))
        #expect(root.failure("credentials.export", ["limit": 5001])?.code == -32602)
        #expect(root.failure("credentials.export", ["teamId": "team_nope"]) == ErrorSummary(code: -32003, reason: "not_found"))
    }

    @Test func theMatrixIsComplianceCheckCellByCellInReportOrder() throws {
        let (root, sam, kim, types) = try organization()
        let team = root.ok("teams.create", ["name": "Crew"])["id"]!
        for u in [sam, kim] { root.ok("teams.addMember", ["teamId": team, "userId": .string(u)]) }
        let rootID = root.ok("session.whoami")["user"]!["id"]!
        root.ok("teams.addMember", ["teamId": team, "userId": rootID])
        root.ok("teams.setRequiredTypes", ["teamId": team, "typeIds": .array(types.map(JSON.string))])
        let csv = root.ok("compliance.export", ["teamId": team, "asOf": "2026-01-15"])["csv"]?.stringValue ?? ""
        let rows = try CSV.read(csv)
        #expect(rows[0].fields == ["email", "first_name", "last_name", "First Aid", "Forklift", "overall"])
        let report = root.ok("compliance.report", ["teamId": team, "asOf": "2026-01-15"])
        let order = (report["members"]?.arrayValue ?? []).compactMap { $0["email"]?.stringValue }
        #expect(rows.dropFirst().map { $0.fields[0] } == order)
        for row in rows.dropFirst() {
            let member = (report["members"]?.arrayValue ?? []).first { $0["email"]?.stringValue == row.fields[0] }!
            let check = root.ok("compliance.check", ["userId": member["userId"]!, "asOf": "2026-01-15"])
            for (i, type) in types.enumerated() {
                let item = check["items"]?.arrayValue?.first { $0["typeId"]?.stringValue == type }
                #expect(row.fields[3 + i] == item?["status"]?.stringValue, "\(row.fields[0]) \(type)")
            }
            #expect(row.fields[5] == check["verdict"]?.stringValue)
        }
        #expect(rows.contains { $0.fields[1] == "'=Kim" })  // a name that would run as a formula
        let support = TestClient(db: root.service.db)
        root.addUser("nosee@example.com", role: "support", permissions: ["viewReports": false])
        support.signInFirstTime("nosee@example.com")
        #expect(support.failure("compliance.export", ["teamId": team]) == ErrorSummary(code: -32002, reason: "forbidden"))
    }
}
