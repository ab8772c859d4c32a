import Foundation
import Testing
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC

struct SettingsTests {
    @Test func adminsChangeSettingsAndStatusesFollowAtOnce() throws {
        let path = tempDatabasePath()
        let (admin, me) = try bootstrap(try Database(path: path))
        #expect(admin.ok("settings.get") == ["expiringWindowDays": 30, "approvalsRequired": true])
        let t = admin.createType("L")
        let id = admin.addCredential(user: me, type: t, expiration: "2026-02-15")["id"]!
        #expect(admin.ok("credentials.get", ["credentialId": id])["latestVersion"]?["expiryStatus"] == "valid")
        // Another process changes the window: this one sees it on its next call.
        let other = TestClient(db: try Database(path: path))
        other.ok("session.login", ["email": "ada@example.com", "password": .string(adminPassword)])
        #expect(other.ok("settings.update", ["expiringWindowDays": 60]) == ["expiringWindowDays": 60, "approvalsRequired": true])
        #expect(admin.ok("credentials.get", ["credentialId": id])["latestVersion"]?["expiryStatus"] == "expiring")
        #expect(admin.ok("credentials.list", ["expiryStatus": "expiring"])["items"]?.arrayValue?.count == 1)
        // Without required approvals, new versions start approved.
        admin.ok("settings.update", ["approvalsRequired": false])
        #expect(admin.addCredential(user: me, type: t)["latestVersion"]?["approval"]?["status"] == "approved")
        #expect(admin.failure("settings.update", ["expiringWindowDays": 366])?.code == -32602)
        #expect(admin.failure("settings.update", ["expiringWindowDays": -1])?.code == -32602)
        let sam = TestClient(db: admin.service.db)
        admin.addUser("sam@example.com")
        sam.signInFirstTime("sam@example.com")
        #expect(sam.ok("settings.get")["expiringWindowDays"] == 60)
        #expect(sam.failure("settings.update", ["expiringWindowDays": 10])?.code == -32002)
        let audit = admin.ok("audit.list", ["limit": 1000])["items"]?.arrayValue?.filter { $0["action"] == "settings.update" } ?? []
        #expect(audit.first?["detail"] == ["expiringWindowDays": ["from": 30, "to": 60]])
    }
}

struct ReminderTests {
    func setUp(_ clock: TestClock = TestClock()) throws -> (TestClient, sam: String, credential: JSON) {
        let (admin, _) = try bootstrap(clock: clock)
        let sam = admin.addUser("sam@example.com")
        let t = admin.createType("First Aid")
        let c = admin.addCredential(user: sam, type: t, issue: "2025-01-01", expiration: "2026-03-31")["id"]!
        return (admin, sam, c)
    }

    func due(_ admin: TestClient, _ asOf: String) -> [JSON] { admin.ok("notifications.due", ["asOf": .string(asOf)])["items"]?.arrayValue ?? [] }

    @Test func remindersFallDueOnceEach() throws {
        let (admin, sam, c) = try setUp()
        #expect(due(admin, "2026-02-28").isEmpty)
        let first = due(admin, "2026-03-01")
        #expect(first.count == 1)
        #expect(first[0]["daysBefore"] == 30 && first[0]["kind"] == "upcoming" && first[0]["dueDate"] == "2026-03-01")
        #expect(first[0]["email"] == "sam@example.com" && first[0]["typeName"] == "First Aid" && first[0]["userId"] == .string(sam))
        #expect(first[0]["credentialId"] == c && first[0]["expirationDate"] == "2026-03-31")
        #expect(admin.ok("notifications.markSent", ["ids": [first[0]["id"]!]]) == ["marked": 1])
        #expect(admin.ok("notifications.markSent", ["ids": [first[0]["id"]!]]) == ["marked": 0])
        #expect(due(admin, "2026-03-01").isEmpty)
        #expect(due(admin, "2026-03-30").compactMap { $0["daysBefore"]?.intValue } == [7, 1])
        // Past expiry: one expired reminder instead of the unsent offsets.
        let after = due(admin, "2026-04-02")
        #expect(after.count == 1 && after[0]["kind"] == "expired" && after[0]["daysBefore"] == .null && after[0]["dueDate"] == "2026-04-01")
        admin.ok("notifications.markSent", ["ids": [after[0]["id"]!]])
        #expect(due(admin, "2027-01-01").isEmpty)
        // A renewal starts a new series.
        admin.ok("credentials.addVersion", ["credentialId": c, "issueDate": "2026-04-01", "expirationDate": "2027-03-31"])
        #expect(due(admin, "2027-03-01").map { $0["version"] } == [2])
    }

