import Foundation

/// Parses the body of `/cgi-bin/token`, `/cgi-bin/stable_token` and WeCom `/cgi-bin/gettoken`.
///
/// All three answer HTTP 200 with either `{"access_token":"...","expires_in":7200}` (WeCom adds
/// `"errcode":0`) or `{"errcode":N,"errmsg":"..."}`.
enum TokenResponse {
    private struct Body: Decodable {
        var accessToken: String?
        var expiresIn: Int?
        var errcode: Int?
        var errmsg: String?

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token", expiresIn = "expires_in", errcode, errmsg
        }
    }

    static func parse(status: Int, body: [UInt8], appid: String, endpoint: String) -> Result<FetchedToken, UpstreamError> {
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
        guard let token = decoded.accessToken, !token.isEmpty, let expiresIn = decoded.expiresIn, expiresIn > 0 else {
            return transient("response without access_token/expires_in")
        }
        let (lifetime, wasCapped) = TokenLifetime.capped(expiresInSeconds: expiresIn)
        return .success(FetchedToken(token: token, expiresIn: lifetime, announcedExpiresIn: wasCapped ? .seconds(expiresIn) : nil))
    }
}
