import CredentialsCore
import JSONRPC

/// How users look on the wire, and their schemas.
enum UserJSON {
    /// A user, written straight to bytes: built as a `JSON` tree and then encoded, a
    /// `users.get` spent a third of its instructions here.
    static func encode(_ u: User) -> JSON {
        var o = JSONObjectBytes(into: ByteWriter(capacity: 384))
        o.add("id", u.id)
        o.add("email", u.email)
        o.add("firstName", u.firstName)
        o.add("lastName", u.lastName)
        o.add("role", u.role.rawValue)
        o.add("permissions", encoded: permissionsEncoded[u.permissions.mask])
        o.add("status", u.status.rawValue)
        o.add("mustChangePassword", encoded: u.mustChangePassword ? trueBytes : falseBytes)
        o.add("createdAt") { $0.appendTimestamp(u.createdAt) }
        o.add("updatedAt") { $0.appendTimestamp(u.updatedAt) }
        return .encoded(o.closed())
    }

    static func permissions(_ p: Permissions) -> JSON {
        var o = JSONObject()
        for perm in Permission.allCases { o[perm.rawValue] = .bool(p.has(perm)) }
        return .object(o)
    }

    /// Every one of the 64 permission sets, encoded once.
    static let permissionsEncoded: [[UInt8]] = (0...Permissions.all.mask).map { JSONWriter.encode(permissions(Permissions(mask: $0))) }
    static let trueBytes = Array("true".utf8), falseBytes = Array("false".utf8)

    /// `{user, mustChangePassword}`: what sign-in, whoami and changePassword answer.
    /// `mustChangePassword` says whether this session is held at it: a token session never is.
    static func session(_ u: User, held: Bool = true) -> JSON {
        ["user": encode(u), "mustChangePassword": .bool(held && u.mustChangePassword)]
    }

    /// Permission choices from params: only the permissions named, each true or false.
    static func permissionChoices(_ json: JSON?) -> [Permission: Bool] {
        var out: [Permission: Bool] = [:]
        guard let o = json?.objectValue else { return out }
        for (k, v) in o.members { if let p = Permission(rawValue: k), let b = v.boolValue { out[p] = b } }
        return out
    }

    static let timestamp = Schema.string(format: "date-time", description: "RFC 3339 UTC with milliseconds")
    static let role = Schema.oneOf(Role.allCases.map(\.rawValue))
    static let status = Schema.oneOf(UserStatus.allCases.map(\.rawValue))

    static let permissionsSchema: Schema = .named("Permissions", .object(Permission.allCases.map { Property($0.rawValue, .boolean) }))

    /// In params: any of the six, each true or false; an unknown name is invalid params.
    static let permissionChoicesSchema: Schema = .named("PermissionChoices", .object(
        Permission.allCases.map { Property.optional($0.rawValue, .boolean) }))

    static let schema: Schema = .named("User", .object([
        Property("id", .string()),
        Property("email", .string(format: "email")),
        Property("firstName", .string()),
        Property("lastName", .string()),
        Property("role", role),
        Property("permissions", permissionsSchema),
        Property("status", status),
        Property("mustChangePassword", .boolean),
        Property("createdAt", timestamp),
        Property("updatedAt", timestamp),
    ]))

    static let sessionSchema: Schema = .named("Session", .object([
        Property("user", schema),
        Property("mustChangePassword", .boolean),
    ]))

    static let password = Schema.string(maxLength: UserFields.maxPasswordLength,
                                        description: "At least 8 characters with an uppercase letter, a digit and one of !@#$%^&*")
    static let email = Schema.string(minLength: 1, maxLength: UserFields.maxEmailLength, format: "email")
    static let name = Schema.string(minLength: 1, maxLength: UserFields.maxNameLength)
    static let userID = Property("userId", .string(minLength: 1, maxLength: 100))
}

/// The params that describe a user, declared once for `setup.createAdmin`, `users.add`,
/// `users.update`, `users.list` and `users.resetPassword`.
enum UserParams {
    static let email = Property("email", UserJSON.email)
    static let firstName = Property("firstName", UserJSON.name)
    static let lastName = Property("lastName", UserJSON.name)
    static let role = Property("role", UserJSON.role)
    static let permissions = Property.optional("permissions", UserJSON.permissionChoicesSchema)
    static let status = Property.optional("status", UserJSON.status)
    static let query = Property.optional("query", .string(maxLength: 200), "Case-insensitive substring of the first name, last name or email.")
    /// The first admin's own password.
    static let password = Property("password", UserJSON.password)
    static let temporaryPassword = Property("temporaryPassword", UserJSON.password)
}