    @Test func aLimitIsFilledPastCandidatesThatGiveNoReminder() throws {
        let (admin, sam, _) = try setUp()
        // Sam's offset is 1 day: his credentials 20 days out are read (the window is the largest
        // offset, 30) but give no reminder. More of them than the first page holds come first.
        admin.ok("notifications.updateSettings", ["userId": .string(sam), "daysBefore": [1]])
        let t = admin.createType("Forklift")
        for _ in 0..<30 { admin.addCredential(user: sam, type: t, issue: "2025-01-01", expiration: "2026-01-21") }
        let ben = admin.addUser("ben@example.com")
        let c = admin.addCredential(user: ben, type: t, issue: "2025-01-01", expiration: "2026-01-25")["id"]!
        for limit in [1, 2, 1000] {
            let items = admin.ok("notifications.due", ["asOf": "2026-01-01", "limit": .int(limit)])["items"]?.arrayValue ?? []
            #expect(items.map { $0["credentialId"] } == [c], "limit \(limit)")
        }
    }

    @Test func settingsDecideWhoGetsWhat() throws {
        let (admin, sam, _) = try setUp()
        #expect(admin.ok("notifications.getSettings", ["userId": .string(sam)]) == ["userId": .string(sam), "enabled": true, "daysBefore": [30, 7, 1], "followedTeamIds": []])
        admin.ok("notifications.updateSettings", ["userId": .string(sam), "daysBefore": [1, 60]])
        #expect(due(admin, "2026-02-01").compactMap { $0["daysBefore"]?.intValue } == [60])
        admin.ok("notifications.updateSettings", ["userId": .string(sam), "enabled": false])
        #expect(due(admin, "2026-03-31").isEmpty)
        #expect(admin.ok("notifications.getSettings", ["userId": .string(sam)])["daysBefore"] == [60, 1])
        admin.ok("notifications.updateSettings", ["userId": .string(sam), "enabled": true])
        admin.ok("users.deactivate", ["userId": .string(sam)])
        #expect(due(admin, "2026-03-31").isEmpty)
        for bad: JSON in [["daysBefore": [0]], ["daysBefore": [366]], ["daysBefore": [7, 7]], ["daysBefore": .array((1...11).map { .int($0) })]] {
            #expect(admin.failure("notifications.updateSettings", bad)?.code == -32602)
        }
    }

    @Test func ownSettingsForEveryoneOthersForAdmins() throws {
        let (admin, sam, _) = try setUp()
        let client = TestClient(db: admin.service.db)
        client.signInFirstTime("sam@example.com")
        #expect(client.ok("notifications.updateSettings", ["daysBefore": [14]])["daysBefore"] == [14])
        #expect(client.ok("notifications.getSettings")["userId"] == .string(sam))
        #expect(client.failure("notifications.getSettings", ["userId": .string(try adminID(admin))])?.code == -32002)
        #expect(client.failure("notifications.due")?.code == -32002)
        #expect(client.failure("notifications.markSent", ["ids": ["x:1:30"]])?.code == -32002)
        #expect(admin.failure("notifications.getSettings", ["userId": "usr_nope"])?.code == -32003)
        #expect(admin.failure("notifications.markSent", ["ids": ["garbage"]])?.code == -32602)
        #expect(admin.failure("notifications.markSent", ["ids": ["cred_nope:1:30"]])?.code == -32602)
    }

