import HummingbirdBcrypt
import NIOPosix
import TesseraCore

/// bcrypt on NIO's blocking thread pool, so a hash (tens of milliseconds at cost 10) never stalls an event loop.
public struct PasswordHasher: Sendable {
    public let cost: UInt8

    public init(cost: UInt8 = 10) {
        self.cost = cost
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}

/// Auth0's "fair" policy: at least 8 characters with lower case, upper case and digits.
/// At most 72 bytes, since bcrypt ignores everything after that.
public enum PasswordPolicy {
    public static func check(_ password: String) throws {
        let long = password.count >= 8
        let lower = password.contains(where: \.isLowercase)
        let upper = password.contains(where: \.isUppercase)
        let digit = password.contains(where: \.isNumber)
        guard long, lower, upper, digit else {
            throw DomainError(.invalidInput, code: "password_strength_error",
                              "PasswordStrengthError: Password is too weak (at least 8 characters with lower case, upper case and digits)")
        }
        guard password.utf8.count <= 72 else {
            throw DomainError(.invalidInput, code: "password_too_long", "PasswordStrengthError: Password is longer than 72 bytes")
        }
    }
}

extension PasswordHasher {
    /// Verifications per second on `tasks` concurrent workers: the ceiling for password sign-ins.
    public func verificationsPerSecond(seconds: Double, tasks: Int) async throws -> Double {
        let hash = try await self.hash("Benchmark-Passw0rd")
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start.advanced(by: .milliseconds(Int(seconds * 1000)))
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    var count = 0
                    while clock.now < deadline {
                        _ = try await self.verify("Benchmark-Passw0rd", hash: hash)
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = start.duration(to: clock.now)
        return Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
