import Foundation
import HummingbirdTesting
import NIOCore
import Testing
import WeChatMock

/// Running the mock as a real server, in-process.
@Suite struct WeChatMockServerTests {
    @Test func servesOnAFreeLoopbackPort() async throws {
        let mock = try Fixture.mock()
        let (url, body) = try await withWeChatMockServer(mock) { url in
            let response = try await TestClient.withClient(host: "127.0.0.1", port: try #require(url.port)) { client in
                let query = "grant_type=client_credential&appid=\(Fixture.appid)&secret=\(Fixture.secret)"
                return try await client.get("/cgi-bin/token?\(query)")
            }
            return (url, String(buffer: try #require(response.body)))
        }
        #expect(url.absoluteString.hasPrefix("http://127.0.0.1:"))
        #expect(url.port != 0)
        #expect(body.contains("access_token"))
    }

    @Test func failsWhenThePortIsTaken() async throws {
        let mock = try Fixture.mock()
        try await withWeChatMockServer(mock) { url in
            _ = await #expect(throws: (any Error).self) {
                try await withWeChatMockServer(mock, port: try #require(url.port)) { _ in }
            }
        }
    }

    @Test func invalidConfigurationNamesTheField() {
        let error = #expect(throws: WeChatMockConfigurationError.self) {
            try WeChatMock(configuration: WeChatMockConfiguration(overlap: .seconds(-1)))
        }
        #expect(error?.field == "overlap")
    }
}