    func adminID(_ c: TestClient) throws -> String { try #require(c.ok("session.whoami")["user"]?["id"]?.stringValue) }
}

struct TeamAndComplianceTests {
    @Test func teamsAreManagedByAdmins() throws {
        let (admin, me) = try bootstrap()
        let sam = admin.addUser("sam@example.com")
        let t = admin.createType("First Aid")
        let team = admin.ok("teams.create", ["name": "Warehouse"])
        let id = team["id"]!
        #expect(team["memberIds"] == [] && team["requiredTypeIds"] == [])
        #expect(admin.failure("teams.create", ["name": "warehouse"]) == ErrorSummary(code: -32004, reason: "name_taken"))
        admin.ok("teams.addMember", ["teamId": id, "userId": .string(sam)])
        let both = admin.ok("teams.addMember", ["teamId": id, "userId": .string(me)])
        #expect(Set(both["memberIds"]?.arrayValue?.compactMap(\.stringValue) ?? []) == [sam, me])
        #expect(admin.ok("teams.addMember", ["teamId": id, "userId": .string(me)])["memberIds"]?.arrayValue?.count == 2)
        #expect(admin.ok("teams.removeMember", ["teamId": id, "userId": .string(me)])["memberIds"] == [.string(sam)])
        #expect(admin.ok("teams.setRequiredTypes", ["teamId": id, "typeIds": [.string(t)]])["requiredTypeIds"] == [.string(t)])
        #expect(admin.failure("teams.setRequiredTypes", ["teamId": id, "typeIds": ["ctype_nope"]])?.code == -32602)
        #expect(admin.failure("teams.addMember", ["teamId": "team_nope", "userId": .string(sam)])?.code == -32003)
        #expect(admin.failure("teams.addMember", ["teamId": id, "userId": "usr_nope"])?.code == -32003)
        #expect(admin.failure("credentialTypes.archive", ["typeId": .string(t)]) == ErrorSummary(code: -32004, reason: "type_in_use"))
        #expect(admin.ok("teams.list")["items"]?.arrayValue?.count == 1)
        let client = TestClient(db: admin.service.db)
        client.signInFirstTime("sam@example.com")
        #expect(client.failure("teams.create", ["name": "Mine"])?.code == -32002)
        #expect(client.failure("teams.addMember", ["teamId": id, "userId": .string(sam)])?.code == -32002)
        #expect(client.ok("teams.list")["items"]?.arrayValue?.count == 1)
    }

    @Test func everyStatusAndTheVerdict() throws {
        let (admin, me) = try bootstrap()
        let types = ["A Valid", "B Expiring", "C Expired", "D Pending", "E Missing"].map { admin.createType($0) }
        let team = admin.ok("teams.create", ["name": "All"])["id"]!
        admin.ok("teams.addMember", ["teamId": team, "userId": .string(me)])
        admin.ok("teams.setRequiredTypes", ["teamId": team, "typeIds": .array(types.map(JSON.string))])
        for (i, exp) in ["2027-01-01", "2026-01-20", "2025-12-01", "2027-01-01"].enumerated() {
            let c = admin.addCredential(user: me, type: types[i], issue: "2025-01-01", expiration: exp)["id"]!
            if i < 3 { admin.ok("credentials.approve", ["credentialId": c]) }
        }
        func statuses() -> [String]? {
            admin.ok("compliance.check", ["userId": .string(me)])["items"]?.arrayValue?.compactMap {
                "\($0["typeName"]?.stringValue ?? ""):\($0["status"]?.stringValue ?? "")"
            }
        }
        let check = admin.ok("compliance.check", ["userId": .string(me)])
        #expect(check["verdict"] == "non_compliant")
        #expect(check["asOf"] == "2026-01-01")
        #expect(statuses() == ["E Missing:missing", "C Expired:expired", "D Pending:not_approved", "B Expiring:expiring", "A Valid:compliant"])
        #expect(check["items"]?[0]?["credentialId"] == .null)
        // A second credential of type C, pending: the better of the two counts.
        admin.addCredential(user: me, type: types[2], issue: "2025-12-01", expiration: "2026-12-01")
        #expect(statuses() == ["E Missing:missing", "C Expired:not_approved", "D Pending:not_approved", "B Expiring:expiring", "A Valid:compliant"])
        // A later day changes the picture.
        let later = admin.ok("compliance.check", ["userId": .string(me), "asOf": "2027-06-01"])
        // A and B have expired by then; C's pending credential still ranks above its expired one.
        #expect(later["items"]?.arrayValue?.filter { $0["status"] == "expired" }.compactMap { $0["typeName"]?.stringValue } == ["A Valid", "B Expiring"])
        // Without required types one is compliant.
        admin.ok("teams.setRequiredTypes", ["teamId": team, "typeIds": []])
        #expect(admin.ok("compliance.check", ["userId": .string(me)]) == ["userId": .string(me), "asOf": "2026-01-01", "verdict": "compliant", "items": []])
    }

