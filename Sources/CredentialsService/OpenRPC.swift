import JSONRPC

/// Builds the OpenRPC 1.3 document from the method table.
enum OpenRPC {
    static let specVersion = "1.3.2"

    static func document(methods: [Method]) -> JSON {
        var components = SchemaComponents()
        var rendered: [JSON] = []
        for m in methods {
            var o = JSONObject()
            o["name"] = .string(m.name)
            o["summary"] = .string(m.summary)
            if let d = m.description { o["description"] = .string(d) }
            o["tags"] = tags(m.access)
            o["paramStructure"] = "by-name"
            o["params"] = .array(m.params.map { p in
                var d = JSONObject()
                d["name"] = .string(p.name)
                if let desc = p.description { d["description"] = .string(desc) }
                d["required"] = .bool(p.required)
                d["schema"] = components.render(p.schema)
                return .object(d)
            })
            o["result"] = ["name": .string(m.resultName), "schema": components.render(m.result)]
            var errors = commonErrors(for: m.access)
            errors.append(contentsOf: m.errors)
            o["errors"] = .array(errors.map { e in
                ["code": .int(e.code.rawValue), "message": .string(e.reason), "data": ["reason": .string(e.reason)]]
            })
            rendered.append(.object(o))
        }
        return [
            "openrpc": .string(specVersion),
            "info": [
                "title": "credentials-rpc",
                "version": .string(ServiceInfo.protocolVersion),
                "description": "Integration users and their workforce credentials over JSON-RPC 2.0, one message per line on stdin/stdout.",
            ],
            "methods": .array(rendered),
            "components": ["schemas": .object(components.schemas)],
        ]
    }

    /// The access tags: the session a method needs, then, for admin methods, `admin` or
    /// `admin:<permission>`.
    static func tags(_ a: Access) -> JSON {
        let session: JSON = switch a {
        case .open: ["name": "no-session"]
        case .signedIn: ["name": "signed-in"]
        case .ready, .admin, .adminWith: ["name": "signed-in-password-changed"]
        }
        switch a {
        case .admin: return [session, ["name": "admin"]]
        case .adminWith(let p): return [session, ["name": .string("admin:\(p.rawValue)")]]
        default: return [session]
        }
    }

    /// Errors every method of an access level can answer, beside its own.
    static func commonErrors(for access: Access) -> [ErrorDoc] {
        var e = [ErrorDoc(.invalidParams, "invalid_params")]
        switch access {
        case .open: break
        case .signedIn: e.append(ErrorDoc(.unauthenticated, "unauthenticated"))
        case .ready, .admin, .adminWith:
            e.append(ErrorDoc(.unauthenticated, "unauthenticated"))
            e.append(ErrorDoc(.passwordChangeRequired, "password_change_required"))
        }
        return e
    }
}
