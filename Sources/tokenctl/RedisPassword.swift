import Foundation

/// The Redis password for `--redis-url`, from `--redis-password-file` or `TOKENCENTRAL_REDIS_PASSWORD`
/// (as `redis-cli` reads `REDISCLI_AUTH`): a password in argv is visible to every user through `ps`.
enum RedisPassword {
    static let environmentVariable = "TOKENCENTRAL_REDIS_PASSWORD"

    /// The file's content without its trailing newline, else the variable, else nil. Never echoes the value.
    static func read(file: String?, environment: [String: String]) throws -> String? {
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw TokenctlError("cannot read --redis-password-file \(file)")
            }
            let password = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
            guard !password.isEmpty else { throw TokenctlError("--redis-password-file \(file) is empty") }
            return password
        }
        return environment[environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
    }
}
