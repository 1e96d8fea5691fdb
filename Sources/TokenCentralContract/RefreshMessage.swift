import Foundation

/// A forced-refresh request as published on `P:refresh`: `{"appid":"...","bad_token":"..."}`,
/// `bad_token` optional, or a bare appid; for a ticket `{"appid":"...","ticket":"jsapi","bad_ticket":"..."}`,
/// `bad_ticket` optional. Parsing is pure; anything else is rejected with a reason.
public struct RefreshMessage: Sendable, Hashable {
    public var appid: String
    public var badToken: String?
    /// The ticket to refresh instead of the token; nil for the token.
    public var ticket: TicketType?
    /// The ticket a JS-SDK or card call rejected (with `ticket` only).
    public var badTicket: String?

    /// Larger payloads are rejected unread: a token is at most 512 bytes per WeChat's documentation.
    public static let maximumSize = 4096

    public init(appid: String, badToken: String? = nil) {
        self.appid = appid
        self.badToken = badToken
    }

    /// A request to refresh a ticket, naming the rejected one when known.
    public init(appid: String, ticket: TicketType, badTicket: String?) {
        self.appid = appid
        self.ticket = ticket
        self.badTicket = badTicket
    }

    public enum ParseError: Error, Hashable {
        case tooLarge(Int)
        case malformed
    }

    private struct Body: Codable {
        var appid: String
        var badToken: String?
        /// A string, not a `TicketType`: an unknown type is malformed, not silently a token request.
        var ticket: String?
        var badTicket: String?

        enum CodingKeys: String, CodingKey {
            case appid, badToken = "bad_token", ticket, badTicket = "bad_ticket"
        }
    }

    /// The message as published: `{"appid":...,"bad_token":...}`, absent fields omitted (so a token
    /// request is byte for byte what it always was).
    public var payload: [UInt8] {
        Array((try? JSONEncoder().encode(Body(appid: appid, badToken: badToken, ticket: ticket?.rawValue, badTicket: badTicket))) ?? Data())
    }

    public static func parse(_ payload: [UInt8]) -> Result<RefreshMessage, ParseError> {
        guard payload.count <= maximumSize else { return .failure(.tooLarge(payload.count)) }
        if payload.first == UInt8(ascii: "{") {
            guard let body = try? JSONDecoder().decode(Body.self, from: Data(payload)), isAppID(body.appid) else {
                return .failure(.malformed)
            }
            let badToken = body.badToken.flatMap { $0.isEmpty ? nil : $0 }
            guard let name = body.ticket else { return .success(RefreshMessage(appid: body.appid, badToken: badToken)) }
            guard let ticket = TicketType(rawValue: name), body.badToken == nil else { return .failure(.malformed) }
            return .success(RefreshMessage(appid: body.appid, ticket: ticket, badTicket: body.badTicket.flatMap { $0.isEmpty ? nil : $0 }))
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
