import TestScratch
import Foundation
import Testing
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC
import MediaSamples

/// Seeded fuzzing of the whole request path (contract section 9): no input, however malformed,
/// crashes the process, gets an answer that is not a valid JSON-RPC line, or changes data when it
/// is refused. Every crash ever found becomes a vector in Protocol/conformance/.
///
/// CI runs a short seeded run. The dedicated run (release build, millions of inputs):
/// `CREDENTIALS_RPC_FUZZ_ITERATIONS=2000000 CREDENTIALS_RPC_FUZZ_SEED=1 swift test -c release --filter FuzzTests`.
struct FuzzTests {
    /// A populated organization and one valid request per method, aimed at real objects.
    struct World {
        let client: TestClient
        let corpus: [JSON]
        /// The user, type and credential the corpus aims at.
        let userID: String, typeID: String, credentialID: JSON

        init(_ db: Database? = nil) throws {
            let (admin, me) = try bootstrap(db)
            let sam = admin.addUser("sam@example.com")
            let type = admin.createType("Licence", requiresExpiration: true)
            let c = admin.addCredential(user: sam, type: type, document: "D-1", media: [Fixtures.media("a.pdf", "application/pdf", Fixtures.pdf)])
            let cid = c["id"] ?? .null
            let mid = c["latestVersion"]?["media"]?[0]?["id"] ?? .null
            let team = admin.ok("teams.create", ["name": "Crew"])["id"] ?? .null
            let token = admin.ok("tokens.create", ["name": "fuzz"])["token"]?["id"] ?? .null
            let (u, t) = (JSON.string(sam), JSON.string(type))
            let params: [String: JSON] = [
                "setup.createAdmin": ["email": "x@example.com", "firstName": "X", "lastName": "Y", "password": "Admin#9999"],
                "session.login": ["email": "ada@example.com", "password": .string(adminPassword)],
                "session.changePassword": ["currentPassword": .string(adminPassword), "newPassword": .string(adminPassword)],
                "users.add": ["email": "new@example.com", "firstName": "N", "lastName": "U", "role": "support", "permissions": ["viewReports": false], "temporaryPassword": .string(tempPassword)],
                "users.get": ["userId": u], "users.list": ["role": "support", "status": "active", "query": "sam", "limit": 5],
                "users.update": ["userId": u, "firstName": "Samuel", "permissions": ["shareReports": false]],
                "users.deactivate": ["userId": u], "users.reactivate": ["userId": u],
                "users.resetPassword": ["userId": u, "temporaryPassword": "Reset#1234"], "users.invitation": ["userId": u],
                "credentialTypes.create": ["name": "Forklift", "description": "d", "requiresExpiration": false],
                "credentialTypes.update": ["typeId": t, "description": "changed"], "credentialTypes.archive": ["typeId": t],
                "credentialTypes.list": ["includeArchived": true],
                "credentials.add": ["userId": u, "typeId": t, "issueDate": "2026-01-01", "expirationDate": "2027-01-01", "documentNumber": "N",
                                    "media": [Fixtures.media("b.png", "image/png", Fixtures.png)]],
                "credentials.addVersion": ["credentialId": cid, "issueDate": "2026-02-01", "expirationDate": "2027-02-01"],
                "credentials.editLatestVersion": ["credentialId": cid, "documentNumber": "E", "removeMediaIds": [mid]],
                "credentials.get": ["credentialId": cid, "asOf": "2026-06-01"], "credentials.getVersion": ["credentialId": cid, "version": 1],
                "credentials.list": ["userId": u, "expiryStatus": "expiring", "approvalStatus": "pending", "limit": 10],
                "credentials.history": ["credentialId": cid], "credentials.activity": ["credentialId": cid, "version": 1],
                "credentials.approve": ["credentialId": cid], "credentials.reject": ["credentialId": cid, "reason": "no"],
                "credentials.deleteMedia": ["credentialId": cid, "version": 1, "mediaIds": [mid]],
                "credentials.delete": ["credentialId": cid], "media.get": ["mediaId": mid],
                "credentials.import": ["csv": "email,credential_type,issue_date,expiration_date\nsam@example.com,Licence,2026-01-01,2027-01-01\n", "dryRun": true],
                "settings.get": [:], "settings.update": ["expiringWindowDays": 14],
                "notifications.getSettings": ["userId": u], "notifications.updateSettings": ["userId": u, "daysBefore": [10, 2]],
                "notifications.due": ["asOf": "2026-12-20", "limit": 5], "notifications.markSent": ["ids": [.string("\(cid.stringValue ?? ""):1:30")]],
                "teams.create": ["name": "Other"], "teams.list": ["limit": 5], "teams.addMember": ["teamId": team, "userId": u],
                "teams.removeMember": ["teamId": team, "userId": u], "teams.setRequiredTypes": ["teamId": team, "typeIds": [t]],
                "teams.follow": ["teamId": team], "teams.unfollow": ["teamId": team, "userId": u],
                "notifications.digest": ["days": 60, "asOf": "2026-12-20"],
                "compliance.check": ["userId": u, "asOf": "2026-06-01"], "compliance.report": ["teamId": team],
                "audit.list": ["actorId": .string(me), "since": "2026-01-01T00:00:00.000Z", "limit": 5],
                "tokens.create": ["name": "ci", "expiresInDays": 30], "tokens.list": ["userId": u, "limit": 5],
                "tokens.revoke": ["tokenId": token],
                "credentials.export": ["userId": u, "expiryStatus": "valid", "limit": 10, "asOf": "2026-06-01"],
                "compliance.export": ["teamId": team, "asOf": "2026-06-01"],
            ]
            corpus = Service.methods.map { m in
                ["jsonrpc": "2.0", "id": 1, "method": .string(m.name), "params": params[m.name] ?? [:]]
            }
            client = admin
            (userID, typeID, credentialID) = (sam, type, cid)
        }
    }

