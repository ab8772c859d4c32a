import Foundation
import Testing
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC

/// Group commit in the service: one transaction for the waiting requests; a request that fails
/// after writing sends the group back to run one by one.
struct GroupCommitServiceTests {
    func run(_ client: TestClient, _ requests: [JSON]) -> [JSON] {
        let input: [UInt8] = requests.flatMap { r -> [UInt8] in JSONWriter.encode(r) + [0x0A] }
        return LineTransport.process(input, server: client.server, maxMessageBytes: 1 << 20).compactMap { try? JSONParser.parse($0.dropLast()).value }
    }

    func request(_ id: Int, _ method: String, _ params: JSON) -> JSON {
        ["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": params]
    }

    @Test func aFailingRequestRollsBackAloneEvenAfterItWrote() throws {
        let (admin, me) = try bootstrap()
        let t = admin.createType("L")
        _ = admin.addCredential(user: me, type: t, issue: "2025-01-01", expiration: "2026-01-20")["id"]!
        let due = admin.ok("notifications.due", ["asOf": "2026-01-19"])["items"]?.arrayValue ?? []
        let good = due.compactMap { $0["id"] }
        #expect(good.count == 3)  // 30, 7 and 1 days before 2026-01-20
        let answers = run(admin, [
            request(1, "users.add", ["email": "a@example.com", "firstName": "A", "lastName": "A", "role": "support", "temporaryPassword": .string(tempPassword)]),
            // Marks the first reminder, then fails on the second id: the mark must be undone.
            request(2, "notifications.markSent", ["ids": [good[0], "cred_none:1:30"]]),
            request(3, "users.add", ["email": "A@example.com", "firstName": "A", "lastName": "A", "role": "support", "temporaryPassword": .string(tempPassword)]),
            request(4, "users.add", ["email": "b@example.com", "firstName": "B", "lastName": "B", "role": "support", "temporaryPassword": .string(tempPassword)]),
            request(5, "users.list", ["query": "example.com"]),
        ])
        #expect(answers.map { $0["id"] } == [1, 2, 3, 4, 5])
        #expect(answers[0]["result"] != nil && answers[3]["result"] != nil)
        #expect(answers[1]["error"]?["code"] == -32602)
        #expect(answers[2]["error"]?["data"]?["reason"] == "email_taken")  // sees the first add, in the same transaction
        #expect(answers[4]["result"]?["items"]?.arrayValue?.count == 3)
        #expect(admin.ok("notifications.due", ["asOf": "2026-01-19"])["items"]?.arrayValue?.count == 3)  // the mark was undone
        #expect(!admin.service.db.isInTransaction)
        let actions = try admin.service.db.all("SELECT action FROM audit_log WHERE action = 'users.add'") { $0.text(0) }
        #expect(actions.count == 2)
    }

    @Test func aGroupRunAgainStartsFromTheSessionItFound() throws {
        let (admin, _) = try bootstrap()
        let t = admin.createType("L")
        let me = try #require(admin.ok("session.whoami")["user"]?["id"]?.stringValue)
        let c = admin.addCredential(user: me, type: t, issue: "2025-01-01", expiration: "2026-01-20")["id"]!
        let service = admin.service
        service.beginGroup()
        _ = service.call(method: "users.add", params: JSONObject(["email": "zed@example.com", "firstName": "Zed", "lastName": "Z",
                                                                  "role": "support", "temporaryPassword": .string(tempPassword)]))
        let failed = service.call(method: "notifications.markSent", params: JSONObject(["ids": [.string("\(c.stringValue!):1:30"), "cred_none:1:30"]]))
        if case .success = failed { Issue.record("the second id should be refused") }
        service.session = nil  // what a later request of the group might have done
        #expect(service.endGroup() == .runAlone)
        #expect(admin.ok("session.whoami")["user"]?["id"] == .string(me))
        #expect(admin.ok("users.list", ["query": "zed@"])["items"]?.arrayValue?.isEmpty == true)  // rolled back with the group
    }

