import Foundation
import Testing
import CredentialsCore
import CredentialsService
import CredentialsStore
import JSONRPC

/// Paging cursors (contract: "A cursor the service did not issue is -32602 invalid_cursor"): every
/// paged method refuses every cursor it could not have made, and still takes the ones it made,
/// in any process on the same file.
struct CursorTests {
    /// Cursors are base64url (no padding) of `c1:` and a key.
    static func cursor(_ text: String) -> String { cursor(bytes: Array(text.utf8)) }
    static func cursor(bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
    static func text(of cursor: String) -> String {
        var b64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        return String(decoding: Data(base64Encoded: b64) ?? Data(), as: UTF8.self)
    }

    /// Each paged method, with the params of one of its orders.
    static let lists: [(name: String, method: String, params: JSONObject)] = [
        ("users", "users.list", JSONObject()), ("types", "credentialTypes.list", JSONObject()), ("teams", "teams.list", JSONObject()),
        ("audit", "audit.list", JSONObject()), ("credentials", "credentials.list", JSONObject()), ("tokens", "tokens.list", JSONObject()),
        ("export", "credentials.export", JSONObject()),
        ("expiring", "credentials.list", JSONObject(["expiryStatus": "expiring", "asOf": "2026-01-01"])),
        ("expired", "credentials.list", JSONObject(["expiryStatus": "expired", "asOf": "2026-01-01"])),
    ]

    /// A database with three of everything each list pages through, and a client on it.
    func organization(_ db: Database) throws -> TestClient {
        let (admin, me) = try bootstrap(db)
        for i in 0..<3 {
            admin.addUser("u\(i)@example.com")
            let type = admin.createType("T\(i)")
            admin.ok("teams.create", ["name": .string("Team \(i)")])
            admin.ok("tokens.create", ["name": .string("Token \(i)")])
            for exp in ["2025-06-01", "2026-01-10", "2026-01-20"] { admin.addCredential(user: me, type: type, issue: "2025-01-01", expiration: exp) }
        }
        return admin
    }

    func page(_ client: TestClient, _ list: (name: String, method: String, params: JSONObject), cursor: String?) -> JSON {
        var p = list.params
        p["limit"] = 1
        if let cursor { p["cursor"] = .string(cursor) }
        return client.call(list.method, .object(p))
    }

    @Test func everyPagedMethodRefusesCursorsItDidNotIssue() throws {
        let path = tempDatabasePath()
        let admin = try organization(try Database(path: path))
        var issued: [String: String] = [:]
        for list in Self.lists {
            let first = page(admin, list, cursor: nil)
            let next = try #require(first["result"]?["nextCursor"]?.stringValue, "\(list.name) has a second page")
            issued[list.name] = next
            // The cursor it made works, here and in another process on the same file, and gives page 2.
            let second = page(admin, list, cursor: next)
            #expect(second["error"] == nil, "\(list.name)")
            // A page's content: its items, or an export's CSV.
            func content(_ r: JSON) -> JSON? { r["result"]?["items"] ?? r["result"]?["csv"] }
            #expect(content(second) != nil && content(second) != content(first), "\(list.name)")
            let elsewhere = TestClient(db: try Database(path: path))
            elsewhere.ok("session.login", ["email": "ada@example.com", "password": .string(adminPassword)])
            #expect(content(page(elsewhere, list, cursor: next)) == content(second), "\(list.name) in another process")
        }
        let userCursor = try #require(issued["users"])
        let userID = String(Self.text(of: userCursor).dropFirst(3))
        let forged: [String] = [
            "", "garbage!", "c1:\(userID)", "=", "YzE6", Self.cursor("c1:"), Self.cursor("hello"), Self.cursor(bytes: [0xFF, 0xFE, 0x00, 0x41]),
            Self.cursor("c1:');DROP"), Self.cursor("c1:' OR 1=1 --"), Self.cursor("c1:\u{0}"), Self.cursor("c1:usr_x"), Self.cursor("c2:\(userID)"),
            Self.cursor("c1:\(userID)\n"), Self.cursor("c1: \(userID)"), Self.cursor("c1:\(userID.lowercased())"),
            Self.cursor("c1:usr_01KDVDNA0000000000000000U1"), Self.cursor("c1:usr_01KDVDNA00000000000000001"),
            Self.cursor("c1:usr_81KDVDNA000000000000000001"), Self.cursor("c1:99999999999999999999"), Self.cursor("c1:-1"),
            Self.cursor("c1:0"), Self.cursor("c1:007"), Self.cursor("c1:+7"), Self.cursor("c1:2026-01-10|cred_01KDVDNA000000000000000001"),
            Self.cursor("c1:2026-02-30|cred_01KDVDNA000000000000000001"), Self.cursor("c1:asc|2026-01-10|x"),
            Self.cursor("c1:asc|2026-01-10|cred_01KDVDNA000000000000000001|"), Self.cursor("c1:desc|10000-01-01|cred_01KDVDNA000000000000000001"),
            userCursor + "=", userCursor + "A", String(userCursor.dropLast()), userCursor + "%3D",
            String(repeating: "A", count: 513), Self.cursor("c1:usr_" + String(repeating: "0", count: 600)),
        ]
        for list in Self.lists {
            // Every other list's cursor is foreign here too.
            let foreign = issued.filter { $0.key != list.name }.map(\.value)
            for c in forged + foreign {
                let r = page(admin, list, cursor: c)
                let e = r["error"]
                #expect(e?["code"] == -32602 && e?["data"]?["reason"] == "invalid_cursor" && e?["data"]?["fields"]?[0]?["field"] == "cursor",
                        "\(list.name) with cursor \(c) (\(Self.text(of: c).debugDescription)): \(JSONWriter.string(r))")
            }
        }
    }

