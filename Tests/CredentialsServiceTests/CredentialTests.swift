import Foundation
import Testing
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC
import MediaSamples

extension TestClient {
    func createType(_ name: String, requiresExpiration: Bool = false) -> String {
        ok("credentialTypes.create", ["name": .string(name), "requiresExpiration": .bool(requiresExpiration)])["id"]?.stringValue ?? ""
    }

    /// Adds a credential and returns it.
    @discardableResult
    func addCredential(user: String, type: String, issue: String = "2026-01-01", expiration: String? = "2027-01-01",
                       document: String? = nil, media: [JSON] = []) -> JSON {
        var p = JSONObject(["userId": .string(user), "typeId": .string(type), "issueDate": .string(issue)])
        if let expiration { p["expirationDate"] = .string(expiration) }
        if let document { p["documentNumber"] = .string(document) }
        if !media.isEmpty { p["media"] = .array(media) }
        return ok("credentials.add", .object(p))
    }
}

struct CredentialTests {
    @Test func typesAreManagedAndListed() throws {
        let (admin, _) = try bootstrap()
        let t = admin.ok("credentialTypes.create", ["name": " Forklift Licence ", "description": "Class B", "requiresExpiration": true])
        #expect(t["name"] == "Forklift Licence")
        #expect(t["requiresExpiration"] == true && t["archived"] == false)
        #expect(admin.failure("credentialTypes.create", ["name": "FORKLIFT licence"]) == ErrorSummary(code: -32004, reason: "name_taken"))
        let id = t["id"]!
        let u = admin.ok("credentialTypes.update", ["typeId": id, "name": "Forklift", "requiresExpiration": false])
        #expect(u["name"] == "Forklift" && u["requiresExpiration"] == false && u["description"] == "Class B")
        let other = admin.createType("Other")
        #expect(admin.failure("credentialTypes.update", ["typeId": .string(other), "name": "forklift"])?.reason == "name_taken")
        #expect(admin.ok("credentialTypes.archive", ["typeId": id])["archived"] == true)
        #expect(admin.ok("credentialTypes.archive", ["typeId": id])["archived"] == true)
        #expect(admin.ok("credentialTypes.list")["items"]?.arrayValue?.count == 1)
        #expect(admin.ok("credentialTypes.list", ["includeArchived": true])["items"]?.arrayValue?.count == 2)
        #expect(admin.failure("credentialTypes.archive", ["typeId": "ctype_nope"])?.code == -32003)
        #expect(admin.failure("credentials.add", ["userId": .string(try adminID(admin)), "typeId": id, "issueDate": "2026-01-01"])
                == ErrorSummary(code: -32004, reason: "type_archived"))
    }

    func adminID(_ c: TestClient) throws -> String { try #require(c.ok("session.whoami")["user"]?["id"]?.stringValue) }

    @Test func addChecksDatesAgainstTheType() throws {
        let (admin, me) = try bootstrap()
        let t = admin.createType("First Aid", requiresExpiration: true)
        let base = JSONObject(["userId": .string(me), "typeId": .string(t), "issueDate": "2026-03-01", "expirationDate": "2027-03-01"])
        func with(_ k: String, _ v: JSON?) -> JSON { var o = base; o[k] = v; return .object(o) }
        let bad: [(JSON, String, String)] = [
            (with("issueDate", "2026-02-30"), "issueDate", "invalid_date"),
            (with("expirationDate", "2027-13-01"), "expirationDate", "invalid_date"),
            (with("issueDate", "01/03/2026"), "issueDate", "invalid_date"),
            (with("expirationDate", "2026-02-28"), "expirationDate", "invalid_date"),
            (with("expirationDate", nil), "expirationDate", "invalid_params"),
        ]
        for (params, field, reason) in bad {
            let r = admin.call("credentials.add", params)
            #expect(r["error"]?["code"] == -32602)
            #expect(r["error"]?["data"]?["reason"] == .string(reason))
            #expect(r["error"]?["data"]?["fields"]?[0]?["field"] == .string(field), "\(params)")
        }
        #expect(admin.failure("credentials.add", with("typeId", "ctype_nope"))?.code == -32003)
        #expect(admin.failure("credentials.add", with("userId", "usr_nope"))?.code == -32003)
        #expect(admin.ok("credentials.list")["items"]?.arrayValue?.isEmpty == true)
        let c = admin.ok("credentials.add", with("documentNumber", " FA-1 "))
        #expect(c["versionCount"] == 1)
        #expect(c["typeName"] == "First Aid")
        #expect(c["latestVersion"]?["documentNumber"] == "FA-1")
        #expect(c["latestVersion"]?["approval"]?["status"] == "pending")
        #expect(c["latestVersion"]?["createdBy"] == .string(me))
    }

    @Test func mediaIsCheckedStoredAndReturnedBitForBit() throws {
        let (admin, me) = try bootstrap()
        let t = admin.createType("ID")
        let files = [Fixtures.media("a.pdf", "application/pdf", Fixtures.pdf), Fixtures.media("b.png", "image/png", Fixtures.png),
                     Fixtures.media("c.jpg", "image/jpeg", Fixtures.jpeg), Fixtures.media("d.heic", "image/heic", Fixtures.heic)]
        let c = admin.addCredential(user: me, type: t, media: files)
        let media = try #require(c["latestVersion"]?["media"]?.arrayValue)
        #expect(media.count == 4)
        for (m, bytes) in zip(media.sorted { ($0["fileName"]?.stringValue ?? "") < ($1["fileName"]?.stringValue ?? "") },
                              [Fixtures.pdf, Fixtures.png, Fixtures.jpeg, Fixtures.heic]) {
            #expect(m["byteCount"] == .int(bytes.count))
            #expect(m["sha256"] == .string(Digest.sha256Hex(bytes)))
            let got = admin.ok("media.get", ["mediaId": m["id"]!])
            #expect(got["dataBase64"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map(Array.init) == bytes)
            #expect(got["contentType"] == m["contentType"])
        }
        #expect(admin.failure("media.get", ["mediaId": "med_nope"])?.code == -32003)
    }

    @Test func badMediaIsInvalidParamsNamingTheField() throws {
        let (admin, me) = try bootstrap()
        let t = admin.createType("ID")
        func attempt(_ m: JSON) -> JSON? {
            admin.call("credentials.add", ["userId": .string(me), "typeId": .string(t), "issueDate": "2026-01-01",
                                           "media": [Fixtures.media("ok.pdf", "application/pdf", Fixtures.pdf), m]])["error"]
        }
        let cases: [(JSON, String, String)] = [
            (Fixtures.media("x.png", "application/pdf", Fixtures.png), "unsupported_media", "media[1].contentType"),
            (Fixtures.media("x.gif", "image/png", Array("GIF89a....".utf8)), "unsupported_media", "media[1].dataBase64"),
            (["fileName": "x.pdf", "contentType": "application/pdf", "dataBase64": "%%%not base64%%%"], "invalid_params", "media[1].dataBase64"),
            (["fileName": "x.pdf", "contentType": "application/pdf", "dataBase64": "JVBERi0x\nLjQK"], "invalid_params", "media[1].dataBase64"),
            (["fileName": "x.pdf", "contentType": "text/plain", "dataBase64": "JVBERi0xLjQK"], "unsupported_media", "media[1].contentType"),
            (["fileName": "../x.pdf", "contentType": "application/pdf", "dataBase64": "JVBERi0xLjQK"], "invalid_params", "media[1].fileName"),
            (["fileName": "x.pdf", "contentType": "application/pdf"], "invalid_params", "media[1].dataBase64"),
        ]
        for (m, reason, field) in cases {
            let e = attempt(m)
            #expect(e?["code"] == -32602)
            #expect(e?["data"]?["reason"] == .string(reason), "\(m)")
            #expect(e?["data"]?["fields"]?[0]?["field"] == .string(field), "\(m)")
        }
        #expect(admin.ok("credentials.list")["items"]?.arrayValue?.isEmpty == true)
    }

    @Test func mediaOverTheLimitIsRefusedBeforeDecoding() throws {
        var config = testConfig()
        config.maxMediaBytes = 1000
        let service = Service(db: try Database(path: ":memory:"), deps: .fixed(at: Timestamp.parse(vectorTime)!), config: config)
        let client = TestClient(wrapping: service)
        _ = client.ok("setup.createAdmin", ["email": "ada@example.com", "firstName": "Ada", "lastName": "A", "password": .string(adminPassword)])
        let me = client.ok("session.login", ["email": "ada@example.com", "password": .string(adminPassword)])["user"]?["id"] ?? .null
        let t = client.createType("ID")
        let big = MediaSamples.pdf(size: 1001)
        let e = client.call("credentials.add", ["userId": me, "typeId": .string(t), "issueDate": "2026-01-01",
                                                "media": [Fixtures.media("big.pdf", "application/pdf", big)]])["error"]
        #expect(e?["data"]?["reason"] == "media_too_large")
        #expect(e?["data"]?["fields"]?[0]?["field"] == "media[0].dataBase64")
        let exact = MediaSamples.pdf(size: 1000)
        #expect(client.call("credentials.add", ["userId": me, "typeId": .string(t), "issueDate": "2026-01-01",
                                                "media": [Fixtures.media("ok.pdf", "application/pdf", exact)]])["result"] != nil)
    }

    @Test func renewalsAddVersionsAndNeverChangeOlderOnes() throws {
        let clock = TestClock()
        let (admin, me) = try bootstrap(clock: clock)
        let t = admin.createType("Licence", requiresExpiration: true)
        let c = admin.addCredential(user: me, type: t, issue: "2025-01-01", expiration: "2026-01-01", document: "L-1",
                                    media: [Fixtures.media("old.pdf", "application/pdf", Fixtures.pdf)])
        let id = c["id"]!
        admin.ok("credentials.approve", ["credentialId": id])
        let v1 = admin.ok("credentials.getVersion", ["credentialId": id, "version": 1])
        clock.advance(minutes: 10)
        let renewed = admin.ok("credentials.addVersion", ["credentialId": id, "issueDate": "2026-01-01", "expirationDate": "2027-01-01",
                                                          "documentNumber": "L-2", "media": [Fixtures.media("new.png", "image/png", Fixtures.png)]])
        #expect(renewed["versionCount"] == 2)
        #expect(renewed["latestVersion"]?["number"] == 2)
        #expect(renewed["latestVersion"]?["approval"]?["status"] == "pending")
        #expect(renewed["latestVersion"]?["media"]?.arrayValue?.count == 1)
        // The answer is built from the credential's row and the new version, not read back: it
        // must be what a read finds.
        #expect(renewed == admin.ok("credentials.get", ["credentialId": id]))
        #expect(renewed["updatedAt"] != c["updatedAt"] && renewed["createdAt"] == c["createdAt"])
        #expect(admin.failure("credentials.addVersion", ["credentialId": id, "issueDate": "2026-01-01"])?.code == -32602)  // expiration required
        // Edit the latest; version 1 stays exactly as it was.
        admin.ok("credentials.editLatestVersion", ["credentialId": id, "documentNumber": "L-2b"])
        #expect(admin.ok("credentials.getVersion", ["credentialId": id, "version": 1]) == v1)
        let history = try #require(admin.ok("credentials.history", ["credentialId": id])["items"]?.arrayValue)
        #expect(history.map { $0["number"] } == [2, 1])
        #expect(history[1] == v1)
        #expect(history[0]["documentNumber"] == "L-2b")
        #expect(admin.failure("credentials.getVersion", ["credentialId": id, "version": 3])?.code == -32003)
        #expect(admin.failure("credentials.getVersion", ["credentialId": id, "version": 0])?.code == -32602)
    }

    @Test func editsAreRecordedFieldByFieldAndReopenReview() throws {
        let clock = TestClock()
        let (admin, me) = try bootstrap(clock: clock)
        let t = admin.createType("Licence")
        let c = admin.addCredential(user: me, type: t, issue: "2026-01-01", expiration: "2027-01-01", document: "A-1",
                                    media: [Fixtures.media("a.pdf", "application/pdf", Fixtures.pdf)])
        let id = c["id"]!
        let mediaID = c["latestVersion"]?["media"]?[0]?["id"] ?? .null
        admin.ok("credentials.approve", ["credentialId": id])
        clock.advance(minutes: 5)
        let edited = admin.ok("credentials.editLatestVersion", [
            "credentialId": id, "issueDate": "2026-01-02", "expirationDate": nil, "documentNumber": "A-2",
            "addMedia": [Fixtures.media("b.png", "image/png", Fixtures.png)], "removeMediaIds": [mediaID]])
        #expect(edited["versionCount"] == 1)
        #expect(edited["latestVersion"]?["issueDate"] == "2026-01-02")
        #expect(edited["latestVersion"]?["expirationDate"] == .null)
        #expect(edited["latestVersion"]?["approval"]?["status"] == "pending")
        #expect(edited["latestVersion"]?["media"]?.arrayValue?.map { $0["fileName"] } == ["b.png"])
        let trail = try #require(admin.ok("credentials.activity", ["credentialId": id])["items"]?.arrayValue)
        let editRows = trail.filter { $0["changedAt"] == "2026-01-01T00:05:00.000Z" }
        let byField = Dictionary(grouping: editRows, by: { $0["field"]?.stringValue ?? "" })
        #expect(byField["issueDate"]?.first?["from"] == "2026-01-01")
        #expect(byField["issueDate"]?.first?["to"] == "2026-01-02")
        #expect(byField["expirationDate"]?.first?["from"] == "2027-01-01")
        #expect(byField["expirationDate"]?.first?["to"] == .null)
        #expect(byField["documentNumber"]?.first?["from"] == "A-1")
        #expect(byField["documentNumber"]?.first?["to"] == "A-2")
        #expect(byField["media"]?.count == 2)
        #expect(byField["approval"]?.first?["from"]?["status"] == "approved")
        #expect(byField["approval"]?.first?["to"]?["status"] == "pending")
        #expect(editRows.allSatisfy { $0["changedBy"] == .string(me) && $0["version"] == 1 })
        // The trail is newest first, and includes the creation and the approval.
        #expect(trail.last?["field"] == "issueDate" && trail.last?["from"] == .null)
        #expect(trail.contains { $0["field"] == "approval" && $0["to"]?["status"] == "approved" })
        // Nothing changed: no new activity.
        admin.ok("credentials.editLatestVersion", ["credentialId": id, "documentNumber": "A-2"])
        #expect(admin.ok("credentials.activity", ["credentialId": id])["items"]?.arrayValue?.count == trail.count)
        // Removing a file that is not the latest version's is invalid params.
        #expect(admin.failure("credentials.editLatestVersion", ["credentialId": id, "removeMediaIds": [mediaID]])?.code == -32602)
    }

    @Test func activityOfOneVersion() throws {
        let (admin, me) = try bootstrap()
        let t = admin.createType("L")
        let id = admin.addCredential(user: me, type: t)["id"]!
        admin.ok("credentials.addVersion", ["credentialId": id, "issueDate": "2026-06-01"])
        let v1 = admin.ok("credentials.activity", ["credentialId": id, "version": 1])["items"]?.arrayValue ?? []
        let v2 = admin.ok("credentials.activity", ["credentialId": id, "version": 2])["items"]?.arrayValue ?? []
        #expect(!v1.isEmpty && v1.allSatisfy { $0["version"] == 1 })
        #expect(!v2.isEmpty && v2.allSatisfy { $0["version"] == 2 })
        #expect(admin.ok("credentials.activity", ["credentialId": id])["items"]?.arrayValue?.count == v1.count + v2.count)
        #expect(admin.failure("credentials.activity", ["credentialId": id, "version": 9])?.code == -32003)
    }

    /// Creations (kept in each version's row) and later changes (kept as events) come back in the
    /// order they happened, even when every one has the same timestamp.
    @Test func theTrailInterleavesCreationsAndChangesInOrder() throws {
        let (admin, me) = try bootstrap()  // the test clock stands still: every entry has one timestamp
        let t = admin.createType("L")
        let id = admin.addCredential(user: me, type: t, document: "A-1")["id"]!
        admin.ok("credentials.approve", ["credentialId": id])
        admin.ok("credentials.addVersion", ["credentialId": id, "issueDate": "2026-06-01"])
        admin.ok("credentials.reject", ["credentialId": id, "reason": "Blurry"])
        admin.ok("credentials.addVersion", ["credentialId": id, "issueDate": "2026-07-01"])
        admin.ok("credentials.editLatestVersion", ["credentialId": id, "documentNumber": "C-3"])
        let trail = admin.ok("credentials.activity", ["credentialId": id])["items"]?.arrayValue ?? []
        let steps = trail.map { "\($0["version"]?.intValue ?? 0) \($0["field"]?.stringValue ?? "")" }
        #expect(steps == [
            "3 documentNumber",                                          // the edit
            "3 approval", "3 issueDate",                                 // version 3 created
            "2 approval",                                                // version 2 rejected
            "2 approval", "2 issueDate",                                 // version 2 created
            "1 approval",                                                // version 1 approved
            "1 approval", "1 documentNumber", "1 expirationDate", "1 issueDate",  // version 1 created
        ])
        let preview = admin.failure("credentials.delete", ["credentialId": id])
        #expect(preview?.reason == "confirmation_required")
        let raw = admin.call("credentials.delete", ["credentialId": id])
        #expect(raw["error"]?["data"]?["preview"]?["activityEntries"] == .int(trail.count))
        #expect(admin.ok("credentials.activity", ["credentialId": id, "version": 2])["items"]?.arrayValue?.count == 3)
    }

    @Test func approvalIsFinalAndRejectionNeedsAReason() throws {
        let (admin, me) = try bootstrap()
        let t = admin.createType("L")
        let id = admin.addCredential(user: me, type: t)["id"]!
        #expect(admin.failure("credentials.reject", ["credentialId": id, "reason": "   "])?.code == -32602)
        #expect(admin.failure("credentials.reject", ["credentialId": id])?.code == -32602)
        let rejected = admin.ok("credentials.reject", ["credentialId": id, "reason": "Blurry photo"])
        #expect(rejected["latestVersion"]?["approval"]?["status"] == "rejected")
        #expect(rejected["latestVersion"]?["approval"]?["reason"] == "Blurry photo")
        #expect(rejected["latestVersion"]?["approval"]?["reviewedBy"] == .string(me))
        let approved = admin.ok("credentials.approve", ["credentialId": id, "version": 1])
        #expect(approved["latestVersion"]?["approval"]?["status"] == "approved")
        #expect(approved["latestVersion"]?["approval"]?["reason"] == .null)
        #expect(admin.failure("credentials.approve", ["credentialId": id]) == ErrorSummary(code: -32004, reason: "already_approved"))
        #expect(admin.failure("credentials.reject", ["credentialId": id, "reason": "late"]) == ErrorSummary(code: -32004, reason: "already_approved"))
        #expect(admin.failure("credentials.approve", ["credentialId": id, "version": 2])?.code == -32003)
    }

    @Test func expiryStatusIsComputedAsOfAnyDay() throws {
        let (admin, me) = try bootstrap()
        let t = admin.createType("L")
        let id = admin.addCredential(user: me, type: t, issue: "2025-01-01", expiration: "2026-03-01")["id"]!
        func status(_ asOf: String) -> JSON? { admin.ok("credentials.get", ["credentialId": id, "asOf": .string(asOf)])["latestVersion"]?["expiryStatus"] }
        #expect(status("2026-01-01") == "valid")
        #expect(status("2026-01-30") == "expiring")
        #expect(status("2026-03-01") == "expiring")
        #expect(status("2026-03-02") == "expired")
        // Default asOf is today by the service's clock (2026-01-01 in tests).
        #expect(admin.ok("credentials.get", ["credentialId": id])["latestVersion"]?["expiryStatus"] == "valid")
        #expect(admin.failure("credentials.get", ["credentialId": id, "asOf": "2026-02-29"])?.reason == "invalid_date")
        let noExpiry = admin.addCredential(user: me, type: t, expiration: nil)["id"]!
        #expect(admin.ok("credentials.get", ["credentialId": noExpiry, "asOf": "2099-01-01"])["latestVersion"]?["expiryStatus"] == "valid")
    }

    @Test func listFiltersAndPages() throws {
        let (admin, me) = try bootstrap()
        let other = admin.addUser("sam@example.com")
        let a = admin.createType("A")
        let b = admin.createType("B")
        var ids: [JSON] = []
        for i in 0..<12 {
            let c = admin.addCredential(user: i % 2 == 0 ? me : other, type: i % 3 == 0 ? a : b, issue: "2025-01-01",
                                        expiration: ["2025-12-01", "2026-01-15", "2027-01-01", nil][i % 4])
            ids.append(c["id"]!)
        }
        admin.ok("credentials.approve", ["credentialId": ids[0]])
        admin.ok("credentials.reject", ["credentialId": ids[1], "reason": "no"])
        func list(_ p: JSON) -> [JSON] {
            var out: [JSON] = []
            var params = p.objectValue ?? JSONObject()
            params["limit"] = 5
            while true {
                let page = admin.ok("credentials.list", .object(params))
                out += page["items"]?.arrayValue?.compactMap { $0["id"] } ?? []
                guard let next = page["nextCursor"], next != .null else { return out }
                params["cursor"] = next
            }
        }
        #expect(list([:]) == ids)
        #expect(list(["userId": .string(other)]) == ids.enumerated().filter { $0.offset % 2 == 1 }.map(\.element))
        #expect(list(["typeId": .string(a)]) == ids.enumerated().filter { $0.offset % 3 == 0 }.map(\.element))
        #expect(list(["approvalStatus": "approved"]) == [ids[0]])
        #expect(list(["approvalStatus": "rejected"]) == [ids[1]])
        #expect(list(["approvalStatus": "pending"]).count == 10)
        // Expired: most recent expiration first (all share one date here, so newest id first).
        #expect(list(["expiryStatus": "expired", "asOf": "2026-01-01"]) == ids.enumerated().filter { $0.offset % 4 == 0 }.map(\.element).reversed())
        #expect(list(["expiryStatus": "expiring", "asOf": "2026-01-01"]) == ids.enumerated().filter { $0.offset % 4 == 1 }.map(\.element))
        #expect(list(["expiryStatus": "valid", "asOf": "2026-01-01"]) == ids.enumerated().filter { $0.offset % 4 >= 2 }.map(\.element))
        #expect(list(["userId": .string(me), "typeId": .string(a), "expiryStatus": "expired", "asOf": "2026-01-01"]) == [ids[0]])
        // Expiring: soonest expiration first, across dates.
        let soon = admin.addCredential(user: me, type: a, issue: "2025-01-01", expiration: "2026-01-05")["id"]!
        #expect(list(["expiryStatus": "expiring", "asOf": "2026-01-01"]).first == soon)
        // A cursor of one order is refused by another.
        let page = admin.ok("credentials.list", ["limit": 1])
        #expect(admin.failure("credentials.list", ["expiryStatus": "expiring", "cursor": page["nextCursor"] ?? .null])?.code == -32602)
        #expect(admin.failure("credentials.list", ["expiryStatus": "soon"])?.code == -32602)
    }

    @Test func deleteNeedsConfirmationThenLeavesNoTrace() throws {
        let path = tempDatabasePath()
        let (admin, me) = try bootstrap(try Database(path: path))
        let t = admin.createType("Passport")
        let marker = "MEDIA-SECRET-\(UUID().uuidString)"
        let document = "DOC-SECRET-\(UUID().uuidString.prefix(12))"
        let pdf = MediaSamples.pdf(size: 20_000, comment: Array(marker.utf8), filler: [0x41])
        let c = admin.addCredential(user: me, type: t, document: document, media: [Fixtures.media("p.pdf", "application/pdf", pdf)])
        let id = c["id"]!
        admin.ok("credentials.addVersion", ["credentialId": id, "issueDate": "2026-02-01", "documentNumber": .string(document + "-2"),
                                             "media": [Fixtures.media("q.pdf", "application/pdf", pdf)]])
        let keep = admin.addCredential(user: me, type: t, document: "KEEP-1")["id"]!
        // Without confirm: -32005 with a preview, and nothing changes.
        let r = admin.call("credentials.delete", ["credentialId": id])
        #expect(r["error"]?["code"] == -32005)
        #expect(r["error"]?["data"]?["reason"] == "confirmation_required")
        #expect(r["error"]?["data"]?["preview"] == ["versions": 2, "mediaFiles": 2, "mediaBytes": .int(pdf.count * 2), "activityEntries": 9])
        #expect(admin.failure("credentials.delete", ["credentialId": id, "confirm": false])?.code == -32005)
        #expect(admin.ok("credentials.get", ["credentialId": id])["versionCount"] == 2)
        // With it: gone for good.
        #expect(admin.ok("credentials.delete", ["credentialId": id, "confirm": true]) == ["deleted": true, "credentialId": id])
        #expect(admin.failure("credentials.get", ["credentialId": id])?.code == -32003)
        #expect(admin.failure("credentials.delete", ["credentialId": id, "confirm": true])?.code == -32003)
        #expect(admin.ok("credentials.get", ["credentialId": keep])["versionCount"] == 1)
        let db = admin.service.db
        for table in ["credential_versions", "media", "credential_events"] {
            #expect(try db.scalarInt("SELECT count(*) FROM \(table) WHERE credential_id = ?", id.stringValue!) == 0)
        }
        let audit = try db.all("SELECT action, detail FROM audit_log WHERE target_id = ?", id.stringValue!) { [$0.text(0), $0.text(1)] }
        #expect(audit.map { $0[0] }.contains("credentials.delete"))
        // No byte of the media or the document number anywhere in the files.
        var raw = Data()
        for suffix in ["", "-wal", "-shm", "-journal"] {
            raw += (try? Data(contentsOf: URL(fileURLWithPath: path + suffix))) ?? Data()
        }
        #expect(raw.range(of: Data(marker.utf8)) == nil, "media bytes remain in the database files")
        #expect(raw.range(of: Data(document.utf8)) == nil, "the document number remains in the database files")
        #expect(raw.range(of: Data("KEEP-1".utf8)) != nil, "the search itself is broken")
    }

    @Test func deleteMediaIsRecordedAndLeavesTheRest() throws {
        let (admin, me) = try bootstrap()
        let t = admin.createType("L")
        let c = admin.addCredential(user: me, type: t, media: [Fixtures.media("a.pdf", "application/pdf", Fixtures.pdf),
                                                               Fixtures.media("b.png", "image/png", Fixtures.png)])
        let id = c["id"]!
        let first = c["latestVersion"]?["media"]?[0]?["id"] ?? .null
        admin.ok("credentials.approve", ["credentialId": id])
        let after = admin.ok("credentials.deleteMedia", ["credentialId": id, "version": 1, "mediaIds": [first]])
        #expect(after["latestVersion"]?["media"]?.arrayValue?.count == 1)
        #expect(after["latestVersion"]?["approval"]?["status"] == "approved")
        #expect(admin.failure("media.get", ["mediaId": first])?.code == -32003)
        let trail = admin.ok("credentials.activity", ["credentialId": id])["items"]?.arrayValue ?? []
        #expect(trail.first?["field"] == "media" && trail.first?["to"] == .null && trail.first?["from"]?["id"] == first)
        #expect(admin.failure("credentials.deleteMedia", ["credentialId": id, "version": 1, "mediaIds": [first]])?.code == -32602)
        let none = admin.ok("credentials.deleteMedia", ["credentialId": id, "version": 1])
        #expect(none["latestVersion"]?["media"]?.arrayValue?.isEmpty == true)
        #expect(admin.failure("credentials.deleteMedia", ["credentialId": id, "version": 2])?.code == -32003)
    }

    @Test func approvalsNotRequiredStartApproved() throws {
        // The organization setting arrives with settings.update; the default requires approval.
        let (admin, me) = try bootstrap()
        let t = admin.createType("L")
        #expect(admin.addCredential(user: me, type: t)["latestVersion"]?["approval"]?["status"] == "pending")
    }
}

