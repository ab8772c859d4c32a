import CCrypto
import Foundation

/// Slow salted password hashes: PBKDF2-HMAC-SHA256 from OpenSSL's libcrypto.
///
/// Stored as one self-describing string, `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`, so the
/// cost can be raised later: a hash made with fewer iterations than the current setting still
/// verifies, and `needsUpgrade` tells the caller to store a new one at the next successful sign-in.
public struct PasswordHasher: Sendable {
    public static let defaultIterations = 600_000
    /// The floor for `CREDENTIALS_RPC_PBKDF2_ITERATIONS` (tests only lower the cost, never below this).
    public static let minimumIterations = 1_000
    /// The most a hash may ask for: libcrypto takes the count as a C int, and a stored hash
    /// asking for more (a damaged or planted row) must fail to verify, not stop the process.
    public static let maximumIterations = 100_000_000
    public static var iterationRange: ClosedRange<Int> { minimumIterations...maximumIterations }
    static let scheme = "pbkdf2-sha256"
    static let saltBytes = 16
    static let hashBytes = 32

    public let iterations: Int
    /// Counts derivations, for tests that prove every sign-in path costs the same work.
    public var counter: DerivationCounter?

    public init(iterations: Int = PasswordHasher.defaultIterations) {
        self.iterations = min(max(iterations, PasswordHasher.minimumIterations), PasswordHasher.maximumIterations)
    }

    /// A new hash with a fresh 16-byte salt from the OS's secure random source.
    public func hash(_ password: String) -> String {
        var salt = [UInt8](repeating: 0, count: PasswordHasher.saltBytes)
        if RAND_bytes(&salt, Int32(salt.count)) != 1 {
            // The OS generator (getrandom) is secure too; use it if OpenSSL's cannot answer.
            var rng = SystemRandomNumberGenerator()
            for i in salt.indices { salt[i] = UInt8.random(in: 0...255, using: &rng) }
        }
        let derived = derive(password, salt: salt, iterations: iterations)
        return "\(PasswordHasher.scheme)$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())"
    }

    /// Whether `password` matches `stored`, compared in constant time. An unreadable stored string
    /// still costs one derivation, so it takes as long as a wrong password.
    public func verify(_ password: String, against stored: String) -> Bool {
        guard let parsed = PasswordHasher.parse(stored) else {
            _ = derive(password, salt: [UInt8](repeating: 0, count: PasswordHasher.saltBytes), iterations: iterations)
            return false
        }
        let derived = derive(password, salt: parsed.salt, iterations: parsed.iterations)
        guard derived.count == parsed.hash.count else { return false }
        return CRYPTO_memcmp(derived, parsed.hash, derived.count) == 0
    }

    /// Spends the time of one verification without a stored hash: for unknown emails, so they
    /// cost what a wrong password costs.
    public func verifyNothing(_ password: String) {
        _ = verify(password, against: "\(PasswordHasher.scheme)$\(iterations)$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    }

    /// True when `stored` was made with fewer iterations than this hasher uses.
    public func needsUpgrade(_ stored: String) -> Bool {
        guard let parsed = PasswordHasher.parse(stored) else { return true }
        return parsed.iterations < iterations
    }

    static func parse(_ stored: String) -> (iterations: Int, salt: [UInt8], hash: [UInt8])? {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == scheme, let iterations = Int(parts[1]), (1...maximumIterations).contains(iterations),
              let salt = Data(base64Encoded: String(parts[2])), let hash = Data(base64Encoded: String(parts[3])),
              !salt.isEmpty, !hash.isEmpty else { return nil }
        return (iterations, Array(salt), Array(hash))
    }

    func derive(_ password: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        counter?.count += 1
        var out = [UInt8](repeating: 0, count: PasswordHasher.hashBytes)
        let pw = Array(password.utf8)
        let rc = pw.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { cp in
                PKCS5_PBKDF2_HMAC(cp.baseAddress, Int32(cp.count), salt, Int32(salt.count), Int32(iterations), EVP_sha256(), Int32(PasswordHasher.hashBytes), &out)
            }
        }
        precondition(rc == 1, "PKCS5_PBKDF2_HMAC failed")
        return out
    }

}

/// A count of PBKDF2 derivations (one process, one thread at a time, like the service).
public final class DerivationCounter: @unchecked Sendable {
    public var count = 0
    public init() {}
}
