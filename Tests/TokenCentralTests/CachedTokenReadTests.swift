import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@testable import TokenCentral

/// `GET /v1/apps/{appid}/access_token` answered on the event loop from memory (`CachedTokenReadHandler`):
/// the same answer as the router's, in order behind a pipelined request, under the idle timeout and the
/// API key like any other request.
@Suite(.timeLimit(.minutes(1))) struct CachedTokenReadTests {
    static let tokenPath = "/v1/apps/\(HTTPTestWorker.appid)/access_token"

    @Test func aReadFromMemoryAnswersWhatTheRouterAnswered() async throws {
        try await Self.withLiveWorker { worker in
            let (routed, fromMemory) = try await worker.readUntilAnsweredFromMemory()
            #expect(fromMemory.status == .ok)
            #expect(fromMemory.headers[.contentType] == routed.headers[.contentType])
            #expect(fromMemory.headers[.date] != nil)
            let routedBody = try JSONDecoder().decode(Body.self, from: Data(String(buffer: routed.body).utf8))
            let body = try JSONDecoder().decode(Body.self, from: Data(String(buffer: fromMemory.body).utf8))
            #expect(body.access_token == routedBody.access_token)
            #expect(abs(body.expires_in - routedBody.expires_in) <= 1)
            #expect(fromMemory.headers[.contentLength] == String(fromMemory.body.readableBytes))
        }
    }

    @Test func aPipelinedReadIsAnsweredAfterTheRequestBeforeIt() async throws {
        try await Self.withLiveWorker { worker in
            _ = try await worker.readUntilAnsweredFromMemory()
            let connection = try RawConnection(port: worker.port)
            defer { connection.close() }
            connection.send("GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\nGET \(Self.tokenPath) HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let text = try await connection.receive { $0.contains("access_token") && $0.contains("ready") && $0.hasSuffix("}") }
            let answers = text.components(separatedBy: "HTTP/1.1 ").filter { !$0.isEmpty }
            #expect(answers.count == 2)
            #expect(answers.first?.contains("\"ready\"") == true)
            #expect(answers.last?.contains("access_token") == true)
        }
    }

    @Test func aConnectionReadingFromMemoryOutlivesTheIdleTimeout() async throws {
        // Entries held longer than the test: once one read filled memory, every later one comes from it.
        // The idle timeout is long next to the 100 ms between reads, so a loaded machine's pauses fit in it.
        try await Self.withLiveWorker(idleTimeout: .seconds(3), cacheMaxAge: .seconds(60)) { worker in
            let before = worker.readsFromMemory()
            try await waitUntil("a read answered from memory", timeout: .seconds(20)) {
                _ = try await worker.client.execute(uri: Self.tokenPath, method: .get)
                return worker.readsFromMemory() > before
            }
            let connection = try RawConnection(port: worker.port)
            defer { connection.close() }
            let fromMemory = worker.readsFromMemory()
            let started = ContinuousClock.now
            var reads = 0
            while ContinuousClock.now - started < .seconds(7) {
                connection.send("GET \(Self.tokenPath) HTTP/1.1\r\nHost: localhost\r\n\r\n")
                _ = try await connection.receive { $0.hasSuffix("}") }
                reads += 1
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(!connection.isClosedByPeer)
            #expect(worker.readsFromMemory() - fromMemory == reads)
        }
    }

    @Test func aWrongKeyIsRefusedThoughTheTokenIsInMemory() async throws {
        try await Self.withLiveWorker(apiKey: "the-key") { worker in
            _ = try await worker.readUntilAnsweredFromMemory(headers: [.authorization: "Bearer the-key"])
            let wrong = try await worker.client.execute(uri: Self.tokenPath, method: .get, headers: [.authorization: "Bearer the-kez"])
            #expect(wrong.status == .unauthorized)
            let none = try await worker.client.execute(uri: Self.tokenPath, method: .get)
            #expect(none.status == .unauthorized)
        }
    }

    @Test(arguments: [
        ("/v1/apps/wx1/access_token", "wx1"),
        ("/v1/apps/wx1/access_token?x=1", nil),
        ("/v1/apps//access_token", nil),
        ("/v1/apps/a/b/access_token", nil),
        ("/v1/apps/wx%31/access_token", nil),
        ("/v1/apps/wx1/refresh", nil),
    ] as [(String, String?)])
    func onlyAPlainTokenPathIsAnsweredFromMemory(path: String, appid: String?) {
        #expect(CachedTokenReadHandler.appid(inTokenPath: path) == appid)
    }

    @Test func theDateHeaderIsAnIMFFixdate() {
        #expect(HTTPDate.imfFixdate(secondsSince1970: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.imfFixdate(secondsSince1970: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }

    private struct Body: Decodable {
        var access_token: String
        var expires_in: Int
    }

    /// A worker serving HTTP on a loopback port, its refresher running (the subscription that lets
    /// memory serve reads), a token fetched from the mock.
    private static func withLiveWorker(
        apiKey: String? = nil, idleTimeout: Duration? = nil, cacheMaxAge: Duration = TokenView.defaultMaxAge,
        _ body: @escaping @Sendable (LiveWorker) async throws -> Void
    ) async throws {
        try await HTTPTestWorker.withApplication(
            apiKey: apiKey, idleTimeout: idleTimeout, configure: { $0.http.tokenCacheMaxAge = cacheMaxAge }
        ) { application, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await application.refresher.run() }
                defer { group.cancelAll() }
                try await application.buildHTTPApplication().test(.live) { client in
                    try await body(LiveWorker(application: application, client: client, port: try #require(client.port)))
                }
            }
        }
    }

    private struct LiveWorker: Sendable {
        let application: TokendApplication
        let client: any TestClientProtocol
        let port: Int

        /// `tokencentral_http_token_reads_from_memory_total` as `/metrics` renders it.
        func readsFromMemory() -> Int {
            let text = String(decoding: application.renderMetrics(), as: UTF8.self)
            let line = text.split(separator: "\n").first { $0.hasPrefix("tokencentral_http_token_reads_from_memory_total ") }
            return Int(line?.split(separator: " ").last ?? "") ?? 0
        }

        /// Reads the token until an answer comes from memory; returns it and the router's answer before it.
        func readUntilAnsweredFromMemory(headers: HTTPFields = [:]) async throws -> (routed: TestResponse, fromMemory: TestResponse) {
            var routed: TestResponse?
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                let before = readsFromMemory()
                let response = try await client.execute(uri: CachedTokenReadTests.tokenPath, method: .get, headers: headers)
                if readsFromMemory() > before, let routed { return (routed, response) }
                if response.status == .ok { routed = response }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw TestSupportError("no token read was answered from memory within 20 s")
        }
    }
}
