/// A small JSON Schema vocabulary. One declaration serves twice: it validates incoming params
/// (with every failing field's path) and it renders the JSON Schema in the OpenRPC document, so the
/// published schema and what the service accepts cannot drift apart.
public indirect enum Schema: Sendable {
    case string(StringRules)
    case integer(minimum: Int?, maximum: Int?)
    case boolean
    case null
    case array(Schema, minItems: Int, maxItems: Int?, uniqueItems: Bool)
    case object(ObjectSchema)
    /// A named schema, rendered once under `components.schemas` and referenced by `$ref`.
    case named(String, Schema)
    case nullable(Schema)
    /// Any JSON value (documented, not checked).
    case any

    public struct StringRules: Sendable {
        public var minLength = 0
        public var maxLength: Int?
        /// JSON Schema `format` (documentation: formats are checked by the domain rules).
        public var format: String?
        public var pattern: String?
        public var allowed: [String]?
        public var description: String?
        /// The error reason a value outside `allowed` gives instead of `invalid_params`, for an
        /// enum whose other values the contract names as a case of its own (a media type the
        /// service does not take is `unsupported_media`, not a malformed request).
        public var reason: String?
    }

    // Builders, so declarations read like the schema they render.
    public static func string(minLength: Int = 0, maxLength: Int? = nil, format: String? = nil,
                              pattern: String? = nil, description: String? = nil) -> Schema {
        .string(StringRules(minLength: minLength, maxLength: maxLength, format: format, pattern: pattern, description: description))
    }
    public static func oneOf(_ values: [String], description: String? = nil, reason: String? = nil) -> Schema {
        .string(StringRules(allowed: values, description: description, reason: reason))
    }
    public static func integer(_ range: ClosedRange<Int>) -> Schema {
        .integer(minimum: range.lowerBound, maximum: range.upperBound)
    }
    public static let anyInteger = Schema.integer(minimum: nil, maximum: nil)
    public static func array(_ items: Schema, minItems: Int = 0, maxItems: Int? = nil, unique: Bool = false) -> Schema {
        .array(items, minItems: minItems, maxItems: maxItems, uniqueItems: unique)
    }
    public static func object(_ properties: [Property], additional: Bool = false) -> Schema {
        .object(ObjectSchema(properties, additional: additional))
    }
}

public struct Property: Sendable {
    public var name: String
    public var schema: Schema
    public var required: Bool
    public var description: String?

    public init(_ name: String, _ schema: Schema, required: Bool = true, _ description: String? = nil) {
        self.name = name
        self.schema = schema
        self.required = required
        self.description = description
    }

    public static func optional(_ name: String, _ schema: Schema, _ description: String? = nil) -> Property {
        Property(name, schema, required: false, description)
    }

    /// The same param, not required: for a method that takes as optional what another requires.
    public var notRequired: Property {
        var p = self
        p.required = false
        return p
    }

    /// The same param, also taking `null`.
    public var orNull: Property {
        var p = self
        p.schema = .nullable(schema)
        return p
    }

    /// The same param with another description, for a method that says more of it.
    public func described(_ text: String?) -> Property {
        var p = self
        p.description = text
        return p
    }
}

public struct ObjectSchema: Sendable {
    public let properties: [Property]
    /// Whether members not listed are allowed. Params never allow them (`-32602`).
    public let additional: Bool
    /// The properties' names, for finding unknown members.
    public let names: Set<String>

    public init(_ properties: [Property], additional: Bool = false) {
        self.properties = properties
        self.additional = additional
        self.names = Set(properties.map(\.name))
    }
}

// MARK: - Validation

extension Schema {
    private func fail(_ path: String, _ message: String, reason: String? = nil, into errors: inout [FieldError]) {
        errors.append(FieldError(field: path.isEmpty ? "params" : path, message: message, reason: reason))
    }

    /// `path` is built only when a check fails: every request's params pass through here.
    func check(_ value: JSON, path: @autoclosure () -> String, into errors: inout [FieldError]) {
        switch self {
        case .any:
            return
        case .named(_, let inner):
            inner.check(value, path: path(), into: &errors)
        case .nullable(let inner):
            if value != .null { inner.check(value, path: path(), into: &errors) }
        case .null:
            if value != .null { fail(path(), "must be null", into: &errors) }
        case .boolean:
            if value.boolValue == nil { fail(path(), "must be a boolean, not \(value.typeName)", into: &errors) }
        case .integer(let lo, let hi):
            guard case .number(let text) = value else {
                return fail(path(), "must be an integer, not \(value.typeName)", into: &errors)
            }
            guard let n = Int(text) else {
                return fail(path(), "must be a whole number written without a fraction or exponent", into: &errors)
            }
            if let lo, n < lo { fail(path(), "must be at least \(lo)", into: &errors) }
            if let hi, n > hi { fail(path(), "must be at most \(hi)", into: &errors) }
        case .string(let rules):
            guard case .string(let s) = value else {
                return fail(path(), "must be a string, not \(value.typeName)", into: &errors)
            }
            if let allowed = rules.allowed {
                if !allowed.contains(s) {
                    fail(path(), "must be one of: \(allowed.joined(separator: ", "))", reason: rules.reason, into: &errors)
                }
                return
            }
            // A string has at most as many characters as UTF-8 bytes, and at least one when it
            // has a byte: most strings pass without counting characters.
            let bytes = s.utf8.count
            if bytes <= (rules.maxLength ?? .max) && (rules.minLength == 0 || (rules.minLength == 1 && bytes > 0)) { return }
            let length = s.count
            if length < rules.minLength {
                fail(path(), rules.minLength == 1 ? "must not be empty" : "must be at least \(rules.minLength) characters", into: &errors)
            }
            if let max = rules.maxLength, length > max {
                fail(path(), "must be at most \(max) characters", into: &errors)
            }
        case .array(let items, let minItems, let maxItems, let unique):
            guard case .array(let elements) = value else {
                return fail(path(), "must be an array, not \(value.typeName)", into: &errors)
            }
            if elements.count < minItems { fail(path(), "must hold at least \(minItems) items", into: &errors) }
            if let maxItems, elements.count > maxItems {
                return fail(path(), "must hold at most \(maxItems) items", into: &errors)
            }
            if unique {
                for (i, e) in elements.enumerated() where elements[..<i].contains(e) {
                    fail("\(path())[\(i)]", "repeats an earlier item", into: &errors)
                }
            }
            for (i, e) in elements.enumerated() { items.check(e, path: "\(path())[\(i)]", into: &errors) }
        case .object(let object):
            guard case .object(let o) = value else {
                return fail(path(), "must be an object, not \(value.typeName)", into: &errors)
            }
            object.check(o, path: path(), into: &errors)
        }
    }
}

