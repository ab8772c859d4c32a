import CredentialsCore
import CredentialsStore
import JSONRPC

/// `credentialTypes.*`: admins with `createEditPackages` manage; everyone signed in lists.
enum CredentialTypeMethods {
    static let typeID = Property("typeId", CredentialJSON.id)
    static let name = Property("name", .string(minLength: 1, maxLength: CredentialFields.maxTypeNameLength), "Unique, case-insensitively.")
    static let description = Property.optional("description", .string(maxLength: CredentialFields.maxDescriptionLength))
    static let requiresExpiration = Property.optional("requiresExpiration", .boolean)
    static let includeArchived = Property.optional("includeArchived", .boolean, "Default false.")
    static let manageErrors = [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found"), ErrorDoc(.conflict, "name_taken")]

    static let all: [Method] = [
        Method("credentialTypes.create", summary: "Creates a credential type. Admin with createEditPackages.", effect: .changes,
               access: .adminWith(.createEditPackages),
               params: [name, description,
                        requiresExpiration.described("Whether credentials of this type must have an expiration date (default false).")],
               result: "type", CredentialJSON.typeSchema, errors: manageErrors, run: create),
        Method("credentialTypes.update", summary: "Renames a type or changes its description or expiration rule. Admin with createEditPackages.", effect: .changes, idempotent: true,
               description: "A changed expiration rule applies to credentials added or edited afterwards.",
               access: .adminWith(.createEditPackages),
               params: [typeID, name.notRequired.described(nil), description, requiresExpiration],
               result: "type", CredentialJSON.typeSchema, errors: manageErrors, run: update),
        Method("credentialTypes.archive", summary: "Archives a type: no new credentials of it. Admin with createEditPackages.", effect: .changes, idempotent: true,
               description: "Existing credentials keep it and can still be renewed. Archiving an archived type changes nothing.",
               access: .adminWith(.createEditPackages), params: [typeID], result: "type", CredentialJSON.typeSchema,
               errors: [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found"), ErrorDoc(.conflict, "type_in_use")], run: archive),
        Method("credentialTypes.list", summary: "Credential types in creation order; archived ones only when asked.", effect: .reads,
               access: .ready, params: [includeArchived] + Page.params,
               result: "page", Page.schema("CredentialTypePage", of: CredentialJSON.typeSchema), errors: Page.errors) { ctx, p in
            let page = try Page(p, key: .id(prefix: "ctype"), seal: ctx.cursorSeal("credentialTypes.list"))
            let (types, more) = try ctx.store.credentials.listTypes(includeArchived: p.bool(includeArchived) ?? false,
                                                                          afterID: page.after, limit: page.limit)
            return page.result(types.map(CredentialJSON.type), lastKey: types.last?.id, more: more)
        },
    ]

    static let nameTaken = DomainError.conflict(reason: "name_taken", message: "Another credential type has this name")

    static func find(_ ctx: Context, _ id: String) throws -> CredentialType {
        guard let t = try ctx.credentialType(id) else { throw DomainError.notFound("No credential type \(id.prefix(100))") }
        return t
    }

    static func description(_ p: Params) throws -> String? {
        try p.string(description).map { d throws(DomainError) in try CredentialFields.description(d) }
    }

    static func create(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let name = try CredentialFields.typeName(p.required(Self.name))
        let now = ctx.now
        let t = CredentialType(id: ctx.deps.newID("ctype"), name: name, description: try description(p) ?? "",
                               requiresExpiration: p.bool(requiresExpiration) ?? false, archived: false, createdAt: now, updatedAt: now)
        try ctx.write {
            let store = ctx.store.credentials
            if try store.typeNameTaken(name) { throw nameTaken }
            try store.insertType(t)
            try ctx.audit("credentialTypes.create", target: t.id, actor: actor.id, detail: ["name": .string(t.name)])
        }
        return CredentialJSON.type(t)
    }

    static func update(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let name = try p.string(Self.name).map { try CredentialFields.typeName($0) }
        let t: CredentialType = try ctx.write {
            let store = ctx.store.credentials
            var t = try find(ctx, p.required(typeID))
            let before = t
            if let name {
                if try store.typeNameTaken(name, except: t.id) { throw nameTaken }
                t.name = name
            }
            if let d = try description(p) { t.description = d }
            if let r = p.bool(requiresExpiration) { t.requiresExpiration = r }
            // Text as bytes: String's == is canonical equivalence (NFD equals NFC under it).
            func differ(_ a: String, _ b: String) -> Bool { !a.utf8.elementsEqual(b.utf8) }
            if !differ(t.name, before.name) && !differ(t.description, before.description) && t.requiresExpiration == before.requiresExpiration {
                return t
            }
            t.updatedAt = ctx.now
            try store.updateType(t)
            var changes = JSONObject()
            if differ(before.name, t.name) { changes["name"] = ["from": .string(before.name), "to": .string(t.name)] }
            if differ(before.description, t.description) { changes["description"] = ["from": .string(before.description), "to": .string(t.description)] }
            if before.requiresExpiration != t.requiresExpiration {
                changes["requiresExpiration"] = ["from": .bool(before.requiresExpiration), "to": .bool(t.requiresExpiration)]
            }
            try ctx.audit("credentialTypes.update", target: t.id, actor: actor.id, detail: .object(changes))
            return t
        }
        return CredentialJSON.type(t)
    }

    static func archive(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let t: CredentialType = try ctx.write {
            var t = try find(ctx, p.required(typeID))
            if t.archived { return t }
            if try ctx.store.teams.typeRequired(t.id) {
                throw DomainError.conflict(reason: "type_in_use", message: "A team requires \(t.name); remove it from the team's required types first")
            }
            t.archived = true
            t.updatedAt = ctx.now
            try ctx.store.credentials.updateType(t)
            try ctx.audit("credentialTypes.archive", target: t.id, actor: actor.id)
            return t
        }
        return CredentialJSON.type(t)
    }
}
