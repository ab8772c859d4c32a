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

}