/// Another process renews a credential while this one is between reading it and writing an edit.
struct EditRaceTests {
    @Test func anEditRacingARenewalIsRefusedAndChangesNothing() throws {
        let path = tempDatabasePath()
        let (admin, me) = try bootstrap(try Database(path: path))
        let c = admin.addCredential(user: me, type: admin.createType("L"), issue: "2026-01-01", expiration: nil)["id"]!
        let other = TestClient(db: try Database(path: path))
        other.ok("session.login", ["email": "ada@example.com", "password": .string(adminPassword)])
        // The edit names its new file's id after reading the credential and before its write: the
        // renewal lands in that gap, through the other connection.
        let ids = TimeOrderedIDs()
        var renewed = false
        let racing = TestClient(wrapping: Service(db: try Database(path: path), deps: Dependencies(nowMillis: { SystemClock.nowMillis() }, newID: { prefix in
            if prefix == "med" && !renewed {
                renewed = true
                other.ok("credentials.addVersion", ["credentialId": c, "issueDate": "2026-06-01"])
            }
            return ids.next(prefix: prefix, millis: SystemClock.nowMillis())
        }), config: testConfig()))
        racing.ok("session.login", ["email": "ada@example.com", "password": .string(adminPassword)])
        let refused = racing.failure("credentials.editLatestVersion", ["credentialId": c, "documentNumber": "EDIT-1",
                                                                       "addMedia": [Fixtures.media("a.pdf", "application/pdf", Fixtures.pdf)]])
        #expect(renewed)
        #expect(refused == ErrorSummary(code: -32004, reason: "version_changed"))
        // Neither version took the edit: the renewal is the latest, and as it was sent.
        let history = admin.ok("credentials.history", ["credentialId": c])["items"]?.arrayValue ?? []
        #expect(history.map { $0["number"] } == [2, 1])
        #expect(history.allSatisfy { $0["documentNumber"] == .null && $0["media"] == [] })
        // Sent again, the edit applies to the renewal.
        #expect(racing.ok("credentials.editLatestVersion", ["credentialId": c, "documentNumber": "EDIT-1"])["latestVersion"]?["documentNumber"] == "EDIT-1")
    }