    static let strangeValues: [JSON] = [
        .null, true, false, 0, -1, .number("9223372036854775807"), .number("-9223372036854775809"), .number("1e309"),
        .number("-0"), .number("1.5"), .number("1e-400"), .number("123456789012345678901234567890"),
        "", " ", .string(String(repeating: "x", count: 100_000)), "\u{0}", "\u{FFFF}", "\u{10FFFF}", "\u{202E}evil", "é\u{301}",
        "😀", "2026-02-30", "0000-00-00", "../../etc/passwd", "'; DROP TABLE users; --", "%PDF-", "usr_", "a@b.c",
        [], [:], [[[[[[]]]]]], ["k": ["k": ["k": []]]], .array(Array(repeating: 1, count: 2000)),
        // The field rules of contract §14 and §12: invisible, reordering and control characters,
        // separators of other scripts, both forms of one address, formula cells, forged cursors,
        // dates at the ends of the range.
        "jo\u{200B}e@example.com", "jo\u{AD}e@example.com", "jose\u{301}@example.com", "SAM@EXAMPLE.COM", "a\u{202E}gpj.exe",
        "a\u{2215}b.pdf", "a\u{FF0F}b.pdf", "\u{1B}[2J", "bell\u{7}", "\u{FEFF}x", "Persian\u{200C}name", "=HYPERLINK(\"x\")",
        "\t=cmd", "'=x", "@SUM(A1)", "crpc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "crpc_", "YzE6Jyk7RFJPUA==", "YzE6", "Y", "9999-12-31", "1000-01-01", "0999-12-31", "9999-12-30",
        .string("email,credential_type,issue_date,expiration_date,document_number\nsam@example.com,Licence,2026-01-01,2027-01-01,\"\t=cmd\"\n"),
    ]

    /// Whether every text the store holds keeps the field rules, however it got there.
    static func storedTextKeepsTheRules(_ db: Database) throws -> [String] {
        var bad: [String] = []
        func check(_ sql: String, _ rule: @escaping (Unicode.Scalar) -> Bool) throws {
            try db.query(sql) { row in
                let text = row.text(0)
                if !text.unicodeScalars.allSatisfy(rule) { bad.append("\(sql): \(text.debugDescription)") }
            }
        }
        try check("SELECT email FROM users", TextRules.allowedInEmail)
        try check("SELECT first_name || last_name FROM users UNION ALL SELECT name FROM credential_types UNION ALL SELECT name FROM teams",
                  TextRules.allowedInName)
        try check("SELECT file_name FROM media", TextRules.allowedInFileName)
        try check("SELECT description FROM credential_types UNION ALL SELECT coalesce(review_reason, '') FROM credential_versions",
                  TextRules.allowedInText)
        try check("SELECT coalesce(document_number, '') FROM credential_versions", TextRules.allowedInName)
        // Keys are what NFC and case folding make of the stored address.
        try db.query("SELECT email, email_key FROM users") { row in
            if !TextRules.emailKey(row.text(0)).utf8.elementsEqual(row.text(1).utf8) { bad.append("email_key of \(row.text(0).debugDescription)") }
            if !TextRules.canonical(row.text(0)).utf8.elementsEqual(row.text(0).utf8) { bad.append("email not NFC: \(row.text(0).debugDescription)") }
        }
        return bad
    }

