// swift-tools-version:6.0
// credentials-rpc: JSON-RPC 2.0 over stdin/stdout for integration users and their credentials.
// No package dependencies: Foundation, the toolchain, and three system C libraries
// (SQLite, OpenSSL's libcrypto and PostgreSQL's libpq) through `.systemLibrary` targets, plus
// glibc's own allocator settings (malloc.h, in libc) through a fourth.
import PackageDescription

let package = Package(
    name: "credentials-rpc",
    products: [
        .executable(name: "credentials-rpc", targets: ["credentials-rpc"]),
        .executable(name: "credentials-rpc-bench", targets: ["credentials-rpc-bench"]),
    ],
    targets: [
        // System libraries, linked through module maps.
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CMalloc", providers: [.apt(["libc6-dev"])]),

        // JSON-RPC 2.0 and JSON itself; knows nothing of credentials.
        .target(name: "JSONRPC"),
        // Pure domain rules: no JSON, no SQL.
        .target(name: "CredentialsCore", dependencies: ["CCrypto"]),
        // SQLite: connection, statements, transactions, schema migrations; and the PostgreSQL
        // engine's pieces (PostgreSQL/), each in files of its own.
        .target(name: "CredentialsStore", dependencies: ["CSQLite", "CPostgres", "CredentialsCore"]),
        // The method table, handlers and the OpenRPC document.
        .target(name: "CredentialsService", dependencies: ["JSONRPC", "CredentialsCore", "CredentialsStore"]),
        // The thin executable: command line, signals, the stdin/stdout loop.
        .executableTarget(name: "credentials-rpc", dependencies: ["CredentialsService", "JSONRPC", "CMalloc"]),
        // The benchmark: the real service over pipes against ceilings measured in the same run.
        .executableTarget(name: "credentials-rpc-bench", dependencies: ["CredentialsStore", "CredentialsCore", "CSQLite"]),

        // Test support: scratch directories cleaned up between runs, a seeded random source, and
        // the PostgreSQL server the tests of that engine use.
        .target(name: "TestScratch", dependencies: ["CredentialsStore"], path: "Tests/TestScratch"),
        // Small real media files, and the pieces of hostile ones, for the tests.
        .target(name: "MediaSamples", path: "Tests/MediaSamples"),
        .testTarget(name: "JSONRPCTests", dependencies: ["JSONRPC"]),
        .testTarget(name: "CredentialsCoreTests", dependencies: ["CredentialsCore", "JSONRPC", "MediaSamples", "TestScratch"]),
        .testTarget(name: "CredentialsStoreTests", dependencies: ["CredentialsStore", "CredentialsCore", "TestScratch"]),
        .testTarget(
            name: "CredentialsServiceTests",
            dependencies: ["CredentialsService", "JSONRPC", "CredentialsStore", "credentials-rpc", "TestScratch", "MediaSamples"]
        ),
    ]
)
