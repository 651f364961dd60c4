import Crypto
import Foundation
import _CryptoExtras

/// Admin secrets as `admin_principals.secret_hash` stores them: PBKDF2-HMAC-SHA256 with a random
/// 16-byte salt, `pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>`. Never the secret itself.
public enum PasswordHash {
    /// OWASP's figure for PBKDF2-HMAC-SHA256 (Password Storage Cheat Sheet, 2023 on). A stored hash
    /// with fewer rounds is re-hashed with these at its next successful AUTH.
    public static let iterations = 600_000

    /// The rounds a stored hash was made with (nil when it is not one of ours).
    public static func iterations(of stored: String) -> Int? {
        let parts = stored.split(separator: "$")
        guard parts.count == 4, parts[0] == "pbkdf2-sha256" else { return nil }
        return Int(parts[1])
    }

    public static func make(_ secret: String, iterations: Int = PasswordHash.iterations) throws -> String {
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let derived = try derive(secret, salt: salt, iterations: iterations)
        return "pbkdf2-sha256$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())"
    }

    /// Whether `secret` matches `stored`; a malformed `stored` never matches. Compares in constant time.
    public static func verify(_ secret: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$")
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let iterations = Int(parts[1]),
            (1_000...10_000_000).contains(iterations), let salt = Data(base64Encoded: String(parts[2])),
            let expected = Data(base64Encoded: String(parts[3])), expected.count == 32,
            let derived = try? derive(secret, salt: Array(salt), iterations: iterations)
        else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(derived, expected) { difference |= a ^ b }
        return difference == 0
    }

    static func derive(_ secret: String, salt: [UInt8], iterations: Int) throws -> [UInt8] {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(secret.utf8),
            salt: salt,
            using: .sha256,
            outputByteCount: 32,
            unsafeUncheckedRounds: iterations
        )
        return key.withUnsafeBytes { Array($0) }
    }
}