    /// One fuzzed input line from a valid request.
    static func mutate(_ request: JSON, _ rng: inout SplitMix64) -> [UInt8] {
        var value = request
        switch rng.next() % 10 {
        case 0, 1, 2:  // a param, at any depth, swapped for a value of another kind
            value = swapSomething(value, &rng)
        case 3:  // an unknown or missing param
            if case .object(var o) = value, case .object(var p) = o["params"] ?? [:] {
                if rng.next() % 2 == 0, let k = p.keys.randomElement(using: &rng) { p[k] = nil } else { p["extra\(rng.next() % 9)"] = 1 }
                o["params"] = .object(p)
                value = .object(o)
            }
        case 4:  // a notification, or a batch
            if case .object(var o) = value {
                if rng.next() % 2 == 0 { o["id"] = nil; value = .object(o) } else { value = .array([value, swapSomething(value, &rng), 7]) }
            }
        default: break
        }
        var bytes = JSONWriter.encode(value)
        switch rng.next() % 8 {
        case 0 where !bytes.isEmpty:  // byte flips
            for _ in 0..<(1 + rng.next() % 4) { bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
        case 1 where !bytes.isEmpty:  // truncation
            bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
        case 2:  // raw bytes that are not UTF-8, or a BOM, or NUL, inserted
            let junk: [[UInt8]] = [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xEF, 0xBB, 0xBF], [0x00], [0xF4, 0x90, 0x80, 0x80], [0x0D]]
            let at = Int(rng.next() % UInt64(bytes.count + 1))
            bytes.insert(contentsOf: junk[Int(rng.next() % UInt64(junk.count))], at: at)
        case 3:  // a duplicate key
            if let brace = bytes.firstIndex(of: UInt8(ascii: "{")) { bytes.insert(contentsOf: Array(#""id":2,"method":"x","#.utf8), at: brace + 1) }
        case 4:  // deep nesting
            let depth = 100 + Int(rng.next() % 100)
            bytes = Array(String(repeating: "[", count: depth).utf8) + bytes + Array(String(repeating: "]", count: depth).utf8)
        default: break
        }
        // A line never holds a raw LF: the transport would split it.
        return bytes.map { $0 == 0x0A ? 0x20 : $0 }
    }

    static func swapSomething(_ v: JSON, _ rng: inout SplitMix64) -> JSON {
        switch v {
        case .object(var o) where !o.isEmpty && rng.next() % 4 != 0:
            let k = o.keys[Int(rng.next() % UInt64(o.count))]
            o[k] = swapSomething(o[k]!, &rng)
            return .object(o)
        case .array(var a) where !a.isEmpty && rng.next() % 4 != 0:
            let i = Int(rng.next() % UInt64(a.count))
            a[i] = swapSomething(a[i], &rng)
            return .array(a)
        default:
            return strangeValues[Int(rng.next() % UInt64(strangeValues.count))]
        }
    }

    /// A valid JSON-RPC 2.0 response (or array of them), or the reason it is not.
    static func check(_ line: [UInt8]) -> String? {
        guard let v = try? JSONParser.parse(line).value else { return "not JSON" }
        let items: [JSON]
        if case .array(let a) = v { guard !a.isEmpty else { return "empty array" }; items = a } else { items = [v] }
        for r in items {
            guard case .object(let o) = r else { return "not an object" }
            guard Set(o.keys).isSubset(of: ["jsonrpc", "id", "result", "error"]), o["jsonrpc"] == "2.0", o["id"] != nil else { return "bad envelope" }
            guard (o["result"] == nil) != (o["error"] == nil) else { return "not exactly one of result and error" }
            if let e = o["error"] {
                guard e["code"]?.intValue != nil, e["message"]?.stringValue != nil, e["data"]?["reason"]?.stringValue != nil else { return "bad error object" }
            }
        }
        return nil
    }

    @Test func inProcess() throws {
        try Self.fuzz(iterations: environmentInt("CREDENTIALS_RPC_FUZZ_ITERATIONS", default: 6000), label: "fuzz run") { (try World(), nil) }
    }

    /// The same on PostgreSQL, each organization in a database of its own; shorter in CI
    /// (`CREDENTIALS_RPC_FUZZ_ITERATIONS_POSTGRES` for the long run).
    @Test(.enabled(if: TestPostgres.runs, TestPostgres.skip)) func inProcessOnPostgres() throws {
        try Self.fuzz(iterations: environmentInt("CREDENTIALS_RPC_FUZZ_ITERATIONS_POSTGRES", default: 1200), label: "fuzz run on PostgreSQL") {
            let scratch = try ScratchPostgresDatabase()
            return (try World(Database(postgres: ConnectionString(scratch.uri))), scratch)
        }
    }

    /// Mutated requests against a new organization (`newWorld`, with what keeps its database
    /// alive) every 400: every answer well formed, every refusal changes nothing.
    static func fuzz(iterations: Int, label: String, newWorld: () throws -> (World, AnyObject?)) throws {
        var rng = SplitMix64(seed: UInt64(environmentInt("CREDENTIALS_RPC_FUZZ_SEED", default: 20261122)))
        var (world, keep) = try newWorld()
        var answered = 0, refused = 0
        for i in 0..<iterations {
            if i % 400 == 399 {  // a fresh organization now and then, so state drift does not narrow the search
                for problem in try Self.storedTextKeepsTheRules(world.client.service.db) { Issue.record("stored against the rules: \(problem)") }
                (world, keep) = try newWorld()
            }
            let request = world.corpus[Int(rng.next() % UInt64(world.corpus.count))]
            let line = Self.mutate(request, &rng)
            let db = world.client.service.db
            let before = db.totalChanges
            let out = world.client.server.handle(line: line)
            guard let out else {
                // Only a notification (or a batch of them) may go unanswered.
                let parsed = try? JSONParser.parse(line).value
                let ok: Bool
                switch parsed {
                case .object(let o)?: ok = o["id"] == nil && o["jsonrpc"] == "2.0" && o["method"]?.stringValue != nil
                case .array(let a)?: ok = !a.isEmpty && a.allSatisfy { $0.objectValue.map { $0["id"] == nil } ?? false }
                default: ok = false
                }
                #expect(ok, "no answer to \(String(decoding: line.prefix(300), as: UTF8.self))")
                continue
            }
            answered += 1
            if let problem = Self.check(out) {
                Issue.record("\(problem): \(String(decoding: out.prefix(300), as: UTF8.self)) for \(String(decoding: line.prefix(300), as: UTF8.self))")
            }
            // A refused single request changes nothing (sign-in failures record themselves, by design).
            if let r = try? JSONParser.parse(out).value, r["error"] != nil, case .object(let o)? = try? JSONParser.parse(line).value,
               let m = o["method"]?.stringValue, m != "session.login", m != "session.changePassword" {
                refused += 1
                #expect(db.totalChanges == before, "\(m) was refused but changed data: \(String(decoding: line.prefix(300), as: UTF8.self))")
            }
        }
        #expect(answered > iterations / 2)
        #expect(refused > iterations / 10)
        withExtendedLifetime(keep) {}
        FileHandle.standardError.write(Data("\(label): \(iterations) inputs, \(answered) answered, \(refused) refused with nothing changed\n".utf8))
    }

    /// Media that must be refused, each with the reason and the field (after `media[i].`) that
    /// must say so: a file cut short, with bytes after its end, only its signature, a PNG with a
    /// flipped bit; lenient base64; a name that does not fit; a type outside the four.
    static func hostileMedia(_ rng: inout SplitMix64) -> (media: JSON, reason: String, field: String) {
        let samples: [(String, String, [UInt8])] = [("a.pdf", "application/pdf", Fixtures.pdf), ("a.png", "image/png", Fixtures.png),
                                                    ("a.jpg", "image/jpeg", Fixtures.jpeg), ("a.heic", "image/heic", Fixtures.heic)]
        let (name, type, file) = samples[Int(rng.next() % 4)]
        let junk = Array("<script>alert(1)</script>".utf8) + (0..<Int(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        var bytes = file
        switch rng.next() % 7 {
        case 0:  // cut short, above the last 12 bytes (a HEIC without its mdat, a PDF without its last LF, are whole)
            bytes = Array(file.prefix(1 + Int(rng.next() % UInt64(file.count - 13))))
        case 1: bytes = file + junk
        case 2: bytes = Array(file.prefix(8)) + junk
        case 3:
            bytes = Fixtures.png
            let bit = Int(rng.next() % UInt64(bytes.count * 8))
            bytes[bit / 8] ^= 1 << UInt8(bit % 8)
            return (Fixtures.media("a.png", "image/png", bytes), "unsupported_media", "dataBase64")
        case 4:
            var text = Data(file).base64EncodedString()
            switch rng.next() % 3 {
            case 0 where text.hasSuffix("="):  // a bit set after the last byte
                var u = Array(text.utf8)
                let last = u.lastIndex { $0 != UInt8(ascii: "=") }!
                let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
                u[last] = alphabet[alphabet.firstIndex(of: u[last])! | 1]
                text = String(decoding: u, as: UTF8.self)
            case 1:  // a line break or space somewhere
                let at = text.index(text.startIndex, offsetBy: Int(rng.next() % UInt64(text.count)))
                text.insert(rng.next() % 2 == 0 ? "\n" : " ", at: at)
            default: text += "===="
            }
            return (["fileName": .string(name), "contentType": .string(type), "dataBase64": .string(text)], "invalid_params", "dataBase64")
        case 5:
            let other = ["x.html", "x.svg", "x.js", "x.exe", "x.", "x.pdf.html"][Int(rng.next() % 6)]
            return (Fixtures.media(other, type, file), "unsupported_media", "fileName")
        default:
            let other = ["text/html", "image/svg+xml", "image/gif", "application/octet-stream", "image/jpg"][Int(rng.next() % 5)]
            return (Fixtures.media(name, other, file), "unsupported_media", "contentType")
        }
        return (Fixtures.media(name, type, bytes), "unsupported_media", "dataBase64")
    }

    /// Hostile media among valid files, in every method that takes media: each refused with the
    /// reason and field it deserves, and nothing stored.
    @Test func hostileMediaIsRefusedAndNothingStored() throws {
        let iterations = environmentInt("CREDENTIALS_RPC_FUZZ_ITERATIONS", default: 6000) / 10
        var rng = SplitMix64(seed: UInt64(environmentInt("CREDENTIALS_RPC_FUZZ_SEED", default: 20261122)) &+ 3)
        let world = try World()
        let db = world.client.service.db
        let stored = try db.scalarInt("SELECT count(*) FROM media")
        for _ in 0..<iterations {
            let (bad, reason, field) = Self.hostileMedia(&rng)
            var media = (0..<Int(rng.next() % 3)).map { _ in Fixtures.media("ok.png", "image/png", Fixtures.png) }
            let index = Int(rng.next() % UInt64(media.count + 1))
            media.insert(bad, at: index)
            let (method, params): (String, JSON) = switch rng.next() % 3 {
            case 0: ("credentials.add", ["userId": .string(world.userID), "typeId": .string(world.typeID), "issueDate": "2026-01-01",
                                         "expirationDate": "2027-01-01", "media": .array(media)])
            case 1: ("credentials.addVersion", ["credentialId": world.credentialID, "issueDate": "2026-01-01", "expirationDate": "2027-01-01",
                                                "media": .array(media)])
            default: ("credentials.editLatestVersion", ["credentialId": world.credentialID, "addMedia": .array(media)])
            }
            let before = db.totalChanges
            let e = world.client.call(method, params)["error"]
            let key = method == "credentials.editLatestVersion" ? "addMedia" : "media"
            #expect(e?["code"] == -32602)
            #expect(e?["data"]?["reason"] == .string(reason), "\(method) \(JSONWriter.string(bad).prefix(300))")
            #expect(e?["data"]?["fields"]?.arrayValue?.compactMap { $0["field"]?.stringValue } == ["\(key)[\(index)].\(field)"],
                    "\(JSONWriter.string(bad).prefix(300))")
            #expect(db.totalChanges == before)
        }
        #expect(try db.scalarInt("SELECT count(*) FROM media") == stored)
    }

    /// The same inputs through the real executable: it stays up, every line it writes is a valid
    /// response, and a sentinel request after each fuzzed one is answered correctly.
    @Test func overPipes() throws {
        var rng = SplitMix64(seed: UInt64(environmentInt("CREDENTIALS_RPC_FUZZ_SEED", default: 20261122)) &+ 1)
        let world = try World()
        var input: [UInt8] = []
        let sentinels = 400
        for i in 0..<sentinels {
            input += Self.mutate(world.corpus[Int(rng.next() % UInt64(world.corpus.count))], &rng) + [0x0A]
            input += Array(#"{"jsonrpc":"2.0","id":"sentinel-\#(i)","method":"rpc.discover","params":{}}"#.utf8) + [0x0A]
        }
        input += Array(String(repeating: "z", count: 3 << 20).utf8) + [0x0A]  // over a 2 MiB limit
        input += Array(#"{"jsonrpc":"2.0","id":"last","method":"service.info"}"#.utf8)
        let r = try runService(["--db", tempDatabasePath(), "--max-message-bytes", String(2 << 20)], input: input)
        #expect(r.status == 0)
        var seen = 0
        for line in r.lines {
            if let problem = Self.check(line) { Issue.record("\(problem): \(String(decoding: line.prefix(200), as: UTF8.self))") }
            if let v = try? JSONParser.parse(line).value, v["id"]?.stringValue?.hasPrefix("sentinel-") == true {
                #expect(v["result"]?["openrpc"] == "1.3.2")
                seen += 1
            }
        }
        #expect(seen == sentinels)
        #expect(r.lines.last.flatMap { try? JSONParser.parse($0).value["id"] } == "last")
    }

    /// The same through Content-Length framing: mutated bodies in honest frames, header blocks
    /// without a usable length, an oversize body; every sentinel is answered, every answer is one
    /// well-formed frame, and a message cut off at the end is answered too.
    @Test func framedOverPipes() throws {
        var rng = SplitMix64(seed: UInt64(environmentInt("CREDENTIALS_RPC_FUZZ_SEED", default: 20261122)) &+ 2)
        let world = try World()
        func frame(_ body: [UInt8]) -> [UInt8] { Array("Content-Length: \(body.count)\r\n\r\n".utf8) + body }
        let junkHeaders = ["Content-Length: x\r\n\r\n", "Content-Type: a\r\n\r\n", "Content-Length: 1\r\nContent-Length: 1\r\n\r\n",
                           "no colon here\r\n\r\n", "Content-Length: 99999999999999999999\r\n\r\n"]
        var input: [UInt8] = []
        let sentinels = 300
        for i in 0..<sentinels {
            input += frame(Self.mutate(world.corpus[Int(rng.next() % UInt64(world.corpus.count))], &rng))
            if i % 10 == 0 { input += Array(junkHeaders[Int(rng.next() % UInt64(junkHeaders.count))].utf8) }
            input += frame(Array(#"{"jsonrpc":"2.0","id":"sentinel-\#(i)","method":"rpc.discover","params":{}}"#.utf8))
        }
        input += frame(Array(String(repeating: "z", count: 3 << 20).utf8))  // over a 2 MiB limit
        input += frame(Array(#"{"jsonrpc":"2.0","id":"last","method":"service.info"}"#.utf8))
        input += Array("Content-Length: 40\r\n\r\n{\"jsonrpc\"".utf8)  // cut off
        let r = try runService(["--db", tempDatabasePath(), "--max-message-bytes", String(2 << 20)], input: input)
        #expect(r.status == 0)
        // Split the output into frames, checking each header.
        var bodies: [[UInt8]] = []
        var rest = r.stdout[...]
        let separator = Array("\r\n\r\n".utf8)
        while !rest.isEmpty {
            guard let end = rest.indices.first(where: { rest[$0...].starts(with: separator) }),
                  let length = Int(String(decoding: rest[rest.startIndex..<end], as: UTF8.self).dropFirst("Content-Length: ".count)),
                  String(decoding: rest[rest.startIndex..<end], as: UTF8.self).hasPrefix("Content-Length: "),
                  end + 4 + length <= rest.endIndex else {
                Issue.record("a malformed frame at byte \(rest.startIndex)")
                return
            }
            bodies.append(Array(rest[(end + 4)..<(end + 4 + length)]))
            rest = rest[(end + 4 + length)...]
        }
        var seen = 0
        for body in bodies {
            if let problem = Self.check(body) { Issue.record("\(problem): \(String(decoding: body.prefix(200), as: UTF8.self))") }
            if let v = try? JSONParser.parse(body).value, v["id"]?.stringValue?.hasPrefix("sentinel-") == true {
                #expect(v["result"]?["openrpc"] == "1.3.2")
                seen += 1
            }
        }
        #expect(seen == sentinels)
        let tail = bodies.suffix(2).compactMap { try? JSONParser.parse($0).value }
        #expect(tail.first?["id"] == "last")
        #expect(tail.last?["error"]?["data"]?["reason"] == "invalid_frame")
        #expect(bodies.contains { (try? JSONParser.parse($0).value)?["error"]?["data"]?["reason"] == "message_too_large" })
    }
}
