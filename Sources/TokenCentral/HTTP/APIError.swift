import Hummingbird

/// An error answered to an API client as `{"error":"<code>","message":"<text>"}`, plus `"reason"` when a
/// forced refresh was refused.
///
/// `code` is the contract: clients switch on it, so its spellings never change. `message` is for a
/// person reading a log or a terminal; it never holds a secret or a token.
struct APIError: HTTPResponseError, Sendable {
    enum Code: String, Sendable {
        case badRequest = "bad_request"
        case unauthorized
        case unknownApp = "unknown_app"
        case notFound = "not_found"
        case payloadTooLarge = "payload_too_large"
        case tokenUnavailable = "token_unavailable"
        /// The app is configured, but not with this ticket type (`tickets:` in its configuration).
        case ticketNotConfigured = "ticket_not_configured"
        /// No valid ticket in Redis yet; the message carries the last upstream error when there is one.
        case ticketUnavailable = "ticket_unavailable"
        case redisUnavailable = "redis_unavailable"
        case refreshTimeout = "refresh_timeout"
        /// Too many refresh requests wait on this worker already; retry after `Retry-After` seconds.
        case busy
        /// A forced refresh refused by the app's forced-refresh budget (`ForcedRefreshBudget`).
        case refreshBudget = "refresh_budget"
        /// A forced refresh refused because upstream refuses the app (configuration, risk control, quota)
        /// or the stable_token force allowance is used up.
        case refreshRefused = "refresh_refused"
        case internalError = "internal_error"

        var status: HTTPResponse.Status {
            switch self {
            case .badRequest: .badRequest
            case .unauthorized: .unauthorized
            case .unknownApp, .notFound, .ticketNotConfigured: .notFound
            case .payloadTooLarge: .contentTooLarge
            case .tokenUnavailable, .ticketUnavailable, .redisUnavailable, .busy: .serviceUnavailable
            case .refreshTimeout: .gatewayTimeout
            case .refreshBudget: .tooManyRequests
            case .refreshRefused: .serviceUnavailable
            case .internalError: .internalServerError
            }
        }
    }

    var code: Code
    var message: String
    /// For a refused forced refresh: why, and when to try again, for a person; nil otherwise.
    var reason: String?

    init(_ code: Code, _ message: String, reason: String? = nil) {
        self.code = code
        self.message = message
        self.reason = reason
    }

    var status: HTTPResponse.Status { code.status }

    /// Client input as quoted in a message: at most 64 characters, so a 10,000-character appid is not
    /// sent back whole (nor written whole to a log).
    static func quoted(_ input: some StringProtocol) -> String {
        let limit = 64
        guard input.count > limit else { return String(input) }
        return "\(input.prefix(limit))… (\(input.count) characters)"
    }

    private struct Body: Encodable {
        var error: String
        var message: String
        var reason: String?
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try context.responseEncoder.encode(Body(error: code.rawValue, message: message, reason: reason), from: request, context: context)
        response.status = status
        // RFC 6750: a 401 names the scheme the client should use.
        if code == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        if code == .busy { response.headers[.retryAfter] = "1" }
        return response
    }
}
