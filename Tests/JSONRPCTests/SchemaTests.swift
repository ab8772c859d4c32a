import Testing
@testable import JSONRPC

struct SchemaTests {
    let params = ObjectSchema([
        Property("email", .string(minLength: 1, maxLength: 10)),
        Property.optional("limit", .integer(1...1000)),
        Property.optional("role", .oneOf(["admin", "support"])),
        Property.optional("media", .array(.object([Property("fileName", .string(minLength: 1))]), maxItems: 2)),
        Property.optional("flag", .boolean),
    ])

    func fields(_ json: JSON) -> [String] { params.validate(json.objectValue!).map(\.field) }

    @Test func acceptsValidParams() {
        #expect(fields(["email": "a@b", "limit": 5, "role": "admin", "media": [["fileName": "x"]], "flag": false]).isEmpty)
    }

    @Test("each failing field is named by its path", arguments: [
        (["limit": 1] as JSON, ["email"]),
        (["email": 5], ["email"]),
        (["email": ""], ["email"]),
        (["email": "01234567890"], ["email"]),
        (["email": "a", "limit": 0], ["limit"]),
        (["email": "a", "limit": 1001], ["limit"]),
        (["email": "a", "limit": .number("1.0")], ["limit"]),
        (["email": "a", "limit": .number("1e2")], ["limit"]),
        (["email": "a", "limit": "5"], ["limit"]),
        (["email": "a", "role": "root"], ["role"]),
        (["email": "a", "media": [["fileName": ""], 3]], ["media[0].fileName", "media[1]"]),
        (["email": "a", "media": [[:]]], ["media[0].fileName"]),
        (["email": "a", "media": [["fileName": "a", "x": 1]]], ["media[0].x"]),
        (["email": "a", "flag": nil], ["flag"]),
        (["email": "a", "unknown": 1], ["unknown"]),
        ([:], ["email"]),
        (["email": 1, "limit": "x", "other": 2], ["email", "limit", "other"]),
    ] as [(JSON, [String])])
    func namesFailingFields(json: JSON, expected: [String]) {
        #expect(fields(json) == expected)
    }

    @Test func rendersJSONSchemaWithComponents() {
        var c = SchemaComponents()
        let ref = c.render(.named("Thing", .object([Property("a", .integer(1...2)), .optional("b", .nullable(.string()))])))
        #expect(ref == ["$ref": "#/components/schemas/Thing"])
        let thing = c.schemas["Thing"]
        #expect(thing?["required"] == ["a"])
        #expect(thing?["additionalProperties"] == false)
        #expect(thing?["properties"]?["a"] == ["type": "integer", "minimum": 1, "maximum": 2])
        #expect(thing?["properties"]?["b"]?["oneOf"]?.arrayValue?.count == 2)
    }
}
