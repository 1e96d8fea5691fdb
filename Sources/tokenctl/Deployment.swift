import RedisClient
import TokenCentral

/// One deployment as tokenctl sees it: its Redis, its key names and, given `--config`, its apps.
struct Deployment: Sendable {
    let redis: RedisClient
    let keys: TokenKeys
    /// The apps of the tokend configuration; nil with `--redis-url`, where they are discovered with SCAN.
    let configuredApps: [AppConfiguration]?

    /// The apps to show: those configured, else every app with a meta hash under the prefix, sorted.
    func appIDs() async throws(RedisError) -> [String] {
        if let configuredApps { return configuredApps.map(\.appid) }
        let head = "\(keys.prefix):{"
        let tail = "}:meta"
        let pattern = Self.globEscaped(head) + "*" + Self.globEscaped(tail)
        var found: Set<String> = []
        var cursor = "0"
        repeat {
            let reply = try await redis.send("SCAN", cursor, "MATCH", pattern, "COUNT", 500)
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let names = parts[1].array else {
                throw RedisError(.unexpectedReply, "SCAN returned \(reply)", endpoint: redis.endpoint.description)
            }
            for case let key? in names.map(\.string) where key.count > head.count + tail.count {
                // A ticket's meta (`P:{APPID}:jsapi_ticket:meta`) matches the pattern too; no appid has a brace.
                let appid = String(key.dropFirst(head.count).dropLast(tail.count))
                if RefreshMessage.isAppID(appid) { found.insert(appid) }
            }
            cursor = next
        } while cursor != "0"
        return found.sorted()
    }

    /// Sends `commands` in one round trip; an error reply fails the whole batch.
    func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        let replies = try await redis.pipeline(commands)
        for case .error(let message) in replies {
            throw RedisError(reply: message, endpoint: redis.endpoint.description)
        }
        return replies
    }

    /// `text` as a literal inside a `SCAN MATCH` pattern: a prefix may contain glob characters.
    private static func globEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
