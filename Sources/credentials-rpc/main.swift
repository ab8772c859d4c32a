// credentials-rpc: parse the command line, open the database, serve JSON-RPC on stdin/stdout.
// Everything else lives in the modules: JSONRPC (transport), CredentialsService (methods),
// CredentialsStore (SQLite), CredentialsCore (domain rules).
import CredentialsCore
import CredentialsService
import CredentialsStore
import Foundation
import JSONRPC

func writeLine(_ fd: Int32, _ text: String) {
    _ = FDWriter.writeAll(fd, Array((text.hasSuffix("\n") ? text : text + "\n").utf8))
}

let environment = ProcessInfo.processInfo.environment
let options: CommandLineOptions
switch CommandLineOptions.parse(Array(CommandLine.arguments.dropFirst()), environment: environment) {
case .help:
    writeLine(1, CommandLineOptions.usage)
    exit(0)
case .version:
    writeLine(1, "credentials-rpc \(ServiceInfo.version) (protocol \(ServiceInfo.protocolVersion))")
    exit(0)
case .usage(let message):
    writeLine(2, "credentials-rpc: \(message)")
    exit(2)
case .copy(let from, let to):
    exit(copyStores(from: from, to: to))
case .run(let o):
    options = o
}

/// Opens the database and serves until end of input or a stop signal. Everything it opens is
/// local, so the database closes (and checkpoints its WAL) before the process exits.
func serve(_ options: CommandLineOptions) -> Int32 {
    HeapSettings.apply()
    // A SQLite file, or a PostgreSQL database named by a libpq URI (contract §13), whose password
    // no line ever shows.
    let location: StoreLocation
    do {
        location = try StoreLocation(options.databasePath)
    } catch {
        writeLine(2, "credentials-rpc: \(error)")
        return 2
    }
    let database: Database
    do {
        switch location {
        case .sqlite(let path): database = try Database(path: path)
        case .postgresql(let uri): database = try Database(postgres: uri)
        }
    } catch let error as PostgresError {
        writeLine(2, "credentials-rpc: cannot open \(location.displayName): \(error)")
        return 2
    } catch {
        writeLine(2, "credentials-rpc: \(error)")
        return 2
    }
    var config = ServiceConfig()
    config.maxMessageBytes = options.maxMessageBytes
    config.maxMediaBytes = options.maxMediaBytes
    config.passwordIterations = options.passwordIterations
    let logger = Logger(level: options.logLevel)
    let deps = options.fixedTimeMillis.map { Dependencies.fixed(at: $0) } ?? .live()
    if !options.insecureTestSettings.isEmpty {
        logger.log(.info, "test-only settings in force (\(options.insecureTestSettings.joined(separator: ", "))): never use this process for real data")
    }
    if database.isReadableByOthers {
        logger.log(.warning, "the database file \(location.displayName) can be read by other users; chmod 600 it unless a group shares it on purpose")
    }
    let service = Service(db: database, deps: deps, config: config, log: logger)
    // Scripts and hosts sign in without a password (Protocol/README.md §6, API tokens); a refused token still serves,
    // signed out, after one line that says why and never shows the secret.
    if let secret = environment["CREDENTIALS_RPC_TOKEN"], !secret.isEmpty, let why = service.signIn(token: secret) {
        writeLine(2, "credentials-rpc: CREDENTIALS_RPC_TOKEN was refused (\(why)); serving signed out")
    }
    // MCP hosts and LSP editors get their lifecycles in front of the same methods.
    let facet = service.hostFacet(tools: options.tools)
    let server = RPCServer(handler: facet)
    let stopFD = StopSignals.install()
    logger.log(.info, "serving on stdin/stdout, database \(location.displayName)")
    LineTransport.run(server: server, input: 0, output: 1, stopFD: stopFD, maxMessageBytes: options.maxMessageBytes)
    return facet.exitStatus ?? 0
}

exit(serve(options))
