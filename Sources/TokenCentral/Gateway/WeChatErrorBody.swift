import Foundation
import Hummingbird
import NIOCore

/// An answer in WeChat's own error shape, `{"errcode":N,"errmsg":"..."}`, for callers that are WeChat
/// SDKs: they switch on `errcode` (40001 → fetch a new token, -1 → retry), so the codes are WeChat's.
///
/// wechat-mock's `WeChatAPIError` lists the same codes on purpose, not shared: the mock is the
/// independent stand-in for WeChat that these answers are tested against.
struct WeChatErrorBody: Encodable, Sendable, Equatable {
    var errcode: Int
    var errmsg: String

    static let appidMissing = Self(errcode: 41002, errmsg: "appid missing")
    static let appsecretMissing = Self(errcode: 41004, errmsg: "appsecret missing")
    static let corpidMissing = Self(errcode: 41002, errmsg: "corpid missing")
    static let corpsecretMissing = Self(errcode: 41004, errmsg: "corpsecret missing")
    static let invalidGrantType = Self(errcode: 40002, errmsg: "invalid grant_type")
    static let invalidAppid = Self(errcode: 40013, errmsg: "invalid appid")
    static let invalidCorpid = Self(errcode: 40013, errmsg: "invalid corpid")
    static let invalidAppsecret = Self(errcode: 40125, errmsg: "invalid appsecret")
    /// WeCom reports a wrong corpsecret as an invalid credential.
    static let invalidCorpsecret = Self(errcode: 40001, errmsg: "invalid credential")
    static let dataFormatError = Self(errcode: 47001, errmsg: "data format error")
    static let accessTokenMissing = Self(errcode: 41001, errmsg: "access_token missing")
    static let invalidAccessToken = Self(errcode: 40001, errmsg: "invalid credential, access_token is invalid or not latest")

    /// WeChat's "system error": SDKs retry it. `detail` says what went wrong here, never a secret.
    static func systemError(_ detail: String) -> Self {
        Self(errcode: -1, errmsg: "system error: \(detail)")
    }

    /// Errcodes that mean "this access_token is not (or no longer) valid": 40001 invalid credential,
    /// 40014 invalid access_token, 42001 access_token expired.
    static let rejectedTokenCodes: Set<Int> = [40001, 40014, 42001]
}

extension Response {
    /// `value` as JSON, the way WeChat answers: HTTP 200 unless `status` says otherwise.
    static func wechatJSON(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = (try? encoder.encode(value)) ?? Data(#"{"errcode":-1,"errmsg":"system error"}"#.utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json; encoding=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
