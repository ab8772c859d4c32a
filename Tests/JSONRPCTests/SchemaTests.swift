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
    func validate(_ schema: ObjectSchema, _ json: JSON) -> [FieldError] { schema.validate(json.objectValue!) }

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

    /// An enum may name the reason its refusal gives; the error takes it even when plain
    /// failures come first, and only when that enum failed.
    @Test func anEnumFailureCarriesItsOwnReason() {
        let schema = ObjectSchema([
            Property("name", .string(minLength: 1)),
            Property("type", .oneOf(["image/png", "application/pdf"], reason: "unsupported_media")),
        ])
        let named = validate(schema, ["name": "", "type": "text/html"])
        #expect(named.map { $0.field } == ["name", "type"])
        #expect(named.map { $0.reason } == [nil, "unsupported_media"])
        #expect(RPCError.invalidParams(named).reason == "unsupported_media")
        #expect(RPCError.invalidParams(named).data["fields"] == [["field": "name", "message": "must not be empty"],
                                                               ["field": "type", "message": "must be one of: image/png, application/pdf"]])
        #expect(RPCError.invalidParams(named, reason: "other").reason == "other")
        let plain = validate(schema, ["name": "", "type": "image/png"])
        #expect(RPCError.invalidParams(plain).reason == "invalid_params")
        // The same enum without a reason is plain invalid_params.
        #expect(RPCError.invalidParams(validate(params, ["email": "a", "role": "root"])).reason == "invalid_params")
        // A value of the wrong kind is malformed, not an unsupported value.
        #expect(RPCError.invalidParams(validate(schema, ["name": "a", "type": 5])).reason == "invalid_params")
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
