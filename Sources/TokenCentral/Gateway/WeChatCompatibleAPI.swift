import Foundation
import Hummingbird
import Logging
import NIOCore
import RedisClient

/// WeChat's own token endpoints on the worker's listener, so an SDK whose API host points here gets
/// the central token without a code change: `GET /cgi-bin/token`, `POST /cgi-bin/stable_token` and
/// WeCom's `GET /cgi-bin/gettoken`.
///
/// They never call WeChat: the answer is the token in Redis with `expires_in` set to its seconds left.
/// The caller authenticates as it does with WeChat, with the app secret, compared in constant time
/// against the configured one; mistakes get WeChat's errcodes, checked in WeChat's order.
struct WeChatCompatibleAPI: Sendable {
    let store: TokenStore
    let reporter: TokenReporter
    /// Every configured app: WeChat apps (grants `token` and `stable_token`, either endpoint serves
    /// either) are found here by appid.
    let apps: AppDirectory
    /// WeCom apps by corpid: several apps (agents) of one corp each have their own secret.
    let wecomApps: [String: [AppConfiguration]]
    /// How long `stable_token` with `force_refresh` waits for the new token.
    let refreshDeadline: Duration
    /// The gateway's, when it is enabled: a token handed out here is one the gateway must accept.
    let gatewayIndex: TokenIndex?

    init(_ application: TokendApplication) {
        store = application.store
        reporter = TokenReporter(store: application.store, refresher: application.refresher)
        apps = application.apps
        wecomApps = Dictionary(grouping: apps.apps.filter { $0.grant == .wecom }) { $0.corpid ?? "" }
        refreshDeadline = application.configuration.upstream.timeout + .seconds(2)
        gatewayIndex = application.gateway?.index
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/cgi-bin/token") { request, context in
            let query = request.uri.queryParameters
            return await token(appid: query.get("appid"), secret: query.get("secret"), grantType: query.get("grant_type"),
                               forceRefresh: false, logger: context.logger)
        }
        router.post("/cgi-bin/stable_token") { request, context in
            guard let buffer = try? await request.body.collect(upTo: 64 * 1024),
                let body = try? JSONDecoder().decode(StableTokenRequest.self, from: Data(buffer.readableBytesView))
            else { return Response.wechatJSON(WeChatErrorBody.dataFormatError) }
            return await token(appid: body.appid, secret: body.secret, grantType: body.grantType,
                               forceRefresh: body.forceRefresh ?? false, logger: context.logger)
        }
        router.get("/cgi-bin/gettoken") { request, context in
            let query = request.uri.queryParameters
            return await corpToken(corpid: query.get("corpid"), corpsecret: query.get("corpsecret"), logger: context.logger)
        }
    }

    /// `/cgi-bin/token` and `stable_token`. `force_refresh` reports the current token (budgeted and
    /// deduplicated like any report) and answers its replacement.
    private func token(appid: String?, secret: String?, grantType: String?, forceRefresh: Bool, logger: Logger) async -> Response {
        guard let appid = Self.present(appid) else { return .wechatJSON(WeChatErrorBody.appidMissing) }
        guard let secret = Self.present(secret) else { return .wechatJSON(WeChatErrorBody.appsecretMissing) }
        guard grantType == "client_credential" else { return .wechatJSON(WeChatErrorBody.invalidGrantType) }
        guard let app = apps[appid], app.grant != .wecom else { return .wechatJSON(WeChatErrorBody.invalidAppid) }
        guard Self.matches(secret, app) else {
            logger.info("WeChat-compatible token request with a wrong secret", metadata: [LogKey.appID: "\(appid)"])
            return .wechatJSON(WeChatErrorBody.invalidAppsecret)
        }
        return await currentToken(appid, forceRefresh: forceRefresh, logger: logger) {
            AccessTokenBody(accessToken: $0, expiresIn: $1)
        }
    }

    /// WeCom `gettoken`: the corp's app whose secret matches; WeCom answers `errcode` 0 on success too.
    private func corpToken(corpid: String?, corpsecret: String?, logger: Logger) async -> Response {
        guard let corpid = Self.present(corpid) else { return .wechatJSON(WeChatErrorBody.corpidMissing) }
        guard let corpsecret = Self.present(corpsecret) else { return .wechatJSON(WeChatErrorBody.corpsecretMissing) }
        guard let apps = wecomApps[corpid] else { return .wechatJSON(WeChatErrorBody.invalidCorpid) }
        // Every candidate is compared (no early exit), so timing does not tell which agent's secret is near.
        let matching = apps.filter { Self.matches(corpsecret, $0) }
        guard let app = matching.first else {
            logger.info("WeChat-compatible gettoken with a wrong corpsecret", metadata: [LogKey.corpID: "\(corpid)"])
            return .wechatJSON(WeChatErrorBody.invalidCorpsecret)
        }
        return await currentToken(app.appid, forceRefresh: false, logger: logger) {
            CorpTokenBody(token: AccessTokenBody(accessToken: $0, expiresIn: $1))
        }
    }

    /// The stored token (or, with `forceRefresh`, its replacement) in the shape `body` makes; WeChat's
    /// -1 "system error", which SDKs retry, when there is none or Redis cannot be read.
    private func currentToken<Body: Encodable>(
        _ appid: String, forceRefresh: Bool, logger: Logger, _ body: (String, Int) -> Body
    ) async -> Response {
        do {
            var current = try await store.readableToken(appid)
            if forceRefresh, let reported = current {
                current = try await reporter.reportAndAwaitReplacement(appid: appid, badToken: reported.token, wait: refreshDeadline)
                guard current != nil else {
                    return .wechatJSON(WeChatErrorBody.systemError("no new token for \(appid) within \(refreshDeadline); retry later"))
                }
            }
            guard let current else { return .wechatJSON(WeChatErrorBody.systemError("no valid token for \(appid) yet; retry shortly")) }
            await gatewayIndex?.observe(appid: appid, token: current.token)
            return .wechatJSON(body(current.token, current.millisecondsLeft / 1000))
        } catch {
            logger.info("cannot read the token store", metadata: [LogKey.appID: "\(appid)", LogKey.error: "\(error)"])
            return .wechatJSON(WeChatErrorBody.systemError("the token store is unreachable; retry shortly"))
        }
    }

    private static func matches(_ presented: String, _ app: AppConfiguration) -> Bool {
        Secret.constantTimeEquals(presented.utf8, app.secret.value.utf8)
    }

    /// WeChat treats an empty parameter as a missing one.
    private static func present(_ value: String?) -> String? {
        value.flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// `stable_token`'s JSON body; every field optional so a missing one gets WeChat's errcode.
private struct StableTokenRequest: Decodable {
    var grantType: String?
    var appid: String?
    var secret: String?
    var forceRefresh: Bool?

    enum CodingKeys: String, CodingKey {
        case grantType = "grant_type", appid, secret, forceRefresh = "force_refresh"
    }
}

/// WeCom `gettoken` success: WeChat's token body plus `errcode` 0 and `errmsg` "ok", which WeCom
/// (unlike WeChat) sends on success too.
private struct CorpTokenBody: Encodable {
    var token: AccessTokenBody

    private enum CodingKeys: String, CodingKey {
        case errcode, errmsg
    }

    func encode(to encoder: any Encoder) throws {
        try token.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(0, forKey: .errcode)
        try container.encode("ok", forKey: .errmsg)
    }
}