    /// Of several credentials with the best status, the one that expires last decides (none at
    /// all is latest), then the smaller id: not whichever the store's index gives first.
    @Test func theCredentialThatDecidesIsTheOneThatLastsLongest() throws {
        let (admin, me) = try bootstrap()
        let t = admin.createType("Licence")
        let team = admin.ok("teams.create", ["name": "Crew"])["id"]!
        admin.ok("teams.addMember", ["teamId": team, "userId": .string(me)])
        admin.ok("teams.setRequiredTypes", ["teamId": team, "typeIds": [.string(t)]])
        func decider() -> JSON? {
            let check = admin.ok("compliance.check", ["userId": .string(me)])["items"]?[0]?["credentialId"]
            let report = admin.ok("compliance.report", ["teamId": team])["members"]?[0]?["items"]?[0]?["credentialId"]
            #expect(check == report)
            return check
        }
        func add(_ expiration: String?, approve: Bool = true) -> JSON {
            let c = admin.addCredential(user: me, type: t, issue: "2024-01-01", expiration: expiration)["id"]!
            if approve { admin.ok("credentials.approve", ["credentialId": c]) }
            return c
        }
        // Expired, both: the one that lapsed last, added first or not.
        _ = add("2025-06-01")
        let lapsedLast = add("2025-09-01")
        _ = add("2025-03-01")
        #expect(decider() == lapsedLast)
        // Compliant, three: the latest expiration, added in the middle.
        _ = add("2027-01-01")
        let longest = add("2029-01-01")
        _ = add("2028-01-01")
        #expect(decider() == longest)
        // One that never expires outlasts them all.
        let forever = add(nil)
        #expect(decider() == forever)
        // A second that never expires: the smaller id, which is the earlier one.
        _ = add(nil)
        #expect(decider() == forever)
    }

