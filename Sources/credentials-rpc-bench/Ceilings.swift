import Foundation

/// The reference programs the service is measured against. The bench runs itself in these modes
/// so that a ceiling is a real process on the same pipes, started the same way.
enum Ceilings {
    /// The read and round-trip ceiling: the strongest echo Foundation allows, written as a user
    /// would write it for speed. `read(2)` into one buffer; each line, a small request, parsed
    /// with JSONSerialization for its id; the answer pre-encoded, `answerBytes` long like the
    /// measured method's, written under that id; every answer of a read in one `write(2)`.
    static func strongEcho(answerBytes: Int) -> Never {
        let head = Array(#"{"jsonrpc":"2.0","id":"#.utf8), middle = Array(#","result":""#.utf8), tail = Array("\"}\n".utf8)
        let filler = [UInt8](repeating: UInt8(ascii: "x"), count: max(1, answerBytes - head.count - middle.count - tail.count - 6))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var pending: [UInt8] = [], out: [UInt8] = []
        while true {
            let n = read(0, &chunk, chunk.count)
            if n <= 0 { break }
            pending.append(contentsOf: chunk[0..<n])
            var start = 0
            while let nl = pending[start...].firstIndex(of: 0x0A) {
                let line = Data(pending[start..<nl])
                start = nl + 1
                guard let request = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else { continue }
                out += head
                switch request["id"] {
                case let n as Int: out += Array(String(n).utf8)
                case let s as String: out += Array(((try? JSONSerialization.data(withJSONObject: s, options: .fragmentsAllowed)) ?? Data("null".utf8)))
                default: out += Array("null".utf8)
                }
                out += middle
                out += filler
                out += tail
            }
            pending.removeFirst(start)
            var off = 0
            while off < out.count {
                let w = out.withUnsafeBytes { write(1, $0.baseAddress! + off, out.count - off) }
                if w <= 0 { exit(0) }
                off += w
            }
            out.removeAll(keepingCapacity: true)
        }
        exit(0)
    }

    /// A bare Foundation JSON echo that re-encodes: parse each line with JSONSerialization, answer
    /// its params as the result through `JSONSerialization.data`, one line each. Kept as a row
    /// without a target: the ceiling the benchmark used first, far below the strong echo.
    static func echo() -> Never {
        let input = FileHandle.standardInput
        let output = FileHandle.standardOutput
        var pending = Data()
        var out = Data()
        while true {
            let chunk = input.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let nl = pending.firstIndex(of: 0x0A) {
                let line = pending[pending.startIndex..<nl]
                pending.removeSubrange(pending.startIndex...nl)
                guard let obj = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else { continue }
                let response: [String: Any] = ["jsonrpc": "2.0", "id": obj["id"] ?? NSNull(), "result": obj["params"] ?? NSNull()]
                if let data = try? JSONSerialization.data(withJSONObject: response) { out.append(data); out.append(0x0A) }
            }
            if !out.isEmpty { output.write(out); out.removeAll(keepingCapacity: true) }
        }
        exit(0)
    }

    /// Bare pipe ping-pong: every line straight back, no parsing.
    static func pingPong() -> Never {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(0, &buffer, buffer.count)
            if n <= 0 { break }
            var off = 0
            while off < n {
                let w = buffer.withUnsafeBytes { write(1, $0.baseAddress! + off, n - off) }
                if w <= 0 { exit(0) }
                off += w
            }
        }
        exit(0)
    }

    /// The smallest Foundation program that answers one line: the start-up ceiling.
    static func minimal() -> Never {
        let line = Swift.readLine() ?? ""
        FileHandle.standardOutput.write(Data((#"{"jsonrpc":"2.0","id":1,"result":{"echo":\#(line.count)}}"# + "\n").utf8))
        exit(0)
    }
}
