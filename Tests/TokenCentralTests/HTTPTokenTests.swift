import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TokenCentral

/// `GET /v1/apps/{appid}/access_token` and the bearer key guarding `/v1`.
@Suite(.timeLimit(.minutes(1))) struct HTTPTokenTests {
    @Test func getTokenAnswersInWeChatShapeWithExpiresInWithinLifetime() async throws {
        try await HTTPTestWorker.run { worker in
            let record = try await worker.firstToken()
            let response = try await worker.get("/v1/apps/\(HTTPTestWorker.appid)/access_token")
            #expect(response.status == .ok)
            let fields = try #require(try JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
            #expect(Set(fields.keys) == ["access_token", "expires_in"])
            let reply = try response.reply()
            #expect(reply.accessToken == record.token)
            let expiresIn = try #require(reply.expiresIn)
            #expect((1...HTTPTestWorker.tokenLifetime).contains(expiresIn))
        }
    }

    @Test func getTokenIs503BeforeAnyToken() async throws {
        try await HTTPTestWorker.run(refresher: false) { worker in
            let response = try await worker.get("/v1/apps/\(HTTPTestWorker.appid)/access_token")
            #expect(response.status == .serviceUnavailable)
            #expect(try response.reply().error == "token_unavailable")
        }
    }

    @Test func unknownAppIs404() async throws {
        try await HTTPTestWorker.run(refresher: false) { worker in
            let get = try await worker.get("/v1/apps/wxstranger/access_token")
            #expect(get.status == .notFound)
            #expect(try get.reply().error == "unknown_app")
            let refresh = try await worker.post("/v1/apps/wxstranger/refresh")
            #expect(refresh.status == .notFound)
            #expect(try refresh.reply().error == "unknown_app")
        }
    }

    @Test func missingBearerIs401() async throws {
        try await HTTPTestWorker.run(apiKey: "k3y", refresher: false) { worker in
            let response = try await worker.get("/v1/apps/\(HTTPTestWorker.appid)/access_token")
            #expect(response.status == .unauthorized)
            #expect(try response.reply().error == "unauthorized")
            #expect(response.headers[.wwwAuthenticate] == "Bearer")
        }
    }

    @Test(arguments: ["k3z", "k3y-", "K3Y", ""])
    func wrongBearerIs401(presented: String) async throws {
        try await HTTPTestWorker.run(apiKey: "k3y", refresher: false) { worker in
            let response = try await worker.get("/v1/apps/\(HTTPTestWorker.appid)/access_token", bearer: presented)
            #expect(response.status == .unauthorized)
            #expect(try response.reply().error == "unauthorized")
            #expect(!response.text.contains("k3y"))
        }
    }

    @Test func rightBearerIs200() async throws {
        try await HTTPTestWorker.run(apiKey: "k3y", refresher: false) { worker in
            try await worker.seedToken("seeded-token")
            let response = try await worker.get("/v1/apps/\(HTTPTestWorker.appid)/access_token", bearer: "k3y")
            #expect(response.status == .ok)
            #expect(try response.reply().accessToken == "seeded-token")
        }
    }

    @Test func unknownRouteIsJSON404() async throws {
        try await HTTPTestWorker.run(refresher: false) { worker in
            let response = try await worker.get("/v2/nothing")
            #expect(response.status == .notFound)
            #expect(try response.reply().error == "not_found")
        }
    }
}
