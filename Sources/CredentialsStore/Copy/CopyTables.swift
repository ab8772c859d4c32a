import CredentialsCore

/// A table as a copy sees it: its columns with their types, in the schema's order, and the key
/// its rows are read in. Both engines hold the same tables at one schema version
/// (`PostgresSchemaTests`), so the list is read off SQLite's schema, which has it all.
public struct CopyTable: Sendable {
    public enum Kind: Sendable { case integer, real, text, bytes }
    public let name: String
    public let columns: [(name: String, kind: Kind)]
    /// The primary key's columns, in key order: rows are read, and digested, in this order.
    public let key: [String]

    /// Every table of the current schema, each after the tables it refers to, so that rows can
    /// go in with the foreign keys checked. SQLite's search index (`users_fts`) is not a table
    /// of data: each engine rebuilds its own from `users.search`.
    public static func all() throws -> [CopyTable] {
        let db = try Database(path: ":memory:")
        let names = try db.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'users_fts%' ORDER BY name", map: { $0.text(0) })
        var tables: [String: CopyTable] = [:], parents: [String: Set<String>] = [:]
        for name in names {
            var columns: [(String, Kind)] = [], key: [(Int64, String)] = []
            try db.query("SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid", [name]) { r in
                let kind: Kind = switch r.text(1) {
                case "INTEGER": .integer
                case "REAL": .real
                case "BLOB": .bytes
                default: .text
                }
                columns.append((r.text(0), kind))
                if r.int(2) > 0 { key.append((r.int(2), r.text(0))) }
            }
            tables[name] = CopyTable(name: name, columns: columns, key: key.sorted { $0.0 < $1.0 }.map(\.1))
            parents[name] = Set(try db.all("SELECT \"table\" FROM pragma_foreign_key_list(?)", name, map: { $0.text(0) })).subtracting([name])
        }
        // Parents first; names in order among tables that are ready together, so the order is fixed.
        var ordered: [CopyTable] = [], placed: Set<String> = []
        while ordered.count < names.count {
            guard let next = names.first(where: { !placed.contains($0) && parents[$0]!.isSubset(of: placed) }) else {
                throw CopyError("the schema's foreign keys form a cycle")
            }
            ordered.append(tables[next]!)
            placed.insert(next)
        }
        return ordered
    }

    /// The columns, comma-separated, for SQL.
    var columnList: String { columns.map(\.name).joined(separator: ", ") }
}

/// Why a copy stopped, or what did not match; the text is for the person running it.
public struct CopyError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A digest of one table's rows, in key order, that both engines compute alike: each value is a
/// tag, its length and its bytes (integers and reals as their 8 bytes, text as UTF-8), so no two
/// different tables of rows give the same bytes; the bytes are hashed a megabyte at a time, each
/// hash chained into the next.
struct TableDigest: Equatable {
    private(set) var rows = 0
    private(set) var bytes = 0
    private var chain: [UInt8] = []
    private var pending: [UInt8] = []

    mutating func add(_ row: [SQLValue]) {
        rows += 1
        for value in row {
            switch value {
            case .null: pending.append(0)
            case .int(let n): append(1, withUnsafeBytes(of: n.bigEndian, Array.init))
            case .double(let d): append(2, withUnsafeBytes(of: d.bitPattern.bigEndian, Array.init))
            case .text(let s): append(3, Array(s.utf8))
            case .utf8(let b): append(3, b)
            case .blob(let b): append(4, b); bytes += b.count
            }
        }
        if pending.count >= 1 << 20 { flush() }
    }

    private mutating func append(_ tag: UInt8, _ value: [UInt8]) {
        pending.append(tag)
        withUnsafeBytes(of: UInt64(value.count).bigEndian) { pending += $0 }
        pending += value
    }

    private mutating func flush() {
        chain = Digest.sha256(chain + pending)
        pending.removeAll(keepingCapacity: true)
    }

    /// About how many bytes a row holds, for batching.
    static func size(of row: [SQLValue]) -> Int {
        row.reduce(0) { n, v in
            switch v {
            case .blob(let b), .utf8(let b): n + b.count
            case .text(let s): n + s.utf8.count
            default: n + 8
            }
        }
    }

    /// The digest, as hex.
    mutating func finish() -> String {
        flush()
        return chain.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
