import Foundation

/// Parses the body of `/cgi-bin/token`, `/cgi-bin/stable_token`, WeCom `/cgi-bin/gettoken`, and
/// `/cgi-bin/ticket/getticket`.
///
/// All answer HTTP 200 with either `{"access_token":"...","expires_in":7200}` (WeCom adds
/// `"errcode":0`; `getticket` has `"ticket"` instead of `"access_token"` and adds `"errcode":0,"errmsg":"ok"`)
/// or `{"errcode":N,"errmsg":"..."}`.
enum TokenResponse {
    /// Which field carries the value.
    enum Field: String {
        case accessToken = "access_token"
        case ticket
    }

    private struct Body: Decodable {
        var accessToken: String?
        var ticket: String?
        var expiresIn: Int?
        var errcode: Int?
        var errmsg: String?

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token", ticket, expiresIn = "expires_in", errcode, errmsg
        }
    }

    static func parse(
        status: Int, body: [UInt8], appid: String, endpoint: String, field: Field = .accessToken
    ) -> Result<FetchedToken, UpstreamError> {
        func transient(_ message: String) -> Result<FetchedToken, UpstreamError> {
            .failure(UpstreamError(kind: .transient, appid: appid, endpoint: endpoint, errcode: nil, errmsg: message,
                                   hint: "retrying with backoff"))
        }
        guard status == 200 else { return transient("HTTP \(status)") }
        guard let decoded = try? JSONDecoder().decode(Body.self, from: Data(body)) else {
            return transient("unreadable response body (\(body.count) bytes)")
        }
        if let errcode = decoded.errcode, errcode != 0 {
            return .failure(.classify(errcode: errcode, errmsg: decoded.errmsg ?? "", appid: appid, endpoint: endpoint))
        }
        let value = field == .ticket ? decoded.ticket : decoded.accessToken
        guard let token = value, !token.isEmpty, let expiresIn = decoded.expiresIn, expiresIn > 0 else {
            return transient("response without \(field.rawValue)/expires_in")
        }
        let (lifetime, wasCapped) = TokenLifetime.capped(expiresInSeconds: expiresIn)
        return .success(FetchedToken(token: token, expiresIn: lifetime, announcedExpiresIn: wasCapped ? .seconds(expiresIn) : nil))
    }
}
