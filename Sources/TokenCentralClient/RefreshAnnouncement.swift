import Foundation

/// What a worker publishes on `P:refreshed` after each new token:
/// `{"appid":...,"generation":...,"expires_at":...}`. Only the appid matters here: it names the cache
/// entry to drop. (This library does not depend on the server library, so it spells the contract itself.)
struct RefreshAnnouncement: Decodable {
    var appid: String

    /// The announced appid, or nil for a payload that is not an announcement.
    static func appid(in payload: [UInt8]) -> String? {
        try? JSONDecoder().decode(Self.self, from: Data(payload)).appid
    }
}