    /// Contract §9: no write is lost. An edit or a review that read the version before another
    /// process edited it must not write its stale copy of the other fields back over that edit.
    @Test("an edit or review racing another edit is refused and loses nothing", arguments: ["edit", "approve"])
    func racingAnotherEdit(_ kind: String) throws {
        let path = tempDatabasePath()
        let (admin, me) = try bootstrap(try Database(path: path))
        let c = admin.addCredential(user: me, type: admin.createType("L"), issue: "2026-01-01", expiration: nil)["id"]!
        let other = TestClient(db: try Database(path: path))
        other.ok("session.login", ["email": "ada@example.com", "password": .string(adminPassword)])
        // The other connection's edit lands after the racing request has read the version and
        // before it writes: at the racing request's first use of the clock (an approval's time)
        // or of the id generator (a new file's id).
        var armed = false, raced = false
        func race() {
            guard armed && !raced else { return }
            raced = true
            other.ok("credentials.editLatestVersion", ["credentialId": c, "issueDate": "2026-02-02"])
        }
        let ids = TimeOrderedIDs()
        let racing = TestClient(wrapping: Service(db: try Database(path: path), deps: Dependencies(
            nowMillis: { race(); return SystemClock.nowMillis() },
            newID: { prefix in race(); return ids.next(prefix: prefix, millis: SystemClock.nowMillis()) }), config: testConfig()))
        racing.ok("session.login", ["email": "ada@example.com", "password": .string(adminPassword)])
        armed = true
        let refused = kind == "edit"
            ? racing.failure("credentials.editLatestVersion", ["credentialId": c, "documentNumber": "EDIT-1",
                                                                "addMedia": [Fixtures.media("a.pdf", "application/pdf", Fixtures.pdf)]])
            : racing.failure("credentials.approve", ["credentialId": c])
        #expect(raced)
        #expect(refused == ErrorSummary(code: -32004, reason: "version_changed"))
        // The other edit stands, whole; the refused request changed nothing.
        let latest = admin.ok("credentials.get", ["credentialId": c])["latestVersion"]
        #expect(latest?["issueDate"] == "2026-02-02")
        #expect(latest?["documentNumber"] == .null && latest?["media"] == [])
        #expect(latest?["approval"]?["status"] == "pending")
    }
}
