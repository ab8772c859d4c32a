import CredentialsStore
import JSONRPC

public enum ServiceInfo {
    public static let name = "credentials-rpc"
    public static let version = "0.1.0"
    /// The version of the wire protocol (the OpenRPC document's `info.version`).
    public static let protocolVersion = "1.0.0"
}

/// `rpc.discover` and `service.info`: open to everyone, no session needed.
enum SystemMethods {
    static let all: [Method] = [
        Method("rpc.discover", summary: "The OpenRPC document of every method (the same as Protocol/openrpc.json).", effect: .reads,
               access: .open, result: "document", .named("OpenRPCDocument", .any)) { _, _ in Service.openRPCEncoded },
        Method("service.info", summary: "The service's name and versions, and which engine holds the data.", effect: .reads, access: .open,
               result: "info", serviceInfoSchema) { ctx, _ in
            [
                "name": .string(ServiceInfo.name),
                "version": .string(ServiceInfo.version),
                "protocolVersion": .string(ServiceInfo.protocolVersion),
                "schemaVersion": .int(try ctx.store.schemaVersion()),
                "storage": .string(ctx.store.storage),
            ]
        },
    ]

    static let serviceInfoSchema: Schema = .named("ServiceInfo", .object([
        Property("name", .string()),
        Property("version", .string(), "The build's version."),
        Property("protocolVersion", .string(), "The version of the wire protocol: the OpenRPC document's info.version."),
        Property("schemaVersion", .integer(minimum: 1, maximum: nil), "The database schema version (PRAGMA user_version)."),
        Property("storage", .oneOf(["sqlite", "postgresql"]), "The engine that holds the data: the embedded SQLite file, or a PostgreSQL database (contract §13)."),
    ]))
}
