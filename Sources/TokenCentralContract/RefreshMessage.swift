import Foundation

/// A forced-refresh request as published on `P:refresh`: `{"appid":"...","bad_token":"..."}`,
/// `bad_token` optional, or a bare appid. Parsing is pure; anything else is rejected with a reason.
public struct RefreshMessage: Sendable, Hashable {
    public var appid: String
    public var badToken: String?

    /// Larger payloads are rejected unread: a token is at most 512 bytes per WeChat's documentation.
    public static let maximumSize = 4096

    public init(appid: String, badToken: String? = nil) {
        self.appid = appid
        self.badToken = badToken
    }

    public enum ParseError: Error, Hashable {
        case tooLarge(Int)
        case malformed
    }

    private struct Body: Codable {
        var appid: String
        var badToken: String?

        enum CodingKeys: String, CodingKey {
            case appid, badToken = "bad_token"
        }
    }

    /// The message as published: `{"appid":...,"bad_token":...}`, `bad_token` omitted when nil.
    public var payload: [UInt8] {
        Array((try? JSONEncoder().encode(Body(appid: appid, badToken: badToken))) ?? Data())
    }

    public static func parse(_ payload: [UInt8]) -> Result<RefreshMessage, ParseError> {
        guard payload.count <= maximumSize else { return .failure(.tooLarge(payload.count)) }
        if payload.first == UInt8(ascii: "{") {
            guard let body = try? JSONDecoder().decode(Body.self, from: Data(payload)), isAppID(body.appid) else {
                return .failure(.malformed)
            }
            let badToken = body.badToken.flatMap { $0.isEmpty ? nil : $0 }
            return .success(RefreshMessage(appid: body.appid, badToken: badToken))
        }
        let bare = String(decoding: payload, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return isAppID(bare) ? .success(RefreshMessage(appid: bare)) : .failure(.malformed)
    }

    /// The appids the contract allows: also enforced on the configuration, so every configured app can
    /// be force-refreshed through `P:refresh`.
    public static func isAppID(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 128 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }
}