    @Test func reportListsGapsFirstAndNeedsViewReports() throws {
        let (admin, me) = try bootstrap()
        let t = admin.createType("First Aid")
        let team = admin.ok("teams.create", ["name": "Crew"])["id"]!
        admin.ok("teams.setRequiredTypes", ["teamId": team, "typeIds": [.string(t)]])
        var ids: [String: String] = ["Ada": me]
        for name in ["Zoe", "Bob", "Cy"] {
            ids[name] = admin.addUser("\(name.lowercased())@example.com", first: name, last: name)
        }
        for id in ids.values { admin.ok("teams.addMember", ["teamId": team, "userId": .string(id)]) }
        let z = admin.addCredential(user: ids["Zoe"]!, type: t, expiration: "2027-01-01")["id"]!
        admin.ok("credentials.approve", ["credentialId": z])
        let b = admin.addCredential(user: ids["Bob"]!, type: t, expiration: "2026-01-10")["id"]!
        admin.ok("credentials.approve", ["credentialId": b])
        let report = admin.ok("compliance.report", ["teamId": team])
        #expect(report["summary"] == ["members": 4, "compliant": 1, "expiring": 1, "nonCompliant": 2])
        let order = report["members"]?.arrayValue?.compactMap { $0["firstName"]?.stringValue }
        #expect(order == ["Ada", "Cy", "Bob", "Zoe"])
        #expect(report["teamName"] == "Crew")
        let support = TestClient(db: admin.service.db)
        admin.addUser("s@example.com", permissions: ["viewReports": false])
        support.signInFirstTime("s@example.com")
        #expect(support.failure("compliance.report", ["teamId": team])?.code == -32002)
        #expect(support.failure("compliance.check", ["userId": .string(me)])?.code == -32002)
        #expect(support.ok("compliance.check", ["userId": support.ok("session.whoami")["user"]?["id"] ?? .null])["verdict"] == "compliant")
    }
}

extension TeamAndComplianceTests {
    /// The report writes members straight to bytes; `compliance.check` builds `JSON`. Both must
    /// say the same of every member, and the report's order must be gaps first, then last name,
    /// first name (case-insensitive, code point order) and id, whatever the names hold.
    @Test func reportAgreesWithCheckForEveryMemberAndSortsAnyName() throws {
        let (admin, me) = try bootstrap()
        let types = ["Forklift", "CPR \"basic\"", "Élan"].map { admin.createType($0) }
        let team = admin.ok("teams.create", ["name": "Night \\ shift"])["id"]!
        admin.ok("teams.setRequiredTypes", ["teamId": team, "typeIds": .array(types.map(JSON.string))])
        let names: [(String, String)] = [("émile", "Zola"), ("Émile", "zola"), ("Ann", "O'Brien \"Ob\""), ("Zed", "ÅSTRÖM"),
                                         ("bob", "smith"), ("Bob", "Smith"), ("Back\\slash", "Under_score"), ("Ω", "ω"),
                                         ("Cy", "apple"), ("Di", "Banana"), ("Ed", "éclair"), ("Flo", "Éclat")]
        var users = [me]
        for (i, (first, last)) in names.enumerated() {
            users.append(admin.addUser("m\(i)@example.com", first: first, last: last))
        }
        for u in users { admin.ok("teams.addMember", ["teamId": team, "userId": .string(u)]) }
        // A spread of holdings: none, expired, expiring, pending, several of one type.
        let expirations = ["2027-01-01", "2026-01-20", "2025-06-01"]
        for (i, u) in users.enumerated() where i > 0 {
            for (j, t) in types.enumerated() where (i + j) % 3 != 0 {
                let c = admin.addCredential(user: u, type: t, expiration: expirations[(i * j) % 3])["id"]!
                if (i + j) % 4 != 0 { admin.ok("credentials.approve", ["credentialId": c]) }
            }
            if i % 2 == 0 { admin.addCredential(user: u, type: types[0], expiration: "2028-01-01") }
            // Some members hold every type: valid, or valid only for a few more days.
            if i % 3 != 0 {
                for t in types {
                    let c = admin.addCredential(user: u, type: t, expiration: i % 3 == 1 ? "2027-06-01" : "2026-01-15")["id"]!
                    admin.ok("credentials.approve", ["credentialId": c])
                }
            }
        }
        let report = admin.ok("compliance.report", ["teamId": team])
        #expect(report["teamName"] == "Night \\ shift")
        let members = report["members"]?.arrayValue ?? []
        #expect(members.count == users.count)
        var counts: [String: Int] = [:]
        for m in members {
            let id = m["userId"]?.stringValue ?? ""
            let check = admin.ok("compliance.check", ["userId": .string(id)])
            #expect(m["verdict"] == check["verdict"], "\(id)")
            #expect(m["items"] == check["items"], "\(id)")
            counts[m["verdict"]?.stringValue ?? "", default: 0] += 1
        }
        #expect(report["summary"] == ["members": .int(users.count), "compliant": .int(counts["compliant"] ?? 0),
                                      "expiring": .int(counts["expiring"] ?? 0), "nonCompliant": .int(counts["non_compliant"] ?? 0)])
        let rank = ["non_compliant": 0, "expiring": 1, "compliant": 2]
        let keys = members.map { m in
            [rank[m["verdict"]?.stringValue ?? ""] ?? 9] + Array((m["lastName"]?.stringValue ?? "").lowercased().unicodeScalars.map { Int($0.value) }) + [-1]
                + Array((m["firstName"]?.stringValue ?? "").lowercased().unicodeScalars.map { Int($0.value) }) + [-1]
                + Array((m["userId"]?.stringValue ?? "").unicodeScalars.map { Int($0.value) })
        }
        #expect(keys == keys.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(Set(keys.map { $0[0] }) == [0, 1, 2], "the data gives every verdict")
        // Names come back exactly as stored, escapes and all.
        #expect(Set(members.compactMap { $0["lastName"]?.stringValue }) == Set(names.map(\.1) + ["Admin"]))
        // A type nobody holds: everyone is non-compliant, so the order is the names' alone.
        let unheld = admin.createType("Unheld")
        admin.ok("teams.setRequiredTypes", ["teamId": team, "typeIds": [.string(unheld)]])
        let byName = admin.ok("compliance.report", ["teamId": team])["members"]?.arrayValue?.compactMap { $0["lastName"]?.stringValue } ?? []
        let lastNames = ["Admin", "apple", "Banana", "O'Brien \"Ob\"", "smith", "Smith", "Under_score", "Zola", "zola",
                         "ÅSTRÖM", "éclair", "Éclat", "ω"]
        #expect(byName.filter { !["smith", "Smith", "Zola", "zola"].contains($0) } == lastNames.filter { !["smith", "Smith", "Zola", "zola"].contains($0) })
        #expect(Set(byName[4...5]) == ["smith", "Smith"] && Set(byName[7...8]) == ["Zola", "zola"], "\(byName)")
        // A reader without viewApplications sees the same statuses, but not the pending or rejected
        // credentials that decide them; their own always. Report and check agree on that too.
        admin.ok("teams.setRequiredTypes", ["teamId": team, "typeIds": .array(types.map(JSON.string))])
        let readerID = admin.addUser("reader@example.com", permissions: ["viewApplications": false])
        admin.ok("teams.addMember", ["teamId": team, "userId": .string(readerID)])
        admin.addCredential(user: readerID, type: types[1], expiration: "2027-06-01")  // pending, their own
        let reader = TestClient(db: admin.service.db)
        reader.signInFirstTime("reader@example.com")
        var hidden = 0
        for m in reader.ok("compliance.report", ["teamId": team])["members"]?.arrayValue ?? [] {
            let check = reader.ok("compliance.check", ["userId": m["userId"] ?? .null])
            #expect(m["items"] == check["items"], "\(String(describing: m["userId"]))")
            hidden += (m["items"]?.arrayValue ?? []).filter { $0["status"] == "not_approved" && $0["credentialId"] == .null }.count
        }
        #expect(hidden > 0, "some pending credential decides a status the reader may not open")
        let own = reader.ok("compliance.check", ["userId": .string(readerID)])["items"]?.arrayValue?.first { $0["status"] == "not_approved" }
        #expect(own?["credentialId"] != .null)
    }
}

