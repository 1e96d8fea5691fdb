import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import WeChatMock

/// Credentials the test mocks know.
enum Fixture {
    static let appid = "wx-test-app"
    static let secret = "app-secret"
    static let otherAppid = "wx-other-app"
    static let otherSecret = "other-secret"
    static let corpid = "ww-test-corp"
    static let corpsecret = "corp-secret"

    static func mock(
        clock: ManualClock = ManualClock(),
        _ adjust: (inout WeChatMockConfiguration) -> Void = { _ in }
    ) throws -> WeChatMock {
        var configuration = WeChatMockConfiguration(
            apps: [appid: secret, otherAppid: otherSecret],
            corps: [corpid: corpsecret]
        )
        adjust(&configuration)
        return try WeChatMock(configuration: configuration, clock: clock)
    }
}

/// Runs `test` against `mock`'s router, without a network.
func withRouter<R: Sendable>(
    _ mock: WeChatMock,
    _ test: @Sendable (any TestClientProtocol) async throws -> R
) async throws -> R {
    try await buildApplication(mock: mock).test(.router, test)
}

/// Any body the mock's WeChat endpoints answer, every field optional.
struct WeChatBody: Decodable, Equatable {
    var errcode: Int?
    var errmsg: String?
    var accessToken: String?
    var expiresIn: Int?
    var ipList: [String]?
    var ticket: String?

    enum CodingKeys: String, CodingKey {
        case ticket
        case errcode
        case errmsg
        case accessToken = "access_token"
        case expiresIn = "expires_in"
        case ipList = "ip_list"
    }
}

extension TestResponse {
    var text: String { String(buffer: self.body) }

    func decode<T: Decodable>(_ type: T.Type = WeChatBody.self) throws -> T {
        try JSONDecoder().decode(type, from: Data(self.text.utf8))
    }
}

extension TestClientProtocol {
    func token(
        appid: String? = Fixture.appid,
        secret: String? = Fixture.secret,
        grantType: String? = "client_credential"
    ) async throws -> WeChatBody {
        let query = [("grant_type", grantType), ("appid", appid), ("secret", secret)]
            .compactMap { name, value in value.map { "\(name)=\($0)" } }
            .joined(separator: "&")
        return try await self.execute(uri: "/cgi-bin/token?\(query)", method: .get).decode()
    }

    func stableToken(
        appid: String = Fixture.appid,
        secret: String = Fixture.secret,
        forceRefresh: Bool = false
    ) async throws -> WeChatBody {
        let json = """
            {"grant_type":"client_credential","appid":"\(appid)","secret":"\(secret)","force_refresh":\(forceRefresh)}
            """
        return try await self.post("/cgi-bin/stable_token", json: json).decode()
    }

    func corpToken(
        corpid: String = Fixture.corpid,
        corpsecret: String = Fixture.corpsecret
    ) async throws -> WeChatBody {
        try await self.execute(uri: "/cgi-bin/gettoken?corpid=\(corpid)&corpsecret=\(corpsecret)", method: .get)
            .decode()
    }

    func callbackIP(token: String) async throws -> WeChatBody {
        try await self.execute(uri: "/cgi-bin/getcallbackip?access_token=\(token)", method: .get).decode()
    }

    func ticket(token: String, type: String = "jsapi") async throws -> WeChatBody {
        try await self.execute(uri: "/cgi-bin/ticket/getticket?access_token=\(token)&type=\(type)", method: .get).decode()
    }

    func post(_ uri: String, json: String) async throws -> TestResponse {
        try await self.execute(uri: uri, method: .post, body: ByteBuffer(string: json))
    }
}

/// Polls `condition` until it holds, for events another task causes; fails after `timeout`.
func waitUntil(timeout: Duration = .seconds(5), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else {
            throw WaitTimeout()
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}

struct WaitTimeout: Error {}
