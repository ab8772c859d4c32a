import Testing
@testable import CredentialsCore
@testable import CredentialsStore

/// The queries that find who hears of a reminder, and an admin's digest, are served by indexes:
/// never a pass over every user or every credential per holder (issue 19 asks for them found in
/// SQL, efficiently). Without statistics SQLite once chose to read every active user through
/// users_status for each holder; the plans below fail if that comes back.
struct FollowerQueryPlanTests {
    func plan(_ sql: String, _ args: [SQLBindable]) throws -> [String] {
        let db = try Database(path: ":memory:")
        var plan: [String] = []
        try db.query("EXPLAIN QUERY PLAN " + sql, args) { plan.append($0.text(3)) }
        return plan
    }

    /// Each holder's teams by team_members_user, each team's followers by its key, each follower by id.
    func expectFollowersByKey(_ plan: [String], _ name: String) {
        #expect(plan.contains { $0.hasPrefix("SEARCH m USING COVERING INDEX team_members_user") }, "\(name): \(plan)")
        #expect(plan.contains { $0.hasPrefix("SEARCH f USING PRIMARY KEY (team_id=?)") }, "\(name): \(plan)")
        #expect(plan.contains { $0.hasPrefix("SEARCH fu USING INDEX sqlite_autoindex_users_1 (id=?)") }, "\(name): \(plan)")
        #expect(!plan.contains { $0.contains("users_status (status=?)") }, "\(name): \(plan)")
    }

    @Test func candidatesComeInExpiryOrderAndTheirFollowersByKey() throws {
        for visibility in [Visibility.everything, .ownPlus(userID: "u", approvals: [.approved])] {
            let visible = visibility.condition()
            let args: [SQLBindable] = ["30,7,1", "2026-02-01", "", ""] + (visible?.args ?? []) + ["2026-01-01", 100]
            let p = try plan(OrganizationStore.candidatesSQL(visible: visible?.sql ?? "1", index: OrganizationStore.candidatesIndex(visibility)), args)
            #expect(p.first?.hasPrefix("SEARCH c USING INDEX credentials_expiration") == true, "\(p)")
            #expect(!p.contains { $0.contains("TEMP B-TREE") || ($0.hasPrefix("SCAN") && !$0.contains("VIRTUAL")) }, "\(p)")
            expectFollowersByKey(p, "candidates")
        }
        // A caller who sees only their own: their few credentials by user, then sorted.
        let ownOnly = Visibility.ownPlus(userID: "u", approvals: [])
        let own = ownOnly.condition()
        let p = try plan(OrganizationStore.candidatesSQL(visible: own?.sql ?? "1", index: OrganizationStore.candidatesIndex(ownOnly)),
                         ["30,7,1", "2026-02-01", "", ""] + (own?.args ?? []) + ["2026-01-01", 100])
        #expect(p.first?.hasPrefix("SEARCH c USING INDEX credentials_user (user_id=?)") == true, "\(p)")
        #expect(!p.contains { $0.hasPrefix("SCAN") && !$0.contains("VIRTUAL") }, "\(p)")
    }

    @Test func thePagesTeamsAndTheirFollowersAreFoundByKey() throws {
        let teams = try plan(OrganizationStore.holderTeamsSQL, [OrganizationStore.jsonArray(["usr_a", "usr_b"])])
        #expect(teams.contains { $0.hasPrefix("SEARCH m USING COVERING INDEX team_members_user") }, "\(teams)")
        let followers = try plan(OrganizationStore.teamFollowersSQL, [OrganizationStore.jsonArray(["team_a", "team_b"])])
        #expect(followers.contains { $0.hasPrefix("SEARCH f USING PRIMARY KEY (team_id=?)") }, "\(followers)")
        #expect(followers.contains { $0.hasPrefix("SEARCH fu USING INDEX sqlite_autoindex_users_1 (id=?)") }, "\(followers)")
        for p in [teams, followers] {
            #expect(p.filter { $0.hasPrefix("SCAN") } == ["SCAN h VIRTUAL TABLE INDEX 1:"], "\(p)")
            #expect(!p.contains { $0.contains("users_status") }, "\(p)")
        }
    }

    @Test func aDigestReadsTheFollowersTeamsMembersAndTheirCredentialsFromIndexes() throws {
        let visible = Visibility.ownPlus(userID: "u", approvals: [.approved]).condition()
        let p = try plan(TeamStore.digestSQL(visible: visible?.sql ?? "1"), ["u", "2026-02-01"] + (visible?.args ?? []) + [10_001])
        #expect(p.first?.hasPrefix("SEARCH f USING COVERING INDEX team_followers_user") == true, "\(p)")
        #expect(p.contains { $0.hasPrefix("SEARCH m USING PRIMARY KEY (team_id=?)") }, "\(p)")
        #expect(p.contains { $0.hasPrefix("SEARCH c USING COVERING INDEX credentials_user") }, "\(p)")
        #expect(!p.contains { $0.hasPrefix("SCAN") }, "\(p)")
    }

    @Test func holderIDsTravelAsAJSONArray() {
        #expect(OrganizationStore.jsonArray([]) == "[]")
        #expect(OrganizationStore.jsonArray(["usr_a", "q\"b\\c\u{1}"]) == #"["usr_a","q\"b\\c\u0001"]"#)
    }
}
