import Testing
@testable import CredentialsService
import CredentialsCore
import JSONRPC

/// `notifications.digest`: an admin's one-call view of what the members of the teams they follow
/// hold that expires within `days` of asOf, or has expired.
struct DigestTests {
    func digest(_ c: TestClient, _ p: JSON = [:]) -> [(team: String, items: [JSON])] {
        (c.ok("notifications.digest", p)["teams"]?.arrayValue ?? []).map { ($0["teamName"]?.stringValue ?? "", $0["items"]?.arrayValue ?? []) }
    }

    @Test func theTeamsAFollowerFollowsWithWhatExpiresOrHasExpired() throws {
        let (admin, _) = try bootstrap()
        let teams = ["beta", "Alpha", "Ωmega", "Other"].map { admin.ok("teams.create", ["name": .string($0)])["id"] ?? .null }
        let (sam, zoe, dee, out) = (admin.addUser("sam@example.com", first: "Sam", last: "Smith"), admin.addUser("zoe@example.com", first: "Zoe", last: "Zhu"),
                                    admin.addUser("dee@example.com"), admin.addUser("out@example.com"))
        for (team, user) in [(0, sam), (1, sam), (1, zoe), (0, dee), (3, out)] {
            admin.ok("teams.addMember", ["teamId": teams[team], "userId": .string(user)])
        }
        for team in teams.prefix(3) { admin.ok("teams.follow", ["teamId": team]) }
        let type = admin.createType("First Aid")
        let undated = admin.createType("Induction")
        func add(_ user: String, _ expiration: String?, type t: String? = nil) -> JSON {
            admin.addCredential(user: user, type: t ?? type, issue: "2025-01-01", expiration: expiration)["id"] ?? .null
        }
        let a = add(sam, "2026-01-20"), b = add(sam, "2026-02-15"), c = add(sam, "2025-06-01")
        _ = add(sam, nil, type: undated)
        let renewed = add(sam, "2026-01-10")
        admin.ok("credentials.addVersion", ["credentialId": renewed, "issueDate": "2026-01-01", "expirationDate": "2027-01-10"])
        let f = add(zoe, "2026-01-20"), g = add(zoe, "2026-01-05")
        _ = add(dee, "2026-01-10")
        _ = add(out, "2026-01-10")
        admin.ok("users.deactivate", ["userId": .string(dee)])
        admin.ok("credentials.approve", ["credentialId": g])

        let whole = admin.ok("notifications.digest")
        #expect(whole["asOf"] == "2026-01-01" && whole["days"] == 30 && whole["truncated"] == false)
        let d = digest(admin)
        // By name, case-insensitive, in code point order; a followed team with nobody in it is listed empty.
        #expect(d.map(\.team) == ["Alpha", "beta", "Ωmega"])
        let ids: [[JSON]] = d.map { $0.items.map { $0["credentialId"] ?? .null } }
        let sameDay: [JSON] = [a, f].sorted { ($0.stringValue ?? "") < ($1.stringValue ?? "") }
        #expect(ids == [[c, g] + sameDay, [c, a], []])
        #expect(d[0].items[1] == ["credentialId": g, "userId": .string(zoe), "email": "zoe@example.com", "firstName": "Zoe", "lastName": "Zhu",
                                  "typeName": "First Aid", "expirationDate": "2026-01-05", "expiryStatus": "expiring", "approvalStatus": "approved"])
        #expect(d[1].items.map { $0["expiryStatus"] } == ["expired", "expiring"] && d[1].items[0]["approvalStatus"] == "pending")
        // A wider window takes in the February one, valid by the organization's 30-day window.
        let wide = digest(admin, ["days": 60])
        #expect(wide[1].items.map { $0["credentialId"] ?? .null } == [c, a, b] && wide[1].items[2]["expiryStatus"] == "valid")
        // Another day: what had not expired then is expiring, and what expires later is out.
        let earlier = digest(admin, ["asOf": "2025-05-25", "days": 10])
        #expect(earlier[1].items.map { $0["credentialId"] ?? .null } == [c] && earlier[1].items[0]["expiryStatus"] == "expiring")
        // Unfollowed, a team leaves the digest.
        admin.ok("teams.unfollow", ["teamId": teams[1]])
        #expect(digest(admin).map(\.team) == ["beta", "Ωmega"])
        for bad: JSON in [["days": 0], ["days": 366], ["days": "30"], ["asOf": "2026-02-30"], ["teamId": teams[0]]] {
            #expect(admin.failure("notifications.digest", bad)?.code == -32602, "\(bad)")
        }
    }

    @Test func onlyWhatTheCallerMayView() throws {
        let (admin, _) = try bootstrap()
        let team = admin.ok("teams.create", ["name": "Crew"])["id"] ?? .null
        let sam = admin.addUser("sam@example.com")
        let limID = admin.addUser("lim@example.com", role: "admin", permissions: ["viewApplications": false])
        for u in [sam, limID] { admin.ok("teams.addMember", ["teamId": team, "userId": .string(u)]) }
        let type = admin.createType("First Aid")
        let pending = admin.addCredential(user: sam, type: type, expiration: "2026-01-10")["id"] ?? .null
        let approved = admin.addCredential(user: sam, type: type, expiration: "2026-01-11")["id"] ?? .null
        admin.ok("credentials.approve", ["credentialId": approved])
        let own = admin.addCredential(user: limID, type: type, expiration: "2026-01-12")["id"] ?? .null
        admin.ok("teams.follow", ["teamId": team])
        admin.ok("teams.follow", ["teamId": team, "userId": .string(limID)])
        let lim = TestClient(db: admin.service.db)
        lim.signInFirstTime("lim@example.com")
        #expect(digest(lim).first?.items.map { $0["credentialId"] ?? .null } == [approved, own])
        #expect(digest(admin).first?.items.map { $0["credentialId"] ?? .null } == [pending, approved, own])
        // Each admin's digest is of the teams they follow themselves.
        admin.ok("teams.unfollow", ["teamId": team])
        #expect(digest(admin).isEmpty && digest(lim).count == 1)
    }

    /// At most 10,000 items in all: the rest is cut, in order, and the answer says so.
    @Test func aDigestStopsAtTenThousandItems() throws {
        let (admin, _) = try bootstrap()
        let teams = ["A crew", "B crew"].map { admin.ok("teams.create", ["name": .string($0)])["id"] ?? .null }
        let sam = admin.addUser("sam@example.com")
        for t in teams {
            admin.ok("teams.addMember", ["teamId": t, "userId": .string(sam)])
            admin.ok("teams.follow", ["teamId": t])
        }
        _ = admin.createType("Bulk")
        var csv = "email,credential_type,issue_date,expiration_date\n"
        for i in 0..<(DigestMethods.maxItems + 1) { csv += "sam@example.com,Bulk,2025-01-01,2026-01-\(10 + i % 20)\n" }
        #expect(admin.ok("credentials.import", ["csv": .string(csv)])["created"] == .int(DigestMethods.maxItems + 1))
        let answer = admin.ok("notifications.digest")
        #expect(answer["truncated"] == true)
        let d = digest(admin)
        #expect(d.map(\.team) == ["A crew", "B crew"])
        #expect(d[0].items.count == DigestMethods.maxItems && d[1].items.isEmpty)
        let keys = d[0].items.map { "\($0["expirationDate"]?.stringValue ?? "") \($0["credentialId"]?.stringValue ?? "")" }
        #expect(keys == keys.sorted())
        // The cut item is the last in order: one of the latest expiration day.
        #expect(d[0].items.last?["expirationDate"] == "2026-01-29")
        #expect(digest(admin, ["days": 10]).first?.items.count == (DigestMethods.maxItems + 1) / 20 * 2 + 1, "2026-01-10 and -11 only")
    }
}
