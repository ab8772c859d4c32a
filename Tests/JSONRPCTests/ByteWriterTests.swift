import Foundation
import Testing
@testable import JSONRPC

struct ByteWriterTests {
    @Test func appendsGrowPastTheFirstCapacityAndKeepEveryByte() {
        let w = ByteWriter(capacity: 1)
        var expected: [UInt8] = []
        for i in 0..<5000 {
            let piece = Array("piece \(i);".utf8)
            if i % 3 == 0 { w.append(UInt8(i % 256)); expected.append(UInt8(i % 256)) }
            w.append(piece)
            expected += piece
        }
        w.append(",\"k\":")
        expected += Array(",\"k\":".utf8)
        #expect(w.count == expected.count)
        #expect(w.array == expected)
        #expect(Array(w.bytes(3..<10)) == Array(expected[3..<10]))
    }

    @Test("strings are written as JSONWriter writes them", arguments: [
        "", "plain", "quote \" and backslash \\", "tab\tnew\nline\r", "\u{01}\u{1F}", "é Ω 😀", String(repeating: "x", count: 10_000),
    ])
    func stringsMatchJSONWriter(_ s: String) throws {
        let w = ByteWriter(capacity: 2)
        w.append("[")
        w.appendString(s)
        w.append("]")
        #expect(w.array == JSONWriter.encode(.array([.string(s)])))
        #expect(try JSONParser.parseValue(String(decoding: w.array, as: UTF8.self)) == .array([.string(s)]))
    }

    @Test func precedesIsByteOrderThenShorterFirst() {
        let w = ByteWriter()
        var ranges: [String: Range<Int>] = [:]
        for s in ["b", "a", "ab", "", "B", "é", "z"] {
            let start = w.count
            w.append(Array(s.utf8))
            ranges[s] = start..<w.count
        }
        let sorted = ranges.keys.sorted { w.precedes(ranges[$0]!, ranges[$1]!) }
        #expect(sorted == ["", "B", "a", "ab", "b", "z", "é"])
        #expect(!w.precedes(ranges["a"]!, ranges["a"]!))
    }


    @Test("integers are written as Swift prints them", arguments: [0, 7, 9, 10, -1, -10, 1234567890, Int.max, Int.min])
    func decimals(_ n: Int) {
        let w = ByteWriter(capacity: 1)
        w.append(decimal: n)
        #expect(w.array == Array(String(n).utf8))
    }

    @Test func quotedBytesAreFilledInPlace() {
        let w = ByteWriter(capacity: 3)
        w.append("x")
        w.appendQuoted(count: 5) { buf in for i in buf.indices { buf[i] = UInt8(ascii: "a") + UInt8(i) } }
        #expect(String(decoding: w.array, as: UTF8.self) == #"x"abcde""#)
    }

    @Test func objectsNestInOneWriterAndMatchTheTreeEncoder() throws {
        let w = ByteWriter(capacity: 8)
        w.append("[")
        var o = JSONObjectBytes(into: w)
        o.add("s", "a\"b")
        o.add("n", nil)
        o.add("i", int: -42)
        o.add("j", json: ["k": [1, "two", .null]])
        o.add("e", encoded: Array("true".utf8))
        o.add("nested") { out in
            var inner = JSONObjectBytes(into: out)
            inner.add("x", int: 1)
            inner.close()
        }
        o.close()
        w.append(",")
        JSONObjectBytes(into: w).close()  // an empty object
        w.append("]")
        let expected: JSON = [["s": "a\"b", "n": .null, "i": -42, "j": ["k": [1, "two", .null]], "e": true, "nested": ["x": 1]], [:]]
        #expect(w.array == JSONWriter.encode(expected))
        var own = JSONObjectBytes()
        own.add("a", int: 1)
        #expect(own.closed() == Array(#"{"a":1}"#.utf8))
    }
}
