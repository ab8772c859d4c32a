import JSONRPC

/// A small JSON Schema checker for the keywords the tool schemas use (type, properties,
/// required, additionalProperties, items, enum, oneOf, minimum, maximum, minItems, maxItems): a
/// test of `outputSchema` needs one, and the Swift side has no JSON Schema library. Returns the
/// paths that fail.
enum MiniSchema {
    static func problems(_ value: JSON, _ schema: JSON, path: String = "$") -> [String] {
        guard case .object(let s) = schema else { return [] }
        var out: [String] = []
        if let ref = s["$ref"] { out.append("\(path): unresolved $ref \(JSONWriter.string(ref))") }
        if let options = s["oneOf"]?.arrayValue {
            let matching = options.filter { problems(value, $0, path: path).isEmpty }.count
            if matching != 1 { out.append("\(path): matches \(matching) of oneOf") }
        }
        if let allowed = s["enum"]?.arrayValue, !allowed.contains(value) { out.append("\(path): not in enum") }
        if let type = s["type"]?.stringValue {
            let actual = value.typeName
            let ok = type == actual || (type == "number" && actual == "integer")
            if !ok { return out + ["\(path): \(actual), not \(type)"] }
        }
        if case .string(let text) = value {
            let count = text.count
            if let lo = s["minLength"]?.intValue, count < lo { out.append("\(path): shorter than \(lo)") }
            if let hi = s["maxLength"]?.intValue, count > hi { out.append("\(path): longer than \(hi)") }
            if let pattern = s["pattern"]?.stringValue, let regex = try? Regex(pattern), text.firstMatch(of: regex) == nil {
                out.append("\(path): does not match \(pattern)")
            }
        }
        if let n = value.intValue {
            if let lo = s["minimum"]?.intValue, n < lo { out.append("\(path): below minimum") }
            if let hi = s["maximum"]?.intValue, n > hi { out.append("\(path): above maximum") }
        }
        if case .array(let items) = value {
            if let lo = s["minItems"]?.intValue, items.count < lo { out.append("\(path): too few items") }
            if let hi = s["maxItems"]?.intValue, items.count > hi { out.append("\(path): too many items") }
            if s["uniqueItems"] == true, Set(items.map(JSONWriter.string)).count != items.count { out.append("\(path): items repeat") }
            if let item = s["items"] {
                for (i, v) in items.enumerated() { out += problems(v, item, path: "\(path)[\(i)]") }
            }
        }
        if case .object(let o) = value {
            let props = s["properties"]?.objectValue ?? JSONObject()
            for r in s["required"]?.arrayValue ?? [] {
                if let k = r.stringValue, o[k] == nil { out.append("\(path).\(k): required") }
            }
            for (k, v) in o.members {
                if let p = props[k] { out += problems(v, p, path: "\(path).\(k)") }
                else if s["additionalProperties"] == .bool(false) { out.append("\(path).\(k): not allowed") }
            }
        }
        return out
    }
}
