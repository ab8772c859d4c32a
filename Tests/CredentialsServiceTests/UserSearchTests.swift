import Testing
import CredentialsCore
import JSONRPC

/// `users.list` `query`: any string is searched for literally, in the first name, last name or
/// email, case-insensitively, and never errors (contract: "A NUL or any other character in a
/// search query never causes an internal error").
struct UserSearchTests {
    /// First name, last name, email: names with the characters SQL patterns, FTS queries and C
    /// strings treat specially, a decomposed accent, an emoji, and names with spaces whose
    /// joined text ("mary ann van der berg") holds strings no single field holds.
    static let people: [(String, String, String)] = [
        ("Zoë", "O'Brien", "zoe.obrien@example.com"),
        ("Jose\u{301}", "Nu\u{303}n\u{303}ez", "jose@example.com"),
        ("100%", "Under_score", "pct_under%score@example.com"),
        ("Back\\slash", "Q\"uote", "back.slash@example.com"),  // a backslash is no email character (TextRules)
        ("Emoji😀", "Smith", "EMOJI😀@Example.COM"),
        ("Mary Ann", "van der Berg", "mab@example.com"),
        ("İlker", "ẞtraße", "ilker@example.com"),
        (String(repeating: "Ab", count: 50), "Long", "long@example.com"),
    ]

    static let queries: [String] = [
        "ad\u{0}", "\u{0}", "a\u{0}b", "ada\u{0}x", String(repeating: "\u{0}", count: 200),
        "%", "_", "\\", "'", "\"", "\"\"", "100%", "r_s", "%score", "\\slash",
        "😀", "emoji😀", "EMOJI😀@", "\u{301}", "e\u{301}", "se\u{301}", "n\u{303}", "ë", "zoë", "ZOË",
        "ann van", "ann", "n v", "mary ann", "berg mab", "smith emoji", "admin ada",
        "o'b", "O'BRIEN", "q\"u", "\"uote", "ilk", "i\u{307}lker", "ẞ", "ß", "straße", "STRASSE",
        " ", "  ", "a", "ab", "ABA", "example.com", "@", "*", "^", "-", "NEAR(", "OR", "AND", "NOT", ":", "(", ")", "{", "}",
        String(repeating: "ab", count: 100), String(repeating: "x😀%_\\\"'\u{0}\u{301}", count: 22) + "ab",
    ]

    /// Whether `text` holds `q`'s code points in a row (after both are lowercased): literal, not
    /// by grapheme, so a lone combining mark is found after its letter.
    static func holds(_ text: String, _ q: String) -> Bool {
        let t = Array(text.lowercased().utf8), n = Array(q.lowercased().utf8)
        if n.isEmpty { return true }
        guard t.count >= n.count else { return false }
        return (0...(t.count - n.count)).contains { i in t[i..<(i + n.count)].elementsEqual(n) }
    }

    @Test(arguments: queries)
    func anyQueryIsSearchedForLiterally(_ query: String) throws {
        let (admin, adminID) = try bootstrap()
        var everyone: [(id: String, fields: [String])] = [(adminID, ["Ada", "Admin", "ada@example.com"])]
        for (first, last, email) in Self.people {
            everyone.append((admin.addUser(email, first: first, last: last), [first, last, email]))
        }
        #expect(everyone.allSatisfy { !$0.id.isEmpty })
        let expected = everyone.filter { $0.fields.contains { Self.holds($0, query) } }.map { JSON.string($0.id) }
        let r = admin.call("users.list", ["query": .string(query), "limit": 1000])
        #expect(r["error"] == nil, "query \(query.unicodeScalars.map { String($0.value, radix: 16) }): \(JSONWriter.string(r["error"] ?? .null))")
        #expect(r["result"]?["items"]?.arrayValue?.compactMap { $0["id"] } == expected)
        // Paged one at a time, the same users.
        var paged: [JSON] = []
        var cursor: JSON = .null
        repeat {
            var p = JSONObject(["query": .string(query), "limit": 1])
            if cursor != .null { p["cursor"] = cursor }
            let page = admin.ok("users.list", .object(p))
            paged += page["items"]?.arrayValue?.compactMap { $0["id"] } ?? []
            cursor = page["nextCursor"] ?? .null
        } while cursor != .null && paged.count <= everyone.count
        #expect(paged == expected)
    }
}
