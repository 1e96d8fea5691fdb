import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import RedisClient
import TestSupport
import Testing
import TokenCentral
import WeChatMock

/// One `tokend` worker whose HTTP API a test drives through HummingbirdTesting's router client, with a
/// real Redis (own key prefix, deleted afterwards) and an in-process wechat-mock knowing `appid`.
struct HTTPTestWorker: Sendable {
    static let appid = "wxapp1"
    static let secret = "secret1"
    /// Short enough to check `expires_in` against; long enough that no scheduled refresh (due at about
    /// three quarters of it) adds an upstream call while a test counts them.
    static let tokenLifetime = 30
    /// A WeCom corp the mock knows, for tests that configure a `wecom` app.
    static let corpid = "wwcorp1"
    static let corpsecret = "corpsecret1"

    let application: TokendApplication
    let mock: WeChatMock
    let client: any TestClientProtocol

    var store: TokenStore { application.store }

    /// Runs `body` against a fresh worker. With `refresher`, the worker's refresher runs in a child task
    /// (fetching a first token from the mock at once) and is cancelled when `body` returns.
    static func run(
        apiKey: String? = nil,
        appSecret: String = secret,
        refresher: Bool = true,
        redisURL: String? = nil,
        configure: @Sendable (inout TokendConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (HTTPTestWorker) async throws -> Void
    ) async throws {
        try await withApplication(apiKey: apiKey, appSecret: appSecret, redisURL: redisURL, configure: configure) { application, mock in
            try await withThrowingTaskGroup(of: Void.self) { group in
                if refresher { group.addTask { try await application.refresher.run() } }
                // Closes the gateway's HTTP client when cancelled.
                if let gateway = application.gateway { group.addTask { try await gateway.run() } }
                defer { group.cancelAll() }
                try await application.buildHTTPApplication().test(.router) { client in
                    try await body(HTTPTestWorker(application: application, mock: mock, client: client))
                }
            }
        }
    }

    /// Builds a worker for `appid` against a running mock, on its own key prefix, deleted when `body` returns.
    static func withApplication(
        apiKey: String? = nil,
        appSecret: String = secret,
        port: Int = 0,
        idleTimeout: Duration? = nil,
        redisURL: String? = nil,
        configure: (inout TokendConfiguration) -> Void = { _ in },
        _ body: (TokendApplication, WeChatMock) async throws -> Void
    ) async throws {
        let mock = try WeChatMock(configuration: WeChatMockConfiguration(
            tokenLifetime: tokenLifetime, overlap: .seconds(1), apps: [appid: secret], corps: [corpid: corpsecret]))
        try await withWeChatMockServer(mock) { mockURL in
            var configuration = TokendConfiguration(workerID: "http-test", apps: [AppConfiguration(appid: appid, secret: Secret(appSecret))])
            configuration.redis.url = try redisURL ?? sharedRedisURL()
            configuration.redis.keyPrefix = uniquePrefix("http")
            configuration.upstream.wechatBaseURL = mockURL.absoluteString
            configuration.upstream.timeout = .seconds(2)
            configuration.http.port = port
            configuration.http.apiKey = apiKey.map(Secret.init)
            if let idleTimeout { configuration.http.idleTimeout = idleTimeout }
            // Tests report tokens just fetched; the budget's own tests set it.
            configuration.refresh.forcedMinTokenAge = .zero
            configure(&configuration)
            let application = try TokendApplication(
                configuration: configuration, logger: Logger(label: "http-test", factory: { _ in SwiftLogNoOpLogHandler() }))
            do {
                try await body(application, mock)
            } catch {
                try? await deleteKeys(withPrefix: application.store.keys.prefix, on: application.store.redis)
                throw error
            }
            try await deleteKeys(withPrefix: application.store.keys.prefix, on: application.store.redis)
        }
    }

    /// Waits for the refresher's first token.
    func firstToken() async throws -> TokenRecord {
        try await waitUntil("the refresher stored a token") { try await store.snapshot(Self.appid).status.record != nil }
        return try #require(try await store.snapshot(Self.appid).status.record)
    }

    /// Stores a token as the refresher would, issued now, without an upstream call.
    func seedToken(_ token: String, appid: String = Self.appid) async throws {
        let now = try await store.time().redisNow()
        _ = try await store.write(
            appid: appid, token: token, issued: now...now, lifetimeMillis: Int64(Self.tokenLifetime) * 1000,
            worker: "http-test", grant: .token)
    }

    /// `tokencentral_forced_refresh_total` of the app for `outcome`, read through `GET /metrics`.
    func forcedRefreshCount(_ outcome: String) async throws -> Int {
        let text = try await get("/metrics").text
        return Int(sampleValue(#"tokencentral_forced_refresh_total{app="\#(Self.appid)",outcome="\#(outcome)"}"#, in: text) ?? 0)
    }

    func get(_ uri: String, bearer: String? = nil) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get, headers: Self.headers(bearer: bearer))
    }

    func post(_ uri: String, body: String = "", bearer: String? = nil) async throws -> TestResponse {
        try await post(uri, bytes: ByteBuffer(string: body), bearer: bearer)
    }

    func post(_ uri: String, bytes: ByteBuffer, bearer: String? = nil) async throws -> TestResponse {
        var headers = Self.headers(bearer: bearer)
        headers[.contentLength] = "\(bytes.readableBytes)"
        return try await client.execute(uri: uri, method: .post, headers: headers, body: bytes)
    }

    private static func headers(bearer: String?) -> HTTPFields {
        var headers = HTTPFields()
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        return headers
    }
}

/// The JSON bodies the API answers, every field optional so one type reads them all.
struct HTTPReply: Decodable, Sendable {
    /// One app on `GET /v1/status`.
    struct App: Decodable, Sendable {
        var appid: String
        var state: String
        var generation: Int?
        var lastError: String?

        enum CodingKeys: String, CodingKey {
            case appid, state, generation, lastError = "last_error"
        }
    }

    /// One reason on `GET /readyz`.
    struct Problem: Decodable, Sendable {
        var reason: String
        var message: String
    }

    var status: String?
    var apps: [App]?
    var problems: [Problem]?
    var accessToken: String?
    var expiresIn: Int?
    var generation: Int?
    var refreshed: Bool?
    var error: String?
    var message: String?
    var reason: String?
    /// WeChat-shaped answers (the WeChat-compatible endpoints and the gateway).
    var errcode: Int?
    var errmsg: String?
    var ipList: [String]?
    var mediaID: String?

    enum CodingKeys: String, CodingKey {
        case status, apps, problems, accessToken = "access_token", expiresIn = "expires_in", generation, refreshed, error, message, reason
        case errcode, errmsg, ipList = "ip_list", mediaID = "media_id"
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    func reply() throws -> HTTPReply {
        try JSONDecoder().decode(HTTPReply.self, from: Data(text.utf8))
    }
}