    @Test func aGroupRereadsTheSessionUserOnceAUserChanged() throws {
        let (admin, _) = try bootstrap()
        let sam = admin.addUser("sam@example.com", role: "admin")
        let samClient = TestClient(db: admin.service.db)
        samClient.signInFirstTime("sam@example.com")
        let t = admin.createType("Forklift")
        // Within one group (one write transaction) Sam's session is checked from memory after the
        // first read, until a request of the group changes a user: Ada deactivating Sam.
        let service = samClient.service
        service.beginGroup()
        let first = service.call(method: "credentialTypes.create", params: JSONObject(["name": "First"]))
        let second = service.call(method: "credentialTypes.list", params: JSONObject())
        admin.ok("users.deactivate", ["userId": .string(sam)])  // same connection, inside the transaction
        let third = service.call(method: "credentialTypes.list", params: JSONObject())
        #expect(service.endGroup() == .committed)
        if case .failure(let e) = first { Issue.record("\(e)") }
        if case .failure(let e) = second { Issue.record("\(e)") }
        if case .failure(let e) = third {
            #expect(e.code.rawValue == -32001)
        } else {
            Issue.record("a deactivated user's session went on")
        }
        // Types too: a rename inside the group, by another client of the same connection, is
        // what the next request sees.
        let other = TestClient(db: admin.service.db)
        other.ok("session.login", ["email": "ada@example.com", "password": .string(adminPassword)])
        let me = try adminID(admin)
        admin.service.beginGroup()
        _ = admin.service.call(method: "credentialTypes.list", params: JSONObject())
        let before = admin.service.call(method: "credentials.add", params: JSONObject(["userId": .string(me), "typeId": .string(t), "issueDate": "2026-01-01"]))
        let between = admin.service.call(method: "credentials.add", params: JSONObject(["userId": .string(me), "typeId": .string(t), "issueDate": "2026-01-01"]))
        other.ok("credentialTypes.update", ["typeId": .string(t), "name": "Reach truck"])
        let after = admin.service.call(method: "credentials.add", params: JSONObject(["userId": .string(me), "typeId": .string(t), "issueDate": "2026-01-01"]))
        #expect(admin.service.endGroup() == .committed)
        guard case .success(let b) = before, case .success = between, case .success(let a) = after else {
            Issue.record("adds failed")
            return
        }
        #expect(try JSONParser.parse(JSONWriter.encode(b)).value["typeName"] == "Forklift")
        #expect(try JSONParser.parse(JSONWriter.encode(a)).value["typeName"] == "Reach truck")
    }

    func adminID(_ c: TestClient) throws -> String { try #require(c.ok("session.whoami")["user"]?["id"]?.stringValue) }

    /// Inside a group a renewal takes what it replaces from its own read (nothing else can write
    /// until the commit): renewals of one credential in one group must each see the one before.
    @Test func renewalsOfOneCredentialInOneGroupFollowEachOther() throws {
        let (admin, me) = try bootstrap()
        let c = admin.addCredential(user: me, type: admin.createType("Forklift"), expiration: "2027-01-01")["id"]!
        let renewals: [(String?, Bool)] = [("2027-01-01", false), ("2028-01-01", false), ("2028-01-01", true), (nil, true), ("2029-01-01", false)]
        var requests: [JSON] = []
        for (i, (expiration, approvalsRequired)) in renewals.enumerated() {
            requests.append(request(100 + i, "settings.update", ["approvalsRequired": .bool(approvalsRequired)]))
            var params: JSONObject = JSONObject(["credentialId": c, "issueDate": "2026-06-01"])
            if let expiration { params["expirationDate"] = .string(expiration) }
            requests.append(request(i, "credentials.addVersion", .object(params)))
        }
        let answers = run(admin, requests)
        #expect(answers.count == requests.count)
        let versions = answers.filter { ($0["id"]?.intValue ?? 0) < 100 }.map { $0["result"]?["versionCount"] }
        #expect(versions == [2, 3, 4, 5, 6], "\(answers.filter { $0["error"] != nil }.map { JSONWriter.string($0) })")
        // Each renewal follows the settings as the request before it left them (settings are
        // read once per group unless the group changes them).
        let statuses = answers.filter { ($0["id"]?.intValue ?? 0) < 100 }.map { $0["result"]?["latestVersion"]?["approval"]?["status"] }
        #expect(statuses == renewals.map { $0.1 ? "pending" : "approved" })
        // The credential's summary is its latest version's, as every list filter sees it.
        let latest = try #require(try CredentialStore(admin.service.db).latest(credentialID: c.stringValue ?? ""))
        #expect(latest == CredentialStore.Latest(versionCount: 6, expiration: "2029-01-01", approval: "approved"))
        let approved = admin.ok("credentials.list", ["approvalStatus": "approved"])["items"]?.arrayValue?.compactMap { $0["id"] }
        #expect(approved == [c])
        #expect(admin.ok("credentials.list", ["approvalStatus": "pending"])["items"] == [])
    }

    @Test func aConfirmedDeleteInAGroupStillLeavesNoTrace() throws {
        let path = tempDatabasePath()
        let (admin, me) = try bootstrap(try Database(path: path))
        let t = admin.createType("L")
        let marker = "GROUP-SECRET-\(UUID().uuidString)"
        let c = admin.addCredential(user: me, type: t, document: marker)["id"]!
        let answers = run(admin, [request(1, "credentials.delete", ["credentialId": c, "confirm": true]),
                                  request(2, "credentials.list", [:])])
        #expect(answers[0]["result"]?["deleted"] == true)
        var raw = Data()
        for suffix in ["", "-wal"] { raw += (try? Data(contentsOf: URL(fileURLWithPath: path + suffix))) ?? Data() }
        #expect(raw.range(of: Data(marker.utf8)) == nil)
    }
}
