import Testing
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC

/// Reminders to the right people (issue 19): the holder while their reminders are on, and each
/// active follower of the holder's teams who may view the credential; each due once per recipient.
struct RecipientTests {
    /// Ada (admin, the caller), Sam (the holder) and Ben (support), both in Warehouse; Sam's
    /// First Aid expires 2026-03-31 (pending: nobody approved it).
    struct World {
        let admin: TestClient, me: String, sam: String, ben: String, team: String, credential: String
        init(clock: TestClock = TestClock()) throws {
            (admin, me) = try bootstrap(clock: clock)
            sam = admin.addUser("sam@example.com")
            ben = admin.addUser("ben@example.com", first: "Ben", last: "Brown")
            let type = admin.createType("First Aid")
            credential = admin.addCredential(user: sam, type: type, issue: "2025-01-01", expiration: "2026-03-31")["id"]?.stringValue ?? ""
            team = admin.ok("teams.create", ["name": "Warehouse"])["id"]?.stringValue ?? ""
            for u in [sam, ben] { admin.ok("teams.addMember", ["teamId": .string(team), "userId": .string(u)]) }
        }

        func due(_ asOf: String, as client: TestClient? = nil) -> [JSON] {
            (client ?? admin).ok("notifications.due", ["asOf": .string(asOf)])["items"]?.arrayValue ?? []
        }

        /// `recipientUserId:daysBefore` of each item, in order.
        func recipients(_ asOf: String, as client: TestClient? = nil) -> [String] {
            due(asOf, as: client).map { "\($0["recipient"]?["userId"]?.stringValue ?? "?"):\($0["daysBefore"]?.intValue.map(String.init) ?? "expired")" }
        }

        func follow(_ teamID: String? = nil, for user: String? = nil, _ following: Bool = true) {
            var p = JSONObject(["teamId": .string(teamID ?? team)])
            if let user { p["userId"] = .string(user) }
            admin.ok(following ? "teams.follow" : "teams.unfollow", .object(p))
        }

        func client(_ email: String) -> TestClient {
            let c = TestClient(db: admin.service.db)
            c.signInFirstTime(email)
            return c
        }
    }

    @Test func eachRecipientIsRemindedOnce() throws {
        let w = try World()
        w.follow()
        w.follow(for: w.ben)
        let items = w.due("2026-03-01")
        #expect(w.recipients("2026-03-01") == ["\(w.sam):30", "\(w.me):30", "\(w.ben):30"])
        #expect(items.map { $0["id"]?.stringValue ?? "" } == ["\(w.credential):1:30", "\(w.credential):1:30:\(w.me)", "\(w.credential):1:30:\(w.ben)"])
        #expect(items[0]["recipient"] == ["userId": .string(w.sam), "email": "sam@example.com", "reason": "holder"])
        #expect(items[1]["recipient"] == ["userId": .string(w.me), "email": "ada@example.com", "reason": "team_follower", "teamId": .string(w.team)])
        #expect(items.allSatisfy { $0["userId"] == .string(w.sam) && $0["email"] == "sam@example.com" }, "userId and email stay the holder's")
        // Marking one recipient leaves the others due; marking again counts nothing.
        #expect(w.admin.ok("notifications.markSent", ["ids": [items[1]["id"]!]]) == ["marked": 1])
        #expect(w.admin.ok("notifications.markSent", ["ids": [items[1]["id"]!]]) == ["marked": 0])
        #expect(w.recipients("2026-03-01") == ["\(w.sam):30", "\(w.ben):30"])
        #expect(w.admin.ok("notifications.markSent", ["ids": [items[0]["id"]!, items[2]["id"]!]]) == ["marked": 2])
        #expect(w.due("2026-03-01").isEmpty)
        // Past expiry: one expired reminder each, and once each is marked nothing is due.
        let expired = w.due("2026-04-05")
        #expect(w.recipients("2026-04-05") == ["\(w.sam):expired", "\(w.me):expired", "\(w.ben):expired"])
        #expect(w.admin.ok("notifications.markSent", ["ids": .array(expired.prefix(2).map { $0["id"]! })]) == ["marked": 2])
        #expect(w.recipients("2027-01-01") == ["\(w.ben):expired"], "the holder's mark does not cover a follower")
        w.admin.ok("notifications.markSent", ["ids": [expired[2]["id"]!]])
        #expect(w.due("2027-01-01").isEmpty)
    }

