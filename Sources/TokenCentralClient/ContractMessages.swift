import Foundation

/// The two pub/sub payloads of the Redis contract (docs/redis-contract.md) that business servers use.
/// This library deliberately does not depend on the server library, so it spells them itself.

/// `P:refreshed`: `{"appid":...,"generation":...,"expires_at":...}`, published after each new token.
/// Only the appid matters here: it names the cache entry to drop.
struct RefreshAnnouncement: Decodable {
    var appid: String

    /// The announced appid, or nil for a payload that is not an announcement.
    static func appid(in payload: [UInt8]) -> String? {
        try? JSONDecoder().decode(Self.self, from: Data(payload)).appid
    }
}

/// `P:refresh`: `{"appid":"...","bad_token":"..."}`, a request to replace a token WeChat rejected.
struct InvalidTokenReport: Encodable {
    var appid: String
    var badToken: String

    enum CodingKeys: String, CodingKey {
        case appid, badToken = "bad_token"
    }

    var json: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Two strings always encode; JSONEncoder fails only on non-finite floats and invalid top levels.
        return Array(try! encoder.encode(self))
    }
}
