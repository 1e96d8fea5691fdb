import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Calls the token endpoints of WeChat and WeCom with AsyncHTTPClient.
///
/// Returns a classified `UpstreamError` instead of throwing: every failure is an expected outcome the
/// refresher schedules around. The secret travels only in the request; it is scrubbed from anything
/// that comes back, in case an error ever echoed it.
public struct WeChatUpstream: Sendable {
    public let settings: TokendConfiguration.Upstream
    private let http: HTTPClient
    /// Bodies are a few hundred bytes; anything larger is not a token response.
    private static let maximumBodySize = 64 * 1024

    public init(settings: TokendConfiguration.Upstream, http: HTTPClient = .shared) {
        self.settings = settings
        self.http = http
    }

    /// Fetches a token for `app`. `forceRefresh` only matters for stable_token apps (`force_refresh:true`).
    public func fetch(_ app: AppConfiguration, forceRefresh: Bool = false) async -> Result<FetchedToken, UpstreamError> {
        let endpoint = Self.endpointPath(app.grant)
        var request: HTTPClientRequest
        switch app.grant {
        case .token:
            request = HTTPClientRequest(url: settings.wechatBaseURL + endpoint + "?" + Self.query([
                ("grant_type", "client_credential"), ("appid", app.appid), ("secret", app.secret.value),
            ]))
        case .stableToken:
            request = HTTPClientRequest(url: settings.wechatBaseURL + endpoint)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            let body: [String: any Sendable] = [
                "grant_type": "client_credential", "appid": app.appid, "secret": app.secret.value, "force_refresh": forceRefresh,
            ]
            request.body = .bytes(ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: body)) ?? Data()))
        case .wecom:
            request = HTTPClientRequest(url: settings.wecomBaseURL + endpoint + "?" + Self.query([
                ("corpid", app.corpid ?? ""), ("corpsecret", app.secret.value),
            ]))
        }
        return await execute(request, appid: app.appid, endpoint: endpoint, secret: app.secret.value, field: .accessToken)
    }

    /// Sends `request` and parses its answer; every failure becomes a classified `UpstreamError` with
    /// `secret` (an AppSecret, or the access_token a ticket call carries) scrubbed from it.
    func execute(
        _ request: HTTPClientRequest, appid: String, endpoint: String, secret: String, field: TokenResponse.Field
    ) async -> Result<FetchedToken, UpstreamError> {
        let result: Result<FetchedToken, UpstreamError>
        do {
            let response = try await http.execute(request, timeout: .nanoseconds(Int64(settings.timeout.milliseconds) * 1_000_000))
            let body = try await response.body.collect(upTo: Self.maximumBodySize)
            result = TokenResponse.parse(
                status: Int(response.status.code), body: Array(buffer: body), appid: appid, endpoint: endpoint, field: field)
        } catch {
            let reason = (error as? HTTPClientError) == .deadlineExceeded ? "no answer within \(settings.timeout)" : "request failed: \(error)"
            result = .failure(UpstreamError(kind: .transient, appid: appid, endpoint: endpoint, errcode: nil, errmsg: reason,
                                            hint: "network or timeout; retrying with backoff"))
        }
        return result.mapError { error in
            var scrubbed = error
            scrubbed.errmsg = error.errmsg.replacingOccurrences(of: secret, with: "<redacted>")
            return scrubbed
        }
    }

    static func endpointPath(_ grant: Grant) -> String {
        switch grant {
        case .token: "/cgi-bin/token"
        case .stableToken: "/cgi-bin/stable_token"
        case .wecom: "/cgi-bin/gettoken"
        }
    }

    static func query(_ items: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return items.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }.joined(separator: "&")
    }
}