    @Test func aFollowerOfTwoOfTheHoldersTeamsGetsOneItem() throws {
        let w = try World()
        let yard = w.admin.ok("teams.create", ["name": "Yard"])["id"]?.stringValue ?? ""
        w.admin.ok("teams.addMember", ["teamId": .string(yard), "userId": .string(w.sam)])
        w.follow(yard)
        #expect(w.due("2026-03-01").map { $0["recipient"]?["teamId"] } == [nil, .string(yard)])
        w.follow()
        let items = w.due("2026-03-01")
        #expect(items.count == 2)
        // The first team by id: Warehouse was made first.
        #expect(items[1]["recipient"]?["teamId"] == .string(min(w.team, yard)) && w.team < yard)
        // The holder following their own team hears of it as the holder only.
        w.follow(for: w.sam)
        #expect(w.recipients("2026-03-01") == ["\(w.sam):30", "\(w.me):30"])
        #expect(w.due("2026-03-01").first?["recipient"]?["reason"] == "holder")
    }

    @Test func aHolderWithRemindersOffIsLeftOutButNotTheirFollowers() throws {
        let w = try World()
        w.follow()
        w.admin.ok("notifications.updateSettings", ["userId": .string(w.sam), "enabled": false, "daysBefore": [60]])
        // Followers are reminded at the holder's offsets, even with the holder's reminders off.
        #expect(w.recipients("2026-01-30") == ["\(w.me):60"])
        #expect(w.recipients("2026-01-29").isEmpty)
        // A holder with reminders off and no follower: nothing, as before.
        w.follow(nil, for: nil, false)
        #expect(w.due("2026-03-31").isEmpty)
        // A follower's own settings are about their own credentials, not the teams they follow.
        w.follow()
        w.admin.ok("notifications.updateSettings", ["enabled": false])
        #expect(w.recipients("2026-02-01") == ["\(w.me):60"])
    }

    @Test func aDeactivatedFollowerGetsNothingAndFollowsAgainOnReactivation() throws {
        let w = try World()
        let cy = w.admin.addUser("cy@example.com", role: "admin", first: "Cy", last: "Clark")
        w.follow(for: cy)
        #expect(w.recipients("2026-03-01") == ["\(w.sam):30", "\(cy):30"])
        w.admin.ok("users.deactivate", ["userId": .string(cy)])
        #expect(w.recipients("2026-03-01") == ["\(w.sam):30"])
        #expect(w.admin.failure("notifications.markSent", ["ids": .string("\(w.credential):1:30:\(cy)")])?.code == -32602)
        w.admin.ok("users.reactivate", ["userId": .string(cy)])
        #expect(w.recipients("2026-03-01") == ["\(w.sam):30", "\(cy):30"])
        #expect(w.admin.ok("notifications.getSettings", ["userId": .string(cy)])["followedTeamIds"] == [.string(w.team)])
        // A deactivated holder: nobody hears of their credentials.
        w.admin.ok("users.deactivate", ["userId": .string(w.sam)])
        #expect(w.due("2026-03-01").isEmpty)
    }

