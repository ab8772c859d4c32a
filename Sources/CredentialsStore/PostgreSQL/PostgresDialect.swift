/// Where PostgreSQL's SQL and wire forms differ from SQLite's, for the statements the stores share.
enum PostgresDialect {
    /// A statement the stores write for both engines, as PostgreSQL reads it. What the stores
    /// write for SQLite's planner, which has no statistics, is dropped, since PostgreSQL's has:
    /// index hints (`INDEXED BY name`), the unary `+` that keeps a column off its index
    /// (`+c.user_id`: PostgreSQL has no `+` for text), and `CROSS JOIN ... ON`, SQLite's way to
    /// fix the join order, which is PostgreSQL's `JOIN ... ON`. Parameters are numbered later, by
    /// `PostgresConnection.run`. It rewrites text, not a parse: it is for the stores' own SQL,
    /// which holds no such words inside a literal and binds every value as a parameter.
    static func forPostgres(_ sql: String) -> String {
        var s = sql
        if s.contains("INDEXED BY") {
            var out = "", rest = Substring(s)
            while let r = rest.firstRange(of: "INDEXED BY ") {
                out += rest[..<r.lowerBound]
                rest = rest[r.upperBound...].drop { $0 == "_" || $0.isLetter || $0.isNumber }.drop { $0 == " " }
            }
            s = out + rest
        }
        if s.contains("CROSS JOIN") { s = s.replacingAll("CROSS JOIN", with: "JOIN") }
        if s.contains("+") {
            // A `+` right before a name, after a space or a parenthesis, is the unary one.
            var out: [Character] = [], previous: Character = " "
            let chars = Array(s)
            for (i, c) in chars.enumerated() {
                if c == "+", previous == " " || previous == "(", i + 1 < chars.count, chars[i + 1].isLetter || chars[i + 1] == "_" {
                    previous = c
                    continue
                }
                out.append(c)
                previous = c
            }
            s = String(out)
        }
        return s
    }

    /// Whether a statement's best plan depends on its parameters' values, so that it is planned
    /// with them at every run instead of prepared: a `LIKE` pattern. Prepared, PostgreSQL settles
    /// after five runs on a generic plan that cannot know how selective the pattern is, and users'
    /// search for one of 100,000 users walked the whole table in id order (56-84 ms against 1.3
    /// ms on SQLite) instead of asking the trigram index.
    static func plansByValue(_ sql: String) -> Bool { sql.contains(" LIKE ") }

    /// Whether a statement is to be planned once for every value (it starts with
    /// `Database.planOnce`): run with `plan_cache_mode = force_generic_plan`. Left to itself,
    /// PostgreSQL keeps planning such a statement by value when its generic plan's estimate
    /// looks worse than the plans by value, and reminder candidates, five subqueries deep, took
    /// 1.3-1.6 ms to plan and 1.0-1.3 ms to run, every time.
    static func plansOnce(_ sql: String) -> Bool { sql.hasPrefix(Database.planOnce) }

    /// The table an `INSERT [OR ...] INTO t`, `UPDATE t` or `DELETE FROM t` changes, as its
    /// NUL-terminated name (what `ChangeObserver` is told); nil for any other statement, which
    /// the engine takes as one that may have changed any table.
    static func changedTable(_ sql: String) -> [CChar]? {
        var words = sql.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "(" }).makeIterator()
        var table: Substring?
        switch words.next()?.uppercased() {
        case "INSERT":
            var word = words.next()
            if word?.uppercased() == "OR" { _ = words.next(); word = words.next() }
            if word?.uppercased() == "INTO" { table = words.next() }
        case "UPDATE": table = words.next()
        case "DELETE": if words.next()?.uppercased() == "FROM" { table = words.next() }
        default: break
        }
        guard let table, table.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }) else { return nil }
        return Array(String(table).utf8CString)
    }

    /// SQLite's `?` parameters as PostgreSQL's `$1`, `$2`, ...: a `?` inside a quoted string, a
    /// quoted name or a comment is left alone. `?NNN` is parameter NNN, and a bare `?` after it
    /// the next one up, as SQLite numbers them.
    static func numberedParameters(_ sql: String) -> String {
        let bytes = Array(sql.utf8)
        guard bytes.contains(UInt8(ascii: "?")) else { return sql }
        var out: [UInt8] = [], n = 0, i = 0
        out.reserveCapacity(bytes.count + 16)
        func copy(until end: Int) {
            out += bytes[i..<min(end, bytes.count)]
            i = min(end, bytes.count)
        }
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                // A doubled quote inside is an escaped one: scanning on to the next quote and
                // starting again there treats both halves right.
                let close = bytes[(i + 1)...].firstIndex(of: b).map { $0 + 1 } ?? bytes.count
                copy(until: close)
            case UInt8(ascii: "-") where i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "-"):
                copy(until: bytes[i...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count)
            case UInt8(ascii: "/") where i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "*"):
                var end = i + 2
                while end + 1 < bytes.count && !(bytes[end] == UInt8(ascii: "*") && bytes[end + 1] == UInt8(ascii: "/")) { end += 1 }
                copy(until: end + 2)
            case UInt8(ascii: "?"):
                var end = i + 1, number = 0
                while end < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[end]), number < 100_000 {
                    number = number * 10 + Int(bytes[end] - UInt8(ascii: "0"))
                    end += 1
                }
                n = end > i + 1 ? max(n, number) : n + 1
                out += Array("$\(end > i + 1 ? number : n)".utf8)
                i = end
            default:
                out.append(b)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of a `bytea` in PostgreSQL's hex output (`\x` then two hex digits a byte), or nil
    /// for anything else.
    static func byteaHex(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard text.count >= 2, text.count % 2 == 0, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x") else { return nil }
        var out = [UInt8](), i = 2
        out.reserveCapacity(text.count / 2 - 1)
        while i < text.count {
            guard let h = hexDigit(text[i]), let l = hexDigit(text[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        return out
    }

    /// The value of one hex digit, either case.
    static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
