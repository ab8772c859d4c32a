import Testing
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC

/// What a reminder to a follower shows, and to whom: the caller's visibility and the follower's
/// own (contract §14); the ids markSent takes and the ones it refuses; limits and old files.
struct RecipientIDTests {
    typealias World = RecipientTests.World

    @Test func onlyWhatTheCallerAndTheFollowerMayView() throws {
        let w = try World()
        let limID = w.admin.addUser("lim@example.com", role: "admin", permissions: ["viewApplications": false])
        w.follow()
        w.follow(for: limID)
        let lim = w.client("lim@example.com")
        // Sam's credential is pending: Lim may not view it, neither as the caller nor as a follower.
        #expect(w.recipients("2026-03-01") == ["\(w.sam):30", "\(w.me):30"])
        #expect(w.recipients("2026-03-01", as: lim).isEmpty)
        #expect(lim.failure("notifications.markSent", ["ids": .string("\(w.credential):1:30:\(w.me)")])?.code == -32602)
        #expect(w.admin.failure("notifications.markSent", ["ids": .string("\(w.credential):1:30:\(limID)")])?.code == -32602)
        // Lim's own credential: Lim sees every recipient of it.
        let type = w.admin.createType("Forklift")
        let own = w.admin.addCredential(user: limID, type: type, issue: "2025-01-01", expiration: "2026-03-20")["id"]?.stringValue ?? ""
        w.admin.ok("teams.addMember", ["teamId": .string(w.team), "userId": .string(limID)])
        let seen = w.due("2026-03-01", as: lim)
        #expect(seen.allSatisfy { $0["credentialId"] == .string(own) } && seen.map { $0["recipient"]?["userId"] } == [.string(limID), .string(w.me)], "\(seen)")
        // Once Sam's is approved it is what viewReports shows: to Lim as caller and as follower.
        w.admin.ok("credentials.approve", ["credentialId": .string(w.credential)])
        #expect(w.recipients("2026-03-01", as: lim) == ["\(limID):30", "\(w.me):30", "\(w.sam):30", "\(w.me):30", "\(limID):30"])
    }

    @Test func idsNotificationsDueCouldNotGiveAreRefusedAndChangeNothing() throws {
        let w = try World()
        w.follow()
        let good = "\(w.credential):1:30:\(w.me)"
        let forged = [
            "\(w.credential):1:5:\(w.me)",           // an offset the holder has no reminder for
            "\(w.credential):2:30:\(w.me)",          // a version that is not the latest
            "\(w.credential):01:30:\(w.me)",         // a number written another way
            "\(w.credential):1:030:\(w.me)",
            "\(w.credential):1:30:\(w.ben)",         // a member who follows nothing
            "\(w.credential):1:30:\(w.sam)",         // the holder, as a follower
            "\(w.credential):1:30:usr_nobody",
            "\(w.credential):1:30:",
            "\(w.credential):1:30:\(w.me):x",
            "cred_nope:1:30:\(w.me)",
        ]
        for id in forged {
            let r = w.admin.call("notifications.markSent", ["ids": [.string(good), .string(id)]])
            #expect(r["error"]?["code"] == -32602 && r["error"]?["data"]?["fields"]?[0]?["field"] == "ids[1]", "\(id): \(JSONWriter.string(r))")
        }
        // None of those requests marked the good id before refusing.
        #expect(w.admin.ok("notifications.markSent", ["ids": [.string(good)]]) == ["marked": 1])
        // After a renewal the old version's ids are gone; the new series is due to everyone.
        w.admin.ok("credentials.addVersion", ["credentialId": .string(w.credential), "issueDate": "2026-03-01", "expirationDate": "2027-03-31"])
        #expect(w.admin.failure("notifications.markSent", ["ids": [.string("\(w.credential):1:7:\(w.me)")]])?.code == -32602)
        #expect(w.due("2027-03-01").map { $0["id"]?.stringValue ?? "" } == ["\(w.credential):2:30", "\(w.credential):2:30:\(w.me)"])
    }

    @Test func anIdIsNamedByItsPlaceInTheListWhateverItsKind() throws {
        let w = try World()
        let token = w.admin.ok("tokens.create", ["name": "ci", "expiresInDays": 20])["token"]?["id"]?.stringValue ?? ""
        let tokenID = "\(token):token:7"
        let r = w.admin.call("notifications.markSent", ["ids": [.string(tokenID), .string("\(w.credential):1:5")]])
        #expect(r["error"]?["data"]?["fields"]?[0]?["field"] == "ids[1]", "\(JSONWriter.string(r))")
        let unknown = w.admin.call("notifications.markSent", ["ids": [.string("\(w.credential):1:30"), "tok_nope:token:7"]])
        #expect(unknown["error"]?["data"]?["fields"]?[0]?["field"] == "ids[1]")
        // Neither refusal marked the credential's reminder.
        #expect(w.admin.ok("notifications.markSent", ["ids": [.string("\(w.credential):1:30"), .string(tokenID)]]) == ["marked": 2])
        // A token's reminder is for its owner (the 1-day one: the 7-day one is marked).
        let tokenItem = w.due("2026-01-20").first { $0["kind"] == "token_expiring" }
        #expect(tokenItem?["daysBefore"] == 1)
        #expect(tokenItem?["recipient"] == ["userId": .string(w.me), "email": "ada@example.com", "reason": "holder"])
    }

    @Test func theLimitCountsOneItemPerRecipient() throws {
        let w = try World()
        w.follow()
        w.follow(for: w.ben)
        for limit in 1...4 {
            let items = w.admin.ok("notifications.due", ["asOf": "2026-03-30", "limit": .int(limit)])["items"]?.arrayValue ?? []
            #expect(items.count == min(limit, 9), "limit \(limit)")
        }
        // Three offsets, three recipients each, oldest due first.
        #expect(w.recipients("2026-03-30") == [30, 7, 1].flatMap { d in [w.sam, w.me, w.ben].map { "\($0):\(d)" } })
    }

    /// The largest offset of a holder with reminders off still counts while they have a follower:
    /// the scan window must reach their credentials.
    @Test func aFollowersReminderAtALargeOffsetOfAHolderWithRemindersOff() throws {
        let w = try World()
        w.admin.ok("notifications.updateSettings", ["userId": .string(w.sam), "enabled": false, "daysBefore": [200]])
        #expect(w.due("2025-09-12").isEmpty)
        w.follow()
        #expect(w.recipients("2025-09-12") == ["\(w.me):200"])
    }

    /// Schema 10 keeps the marks sent before it: the holder's reminders stay sent.
    @Test func aFileMadeBeforeFollowersKeepsItsMarks() throws {
        let path = tempDatabasePath()
        var credential = ""
        do {
            let old = try Database(path: path, migrations: Array(StoreSchema.migrations.prefix(9)))
            let (admin, _) = try bootstrap(old)
            let sam = admin.addUser("sam@example.com")
            credential = admin.addCredential(user: sam, type: admin.createType("First Aid"), issue: "2025-01-01", expiration: "2026-03-31")["id"]?.stringValue ?? ""
            #expect(admin.ok("notifications.markSent", ["ids": [.string("\(credential):1:30")]]) == ["marked": 1])
        }
        let db = try Database(path: path)
        #expect(try StoreSchema.version(of: db) == StoreSchema.currentVersion)
        let client = TestClient(db: db)
        client.ok("session.login", ["email": "ada@example.com", "password": .string(adminPassword)])
        #expect(client.ok("notifications.due", ["asOf": "2026-03-24"])["items"]?.arrayValue?.map { $0["id"]?.stringValue ?? "" } == ["\(credential):1:7"])
    }
}
