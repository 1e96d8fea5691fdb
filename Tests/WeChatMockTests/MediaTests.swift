import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import WeChatMock

/// The temporary-media pair: a realistic call with a large body each way.
@Suite struct MediaTests {
    @Test func uploadedMediaIsDownloadedByItsMediaID() async throws {
        let mock = try Fixture.mock()
        let media = ByteBuffer(bytes: (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let downloaded = try await withRouter(mock) { client in
            let token = try #require(try await client.token().accessToken)
            let upload = try await client.execute(uri: "/cgi-bin/media/upload?access_token=\(token)&type=image", method: .post, body: media)
            let mediaID = try #require(try JSONSerialization.jsonObject(with: Data(upload.text.utf8)) as? [String: Any])["media_id"] as? String
            return try await client.execute(uri: "/cgi-bin/media/get?access_token=\(token)&media_id=\(try #require(mediaID))", method: .get)
        }
        #expect(downloaded.status == .ok)
        #expect(downloaded.body == media)
    }

    @Test func mediaCallsValidateTheToken() async throws {
        let mock = try Fixture.mock()
        let body = try await withRouter(mock) { client in
            try await client.execute(uri: "/cgi-bin/media/get?access_token=1_forged&media_id=x", method: .get).decode()
        }
        #expect(body.errcode == 40001)
    }
}