extension ObjectSchema {
    func check(_ o: JSONObject, path: @autoclosure () -> String, into errors: inout [FieldError]) {
        func sub(_ name: String) -> String {
            let parent = path()
            return parent.isEmpty ? name : "\(parent).\(name)"
        }
        var found = 0
        for p in properties {
            if let v = o[p.name] {
                found += 1
                p.schema.check(v, path: sub(p.name), into: &errors)
            } else if p.required {
                errors.append(FieldError(field: sub(p.name), message: "is required"))
            }
        }
        // Every member matched a property (the usual case): none is unknown, and no name need be
        // hashed to find out.
        if !additional && found < o.count {
            for k in o.keys where !names.contains(k) {
                errors.append(FieldError(field: sub(String(k.prefix(100))), message: "is not a known field"))
            }
        }
    }

    /// Validates params at the top level: paths are bare field names.
    public func validate(_ o: JSONObject) -> [FieldError] {
        var errors: [FieldError] = []
        check(o, path: "", into: &errors)
        return errors
    }
}

// MARK: - Rendering as JSON Schema

/// Collects named schemas while rendering, for the OpenRPC `components.schemas` section.
public struct SchemaComponents {
    public private(set) var schemas = JSONObject()
    /// Named schemas written out where they are used instead of as `$ref`s: an MCP host reads
    /// each tool's schema alone and cannot resolve `#/components/...`.
    public let inline: Bool
    /// The named schemas being inlined, outermost first: one named inside itself would not end.
    private var inlining: [String] = []
    public init(inline: Bool = false) { self.inline = inline }

    public mutating func render(_ schema: Schema) -> JSON {
        switch schema {
        case .any: return [:]
        case .null: return ["type": "null"]
        case .boolean: return ["type": "boolean"]
        case .integer(let lo, let hi):
            var o: JSONObject = JSONObject(["type": "integer"])
            if let lo { o["minimum"] = .int(lo) }
            if let hi { o["maximum"] = .int(hi) }
            return .object(o)
        case .string(let r):
            var o: JSONObject = JSONObject(["type": "string"])
            if let allowed = r.allowed { o["enum"] = .array(allowed.map(JSON.string)) }
            if r.minLength > 0 { o["minLength"] = .int(r.minLength) }
            if let m = r.maxLength { o["maxLength"] = .int(m) }
            if let f = r.format { o["format"] = .string(f) }
            if let p = r.pattern { o["pattern"] = .string(p) }
            if let d = r.description { o["description"] = .string(d) }
            return .object(o)
        case .array(let items, let minItems, let maxItems, let unique):
            var o: JSONObject = JSONObject(["type": "array"])
            o["items"] = render(items)
            if minItems > 0 { o["minItems"] = .int(minItems) }
            if let m = maxItems { o["maxItems"] = .int(m) }
            if unique { o["uniqueItems"] = true }
            return .object(o)
        case .object(let obj):
            return render(obj)
        case .nullable(let inner):
            return ["oneOf": [render(inner), ["type": "null"]]]
        case .named(let name, let inner):
            if inline {
                if inlining.contains(name) { return [:] }  // a recursive schema: any value there
                inlining.append(name)
                defer { inlining.removeLast() }
                return render(inner)
            }
            if schemas[name] == nil {
                schemas[name] = [:]  // placeholder first, so recursive references terminate
                schemas[name] = render(inner)
            }
            return ["$ref": .string("#/components/schemas/\(name)")]
        }
    }

    public mutating func render(_ obj: ObjectSchema) -> JSON {
        var o: JSONObject = JSONObject(["type": "object"])
        var props = JSONObject()
        for p in obj.properties {
            var rendered = render(p.schema)
            if let d = p.description, case .object(var ro) = rendered, ro["$ref"] == nil {
                ro["description"] = .string(d)
                rendered = .object(ro)
            }
            props[p.name] = rendered
        }
        o["properties"] = .object(props)
        let required = obj.properties.filter(\.required).map { JSON.string($0.name) }
        if !required.isEmpty { o["required"] = .array(required) }
        o["additionalProperties"] = .bool(obj.additional)
        return .object(o)
    }
}