struct AuditTests {
    @Test func everyChangeIsListedInOrderFilteredAndPagedWithoutSecrets() throws {
        let clock = TestClock()
        let (admin, me) = try bootstrap(clock: clock)
        let sam = admin.addUser("sam@example.com")
        clock.advance(minutes: 10)
        let t = admin.createType("L")
        let c = admin.addCredential(user: sam, type: t, document: "DOC-SECRET-1",
                                    media: [Fixtures.media("a.pdf", "application/pdf", Fixtures.pdf)])["id"]!
        admin.ok("credentials.approve", ["credentialId": c])
        let team = admin.ok("teams.create", ["name": "T"])["id"]!
        admin.ok("teams.addMember", ["teamId": team, "userId": .string(sam)])
        admin.ok("settings.update", ["expiringWindowDays": 10])
        admin.ok("notifications.updateSettings", ["daysBefore": [5]])
        var all: [JSON] = []
        var cursor: JSON = .null
        repeat {
            var p = JSONObject(["limit": 3])
            if cursor != .null { p["cursor"] = cursor }
            let page = admin.ok("audit.list", .object(p))
            all += page["items"]?.arrayValue ?? []
            cursor = page["nextCursor"] ?? .null
        } while cursor != .null
        let actions = all.compactMap { $0["action"]?.stringValue }
        #expect(actions == ["setup.createAdmin", "session.login", "users.add", "credentialTypes.create", "credentials.add",
                            "credentials.approve", "teams.create", "teams.addMember", "settings.update", "notifications.updateSettings"])
        #expect(all.dropFirst().allSatisfy { $0["actorId"] == .string(me) })
        let text = JSONWriter.string(.array(all))
        for secret in [adminPassword, tempPassword, "pbkdf2", "DOC-SECRET-1", "JVBER"] { #expect(!text.contains(secret), "\(secret)") }
        let since = admin.ok("audit.list", ["since": "2026-01-01T00:10:00.000Z"])["items"]?.arrayValue ?? []
        #expect(since.first?["action"] == "credentialTypes.create")
        #expect(admin.ok("audit.list", ["actorId": "usr_nobody"])["items"] == [])
        #expect(admin.failure("audit.list", ["since": "yesterday"])?.code == -32602)
        let client = TestClient(db: admin.service.db)
        client.signInFirstTime("sam@example.com")
        #expect(client.failure("audit.list")?.code == -32002)
    }
}
