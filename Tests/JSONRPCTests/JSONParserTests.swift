import Testing
@testable import JSONRPC

struct JSONParserTests {
    @Test("valid JSON parses to the expected value", arguments: [
        ("null", JSON.null), ("true", .bool(true)), ("false", .bool(false)),
        ("0", .number("0")), ("-0", .number("-0")), ("1.50", .number("1.50")), ("1e3", .number("1e3")),
        ("12345678901234567890", .number("12345678901234567890")), ("-1.5E-7", .number("-1.5E-7")),
        (#""a\u0041\n\/""#, .string("aA\n/")), (#""\ud83d\ude00""#, .string("😀")), ("\"é😀\"", .string("é😀")),
        (" [1, [] ,{}] ", .array([.number("1"), .array([]), .object(JSONObject())])),
        (#"{"b":1,"a":[true]}"#, ["b": 1, "a": [true]]),
    ] as [(String, JSON)])
    func parsesValid(text: String, expected: JSON) throws {
        #expect(try JSONParser.parseValue(text) == expected)
    }

    @Test("not JSON by RFC 8259 is a parse error with a reason", arguments: [
        ("{\"a\":1,}", "parse_error"),              // trailing comma in an object
        ("[1,2,]", "parse_error"),                  // trailing comma in an array
        ("{'a':1}", "parse_error"),                 // single quotes
        ("NaN", "parse_error"), ("Infinity", "parse_error"), ("-Infinity", "parse_error"),
        ("01", "parse_error"), ("1.", "parse_error"), (".5", "parse_error"), ("+1", "parse_error"), ("1e", "parse_error"),
        ("{} {}", "parse_error"),                   // two values on one line
        ("[1] // note", "parse_error"),             // comments
        ("\"tab\there\"", "parse_error"),           // raw control character in a string
        (#""\x41""#, "parse_error"),                // unknown escape
        ("", "parse_error"), ("[", "parse_error"), ("{\"a\"", "parse_error"), ("tru", "parse_error"),
        ("{\"a\":1,\"a\":2}", "duplicate_key"),
        (#""\ud800""#, "invalid_string"), (#""\udc00x""#, "invalid_string"), (#""\ud800\u0041""#, "invalid_string"),
    ] as [(String, String)])
    func rejectsInvalid(text: String, reason: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parseValue(text) }
        do { _ = try JSONParser.parseValue(text) } catch { #expect(error.reason == reason) }
    }

    @Test("bytes that are not UTF-8 are refused, never replaced", arguments: [
        [0x22, 0xC0, 0x80, 0x22],             // overlong NUL
        [0x22, 0xED, 0xA0, 0x80, 0x22],       // an encoded surrogate
        [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], // past U+10FFFF
        [0x22, 0xE2, 0x82, 0x22],             // truncated sequence
        [0x22, 0xFF, 0x22],
        [0x22, 0x80, 0x22],                   // lone continuation byte
    ] as [[UInt8]])
    func rejectsInvalidUTF8(bytes: [UInt8]) {
        do {
            _ = try JSONParser.parse(bytes)
            Issue.record("parsed invalid UTF-8")
        } catch {
            #expect(error.reason == "invalid_utf8")
        }
    }

    @Test func rejectsBOMAndUTF16() {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("{}".utf8)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(bom) }
        let utf16: [UInt8] = [0xFF, 0xFE, 0x7B, 0x00, 0x7D, 0x00]
        #expect(throws: JSONParseError.self) { try JSONParser.parse(utf16) }
        let utf16NoBOM: [UInt8] = [0x7B, 0x00, 0x7D, 0x00]
        #expect(throws: JSONParseError.self) { try JSONParser.parse(utf16NoBOM) }
    }

    @Test func nestingIsBounded() throws {
        let ok = String(repeating: "[", count: JSONParser.maxDepth) + String(repeating: "]", count: JSONParser.maxDepth)
        #expect(try JSONParser.parseValue(ok) != .null)
        let deep = String(repeating: "[", count: JSONParser.maxDepth + 1) + String(repeating: "]", count: JSONParser.maxDepth + 1)
        do { _ = try JSONParser.parseValue(deep); Issue.record("too deep accepted") } catch { #expect(error.reason == "nesting_too_deep") }
        // Far deeper input must not overflow the stack: the limit stops the descent.
        let huge = String(repeating: "{\"a\":", count: 200_000)
        do { _ = try JSONParser.parseValue(huge); Issue.record("accepted") } catch { #expect(error.reason == "nesting_too_deep") }
    }

    @Test func duplicateKeysAreFoundInLargeObjects() {
        var members = (0..<40).map { "\"k\($0)\":\($0)" }
        members.append("\"k7\":0")
        do { _ = try JSONParser.parseValue("{" + members.joined(separator: ",") + "}"); Issue.record("accepted") } catch {
            #expect(error.reason == "duplicate_key")
        }
    }

    @Test func recordsRawIDsOfRequests() throws {
        let doc = try JSONParser.parse(Array(#"{"id":1.50,"params":{"id":"inner"}}"#.utf8))
        #expect(doc.rawIDs[-1] == "1.50" && doc.rawIDs[0] == nil)
        let batch = try JSONParser.parse(Array(#"[{"id":"\u0041"},{"x":{"id":2}},{"id":1e2}]"#.utf8))
        #expect(batch.rawIDs[0] == #""\u0041""# && batch.rawIDs[1] == nil && batch.rawIDs[2] == "1e2" && batch.rawIDs[-1] == nil)
    }

    @Test func writerRoundTripsAndStaysOnOneLine() throws {
        let value: JSON = ["s": "line\nbreak \"q\" \\ \u{01} é 😀", "n": .number("-1.5e10"), "a": [nil, true, 0]]
        let text = JSONWriter.string(value)
        #expect(!text.contains("\n"))
        #expect(text.contains(#"\u0001"#))
        #expect(try JSONParser.parseValue(text) == value)
        #expect(try JSONParser.parseValue(JSONWriter.pretty(value)) == value)
    }

    /// The word-at-a-time scan finds what the byte rule finds: every byte value at every offset
    /// of strings of 1 to 24 bytes, among bytes that need no escape (ASCII and UTF-8 both).
    @Test func escapeScanAgreesWithTheByteRule() {
        for filler in [UInt8(ascii: "a"), 0xC3, 0x80, 0xFF, 0x21, 0x5D] {
            for length in 1...24 {
                for at in 0..<length {
                    for b in 0...255 {
                        var bytes = [UInt8](repeating: filler, count: length)
                        bytes[at] = UInt8(b)
                        let expected = bytes.firstIndex(where: JSONWriter.needsEscape)
                        let found = bytes.withUnsafeBufferPointer { JSONWriter.firstEscape(in: $0) }
                        if found != expected { Issue.record("byte \(b) at \(at) of \(length) among \(filler): \(String(describing: found))"); return }
                    }
                }
            }
        }
        let writer = ByteWriter(capacity: 16)
        writer.appendString("an id with a \" in its 17th byte")
        #expect(String(decoding: writer.bytes(0..<writer.count), as: UTF8.self) == #""an id with a \" in its 17th byte""#)
    }

    @Test func objectEqualityIgnoresOrderButNotValues() {
        let a: JSON = ["x": 1, "y": 2]
        let b: JSON = ["y": 2, "x": 1]
        #expect(a == b)
        #expect(a != ["x": 1, "y": 3])
        #expect(JSON.number("1.5") != JSON.number("1.50"))
    }
}