    @Test func aSupportUserFollowsOnlyATeamTheyAreIn() throws {
        let w = try World()
        let yard = w.admin.ok("teams.create", ["name": "Yard"])["id"]?.stringValue ?? ""
        let ben = w.client("ben@example.com")
        #expect(ben.failure("teams.follow", ["teamId": .string(yard)]) == ErrorSummary(code: -32002, reason: "forbidden"))
        #expect(w.admin.failure("teams.follow", ["teamId": .string(yard), "userId": .string(w.ben)]) == ErrorSummary(code: -32002, reason: "forbidden"))
        #expect(ben.ok("teams.follow", ["teamId": .string(w.team)]) == ["teamId": .string(w.team), "userId": .string(w.ben), "following": true])
        #expect(ben.ok("notifications.getSettings")["followedTeamIds"] == [.string(w.team)])
        #expect(w.recipients("2026-03-01") == ["\(w.sam):30", "\(w.ben):30"])
        // Removed from the team, the follow stays but gives nothing until they are back.
        w.admin.ok("teams.removeMember", ["teamId": .string(w.team), "userId": .string(w.ben)])
        #expect(w.recipients("2026-03-01") == ["\(w.sam):30"])
        #expect(ben.ok("notifications.getSettings")["followedTeamIds"] == [.string(w.team)])
        w.admin.ok("teams.addMember", ["teamId": .string(w.team), "userId": .string(w.ben)])
        #expect(w.recipients("2026-03-01") == ["\(w.sam):30", "\(w.ben):30"])
        // One's own follow may always end; another's is not a support user's to change.
        #expect(ben.failure("teams.unfollow", ["teamId": .string(w.team), "userId": .string(w.me)])?.code == -32002)
        #expect(ben.failure("teams.follow", ["teamId": .string(w.team), "userId": .string(w.sam)])?.code == -32002)
        #expect(ben.ok("teams.unfollow", ["teamId": .string(w.team)])["following"] == false)
        #expect(ben.failure("notifications.digest") == ErrorSummary(code: -32002, reason: "forbidden"))
        // An admin follows any team, member or not.
        #expect(w.admin.ok("teams.follow", ["teamId": .string(yard)])["following"] == true)
    }

    @Test func followingForAnotherUserNeedsTheManageRule() throws {
        let w = try World()
        w.admin.addUser("lim@example.com", role: "admin", permissions: ["viewApplications": false])
        let narrow = w.admin.addUser("nat@example.com", role: "admin", permissions: ["viewApplications": false, "shareReports": false])
        let lim = w.client("lim@example.com")
        // Ben holds every permission, Lim does not: Lim may not follow or unfollow for him.
        #expect(lim.failure("teams.follow", ["teamId": .string(w.team), "userId": .string(w.ben)]) == ErrorSummary(code: -32002, reason: "forbidden"))
        w.follow(for: w.ben)
        #expect(lim.failure("teams.unfollow", ["teamId": .string(w.team), "userId": .string(w.ben)]) == ErrorSummary(code: -32002, reason: "forbidden"))
        #expect(w.admin.ok("notifications.getSettings", ["userId": .string(w.ben)])["followedTeamIds"] == [.string(w.team)])
        // Nat holds less than Lim: Lim manages Nat, and so may follow for Nat.
        #expect(lim.ok("teams.follow", ["teamId": .string(w.team), "userId": .string(narrow)])["following"] == true)
        #expect(lim.ok("teams.unfollow", ["teamId": .string(w.team), "userId": .string(narrow)])["following"] == false)
        #expect(lim.failure("teams.follow", ["teamId": .string(w.team), "userId": "usr_nope"]) == ErrorSummary(code: -32003, reason: "not_found"))
        #expect(lim.failure("teams.follow", ["teamId": "team_nope"]) == ErrorSummary(code: -32003, reason: "not_found"))
    }

    @Test func followingIsAuditedWhenItChanges() throws {
        let w = try World()
        w.follow()
        w.follow()
        w.follow(for: w.ben)
        w.follow(nil, for: nil, false)
        w.follow(nil, for: nil, false)
        let rows = (w.admin.ok("audit.list", ["limit": 1000])["items"]?.arrayValue ?? []).filter { ($0["action"]?.stringValue ?? "").hasPrefix("teams.") && $0["action"] != "teams.create" && $0["action"] != "teams.addMember" }
        #expect(rows.map { $0["action"]?.stringValue ?? "" } == ["teams.follow", "teams.follow", "teams.unfollow"])
        #expect(rows.map { $0["detail"]?["userId"] } == [.string(w.me), .string(w.ben), .string(w.me)])
        #expect(rows.allSatisfy { $0["targetId"] == .string(w.team) && $0["actorId"] == .string(w.me) })
    }
}
