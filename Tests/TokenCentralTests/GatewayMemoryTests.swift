import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
import TokenCentral
import WeChatMock

/// Media through the gateway of a real `tokend` process: bodies stream, so the worker's memory does not
/// grow with their size.
@Suite(.timeLimit(.minutes(2))) struct GatewayMemoryTests {
    static let appid = "wxmedia"
    static let mediaSize = 10 * 1024 * 1024
    /// The worker's peak RSS may grow by at most this much while 10 MiB go up and 10 MiB come back:
    /// buffering either body whole would exceed it.
    static let peakGrowthBound = 6 * 1024 * 1024

    @Test func tenMegabytesUpAndDownThroughTheGatewayKeepTheWorkersPeakRSSGrowthUnderSixMegabytes() async throws {
        let mock = try WeChatMock(configuration: WeChatMockConfiguration(apps: [Self.appid: "s1"]))
        try await withWeChatMockServer(mock) { url in
            let fleet = try await WorkerFailureTests.fleet(mock: mock, url: url)
            let port = try freeLoopbackPort()
            let workers = try WorkerProcesses(
                count: 1, appid: Self.appid, secret: "s1", redisURL: fleet.redisURL, prefix: fleet.prefix, mockURL: url,
                listener: "http:\n  port: \(port)\ngateway:\n  enabled: true")
            do {
                try await fleet.waitForGeneration(Self.appid, atLeast: 1)
                let token = try #require(try await fleet.currentToken(Self.appid))
                let worker = try #require(workers.processes["proc-0"])
                try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
                    // A first, small round trip allocates what any call needs (connections, buffers).
                    let small = ByteBuffer(repeating: 7, count: 256 * 1024)
                    #expect(try await Self.roundTrip(small, token: token, client: client) == small)
                    let before = try Self.peakRSS(of: worker.pid)
                    let media = ByteBuffer(bytes: (0..<Self.mediaSize).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
                    #expect(try await Self.roundTrip(media, token: token, client: client) == media)
                    let growth = try Self.peakRSS(of: worker.pid) - before
                    #expect(growth < Self.peakGrowthBound, "peak RSS grew by \(growth) bytes")
                }
            } catch {
                await workers.stopAll()
                throw error
            }
            await workers.stopAll()
        }
    }

    /// Uploads `media` through the gateway and downloads it again.
    static func roundTrip(_ media: ByteBuffer, token: String, client: TestClient) async throws -> ByteBuffer {
        var headers = HTTPFields()
        headers[.contentLength] = "\(media.readableBytes)"
        let upload = try await client.post("/cgi-bin/media/upload?access_token=\(token)&type=video", headers: headers, body: media)
        let text = upload.body.map { String(buffer: $0) } ?? ""
        let mediaID = try #require(try JSONDecoder().decode(HTTPReply.self, from: Data(text.utf8)).mediaID, "upload answered \(text)")
        return try #require(try await client.get("/cgi-bin/media/get?access_token=\(token)&media_id=\(mediaID)").body)
    }

    /// The process's peak resident set size (`VmHWM`), in bytes.
    static func peakRSS(of pid: pid_t) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { throw TestSupportError("no VmHWM in /proc/\(pid)/status") }
        return kilobytes * 1024
    }
}
