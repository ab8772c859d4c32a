import CSQLite

/// A value bound to or read from SQL.
public enum SQLValue: Equatable, Sendable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])
    /// Text given as its UTF-8 bytes (JSON the service encoded): bound as TEXT without first
    /// making, and validating, a String.
    case utf8([UInt8])
}

extension SQLValue {
    /// Optional text as a value: NULL when nil. Statements that run for every write pass their
    /// optionals through this, not as `Optional`, whose generic conformance copies and destroys
    /// each one through the runtime's value witnesses (about 700 instructions an argument).
    public static func optional(_ text: String?) -> SQLValue { text.map(SQLValue.text) ?? .null }
    public static func optional(_ n: Int64?) -> SQLValue { n.map(SQLValue.int) ?? .null }
}

public protocol SQLBindable {
    var sqlValue: SQLValue { get }
}
extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .int(Int64(self)) } }
extension Int64: SQLBindable { public var sqlValue: SQLValue { .int(self) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .int(self ? 1 : 0) } }
extension Double: SQLBindable { public var sqlValue: SQLValue { .double(self) } }
extension Array: SQLBindable where Element == UInt8 { public var sqlValue: SQLValue { .blob(self) } }
extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

