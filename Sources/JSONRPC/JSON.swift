/// A JSON value as it travelled on the wire.
///
/// Numbers keep their original text (`.number("1.50")`), so an `id` such as
/// `12345678901234567890` or `1.50` is echoed exactly as sent and no precision is lost.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's literal text, already checked against the JSON grammar.
    case number(String)
    case string(String)
    case array([JSON])
    case object(JSONObject)
    /// A value encoded once, ahead of time (`JSONWriter.encode`), written out as these bytes: a
    /// large answer that never changes, such as the OpenRPC document, is not encoded per call.
    case encoded([UInt8])

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }
    public var arrayValue: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }
    /// The value as an exact integer: `3` and `3.0` are not the same here; only `3` is an integer.
    public var intValue: Int? {
        if case .number(let text) = self { return Int(text) }
        return nil
    }
    public var isNull: Bool { self == .null }

    /// The JSON Schema type name of this value (`"integer"` for whole numbers without a fraction or exponent).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number(let t): return Int(t) != nil ? "integer" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        case .encoded: return "encoded"
        }
    }

    public subscript(key: String) -> JSON? {
        objectValue?[key]
    }

    /// The array element at `index`, or nil when this is not an array or the index is out of range.
    public subscript(index: Int) -> JSON? {
        guard let a = arrayValue, a.indices.contains(index) else { return nil }
        return a[index]
    }

    public static func int<I: BinaryInteger>(_ value: I) -> JSON { .number(String(value)) }
}

/// A JSON object whose members keep the order they were written or parsed in.
/// Keys are unique: the parser rejects duplicates and `subscript(set)` replaces in place.
public struct JSONObject: Sendable, Equatable {
    public private(set) var keys: [String] = []
    public private(set) var values: [JSON] = []

    public init() {}

    public init(_ members: KeyValuePairs<String, JSON>) {
        for (k, v) in members { self[k] = v }
    }

    init(uncheckedKeys keys: [String], values: [JSON]) {
        self.keys = keys
        self.values = values
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    public subscript(key: String) -> JSON? {
        get {
            guard let i = keys.firstIndex(of: key) else { return nil }
            return values[i]
        }
        set {
            if let i = keys.firstIndex(of: key) {
                if let newValue { values[i] = newValue } else { keys.remove(at: i); values.remove(at: i) }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    public var members: Zip2Sequence<[String], [JSON]> { zip(keys, values) }

    /// Objects are equal when they hold the same keys with equal values, in any order.
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.count == b.count else { return false }
        for (k, v) in a.members where b[k] != v { return false }
        return true
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(String(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    /// Keys written in code are distinct (checked in debug builds), so no search per key.
    public init(dictionaryLiteral elements: (String, JSON)...) {
        assert(Set(elements.map(\.0)).count == elements.count, "duplicate key in a JSON literal")
        self = .object(JSONObject(uncheckedKeys: elements.map(\.0), values: elements.map(\.1)))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSON {
    /// `.string(s)` for a value, `.null` for nil: for optional fields of results.
    public static func optional(_ s: String?) -> JSON { s.map(JSON.string) ?? .null }
}
