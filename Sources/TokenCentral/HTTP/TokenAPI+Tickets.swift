import Foundation
import Hummingbird
import Logging
import RedisClient

/// `{"ticket":"...","expires_in":N}`: the fields of WeChat's `getticket` answer that a page server uses.
struct TicketBody: ResponseEncodable, Sendable {
    var ticket: String
    var expiresIn: Int

    enum CodingKeys: String, CodingKey {
        case ticket, expiresIn = "expires_in"
    }
}

/// `{"appId":...,"timestamp":...,"nonceStr":...,"signature":...}`: the fields of `wx.config` as the JS-SDK
/// names them, so a page passes the answer on unchanged.
struct JSSDKConfigBody: ResponseEncodable, Sendable {
    var appId: String
    var timestamp: Int64
    var nonceStr: String
    var signature: String
}

/// The body of `POST .../jssdk-config`.
private struct JSSDKConfigRequest: Decodable {
    var url: String?
}

extension TokenAPI {
    /// The ticket routes under `/v1` (behind its bearer key).
    func addTicketRoutes(to v1: RouterGroup<BasicRequestContext>) {
        v1.get("apps/{appid}/tickets/{type}") { _, context in
            try await ticket(
                appid: try context.parameters.require("appid"), typeName: try context.parameters.require("type"), logger: context.logger)
        }
        v1.post("apps/{appid}/jssdk-config") { request, context in
            try await jssdkConfig(appid: try context.parameters.require("appid"), body: request.body, logger: context.logger)
        }
    }

    /// `GET /v1/apps/{appid}/tickets/{type}`: the ticket as readers `GET` it from Redis, with its whole
    /// seconds left; the ticket's meta is read only to say why there is none.
    func ticket(appid: String, typeName: String, logger: Logger) async throws(APIError) -> TicketBody {
        try requireConfigured(appid)
        guard let type = TicketType(rawValue: typeName) else {
            let valid = TicketType.allCases.map(\.rawValue).joined(separator: ", ")
            throw APIError(.badRequest, "\(APIError.quoted(typeName)) is not a ticket type; expected one of \(valid)")
        }
        let readable = try await currentTicket(appid, type, logger: logger)
        return TicketBody(ticket: readable.ticket, expiresIn: readable.millisecondsLeft / 1000)
    }

    /// `POST /v1/apps/{appid}/jssdk-config` with `{"url":...}`: a `wx.config` signature for that page, made
    /// with the current jsapi_ticket, a fresh nonce and the current time.
    func jssdkConfig(appid: String, body: RequestBody, logger: Logger) async throws -> JSSDKConfigBody {
        try requireConfigured(appid)
        let url = try await Self.pageURL(in: body)
        let ticket = try await currentTicket(appid, .jsapi, logger: logger)
        var generator = SystemRandomNumberGenerator()
        let signature = JSSDKSignature(
            jsapiTicket: ticket.ticket, nonceStr: JSSDKSignature.nonce(using: &generator),
            timestamp: Int64(Date().timeIntervalSince1970), url: url.value)
        return JSSDKConfigBody(appId: appid, timestamp: signature.timestamp, nonceStr: signature.nonceStr, signature: signature.signature)
    }

    /// The stored ticket of a type the app is configured with: 404 for a type it is not, 503 (with the
    /// last upstream error) while there is no valid one.
    private func currentTicket(_ appid: String, _ type: TicketType, logger: Logger) async throws(APIError) -> (ticket: String, millisecondsLeft: Int) {
        guard apps[appid]?.tickets.contains(type) == true else {
            throw APIError(.ticketNotConfigured, "app \(appid) is not configured with the \(type.rawValue) ticket (add it to the app's tickets:)")
        }
        let readable = try await fromStore(appid, logger: logger) { store throws(RedisError) in try await store.readableTicket(appid, type) }
        if let readable { return readable }
        let lastError = try await fromStore(appid, logger: logger) { store throws(RedisError) in try await store.ticketLastError(appid, type) }
        let cause = lastError.map { " (last upstream error: \($0))" } ?? ""
        throw APIError(.ticketUnavailable, "no valid \(type.rawValue) ticket for \(appid) yet\(cause)")
    }

    /// The validated page URL of a `jssdk-config` body.
    private static func pageURL(in body: RequestBody) async throws -> JSSDKPageURL {
        let buffer = try await body.collect(upTo: JSSDKPageURL.maximumLength + 1024)
        guard let request = try? JSONDecoder().decode(JSSDKConfigRequest.self, from: Data(buffer.readableBytesView)) else {
            throw APIError(.badRequest, #"the body must be a JSON object such as {"url":"https://example.com/page?x=1"}"#)
        }
        do {
            return try JSSDKPageURL(validating: request.url)
        } catch {
            throw APIError(.badRequest, error.description)
        }
    }
}