    /// The method table documents the reason on every paged method, so rpc.discover shows it.
    /// Sealed cursors: a cursor of the right shape that the service did not make, one made for
    /// another database, and one whose key was edited, are all refused; the real one pages on.
    @Test func wellShapedCursorsTheServiceDidNotMakeAreRefused() throws {
        let admin = try organization(try Database(path: tempDatabasePath()))
        let other = try organization(try Database(path: tempDatabasePath()))
        let invalid = "invalid_cursor"
        for list in Self.lists {
            let first = page(admin, list, cursor: nil)
            let real = try #require(first["result"]?["nextCursor"]?.stringValue)
            let lastID = first["result"]?["items"]?[0]?["id"]?.stringValue ?? ""
            #expect(page(admin, list, cursor: real)["result"] != nil, "\(list.name)")
            let unsealed = Data(("c1:" + lastID).utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            var edited = Array(real.utf8)
            edited[edited.count - 2] = edited[edited.count - 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let elsewhere = page(other, list, cursor: nil)["result"]?["nextCursor"]?.stringValue ?? ""
            for forged in [unsealed, String(decoding: edited, as: UTF8.self), elsewhere] {
                #expect(page(admin, list, cursor: forged)["error"]?["data"]?["reason"] == .string(invalid), "\(list.name): \(forged)")
            }
        }
    }

    @Test func everyPagedMethodDocumentsInvalidCursor() throws {
        let methods = try #require(Service.openRPC["methods"]?.arrayValue)
        let paged = methods.filter { $0["params"]?.arrayValue?.contains { $0["name"] == "cursor" } == true }
        #expect(Set(paged.compactMap { $0["name"]?.stringValue }) == Set(Self.lists.map(\.method)))
        for m in paged {
            let reasons = m["errors"]?.arrayValue?.compactMap { $0["data"]?["reason"]?.stringValue } ?? []
            #expect(reasons.contains("invalid_cursor"), "\(m["name"]?.stringValue ?? "")")
        }
    }
}
