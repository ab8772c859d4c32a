import Foundation

/// The reference programs the service is measured against. The bench runs itself in these modes
/// so that a ceiling is a real process on the same pipes, started the same way.
enum Ceilings {
    /// A bare Foundation JSON echo: parse each line with JSONSerialization, answer its params as the
    /// result, one line each. What a user would write instead of the service.
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
