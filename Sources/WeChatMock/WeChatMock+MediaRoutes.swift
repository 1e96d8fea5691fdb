import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// Largest upload the mock keeps; WeChat's largest media (video) is 20 MB.
private let maximumMediaSize = 32 * 1024 * 1024

extension WeChatMock {
    /// WeChat's temporary media pair, `POST /cgi-bin/media/upload` and `GET /cgi-bin/media/get`, both
    /// validating the token: a realistic call with a large body each way, for the gateway's streaming.
    /// The upload body is kept exactly as sent (multipart framing included) and `get` returns it.
    func addMediaRoutes(to router: Router<BasicRequestContext>) {
        router.post("/cgi-bin/media/upload") { request, _ in
            if let error = self.tokenError(request) { return try Response.json(error) }
            guard let body = try? await request.body.collect(upTo: maximumMediaSize) else {
                return try Response.json(WeChatAPIError.mediaSizeOutOfLimit)
            }
            let mediaID = UUID().uuidString
            self.media.withLock { $0[mediaID] = Array(buffer: body) }
            let type = request.uri.queryParameters.get("type") ?? "image"
            return try Response.json(MediaBody(type: type, mediaID: mediaID, createdAt: Int(Date().timeIntervalSince1970)))
        }

        router.get("/cgi-bin/media/get") { request, _ in
            if let error = self.tokenError(request) { return try Response.json(error) }
            guard let mediaID = request.uri.queryParameters.get("media_id"),
                let bytes = self.media.withLock({ $0[String(mediaID)] })
            else { return try Response.json(WeChatAPIError.invalidMediaID) }
            return Response(
                status: .ok,
                headers: [.contentType: "application/octet-stream", .contentLength: "\(bytes.count)"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
            )
        }
    }
}

/// `media/upload` success.
private struct MediaBody: Encodable {
    var type: String
    var mediaID: String
    var createdAt: Int

    enum CodingKeys: String, CodingKey {
        case type, mediaID = "media_id", createdAt = "created_at"
    }
}
