import Hummingbird
import Logging

extension WeChatMock {
    /// Registers the `/mock/...` admin API, the out-of-process twin of the in-process methods,
    /// for scripts, the chaos suite and non-Swift examples.
    func addAdminRoutes(to router: Router<BasicRequestContext>) {
        router.get("/mock/stats") { _, _ in
            try Response.json(self.allStats())
        }

        router.get("/mock/stats/{appid}") { _, context in
            try Response.json(self.stats(appid: try context.parameters.require("appid")))
        }

        router.post("/mock/faults") { request, context in
            let fault = try await request.decode(as: FaultRequest.self, context: context)
            self.inject(try fault.fault(), appid: fault.appid)
            context.logger.info(
                "Fault injected",
                metadata: ["app.id": "\(fault.appid ?? "*")", "fault.kind": "\(fault.kind)"]
            )
            return Response(status: .noContent)
        }

        router.delete("/mock/faults") { _, context in
            self.clearFaults()
            context.logger.info("Faults cleared")
            return Response(status: .noContent)
        }

        router.post("/mock/reset") { _, context in
            self.reset()
            context.logger.info("Mock reset")
            return Response(status: .noContent)
        }

        router.post("/mock/apps/{appid}/revoke") { _, context in
            let appid = try context.parameters.require("appid")
            guard self.revoke(appid: appid) else { throw HTTPError(.notFound, message: "no current token for \(appid)") }
            context.logger.info("Token revoked", metadata: ["app.id": "\(appid)"])
            return Response(status: .noContent)
        }

        router.put("/mock/apps/{appid}") { request, context in
            let appid = try context.parameters.require("appid")
            let body = try await request.decode(as: SecretRequest.self, context: context)
            self.setSecret(appid: appid, secret: body.secret)
            context.logger.info("App secret set", metadata: ["app.id": "\(appid)"])
            return Response(status: .noContent)
        }
    }
}

/// `POST /mock/faults` body: `{"appid":"optional","kind":"errcode|http500|garbage|hang|latency",
/// "errcode":-1,"count":3,"latency_ms":200}`. `count` defaults to 1; -1 means until cleared.
private struct FaultRequest: Decodable {
    var appid: String?
    var kind: String
    var errcode: Int?
    var count: Int?
    var latencyMs: Int?

    enum CodingKeys: String, CodingKey {
        case appid
        case kind
        case errcode
        case count
        case latencyMs = "latency_ms"
    }

    func fault() throws(HTTPError) -> Fault {
        let count = try self.resolvedCount()
        switch self.kind {
        case "errcode":
            guard let errcode else { throw HTTPError(.badRequest, message: "errcode faults need \"errcode\"") }
            return .errcode(errcode, count: count)
        case "http500":
            return .http500(count: count)
        case "garbage":
            return .garbage(count: count)
        case "hang":
            return .hang(count: count)
        case "latency":
            guard let latencyMs, latencyMs >= 0 else {
                throw HTTPError(.badRequest, message: "latency faults need a non-negative \"latency_ms\"")
            }
            return .latency(.milliseconds(latencyMs), count: count)
        default:
            throw HTTPError(.badRequest, message: "unknown fault kind \"\(self.kind)\"")
        }
    }

    private func resolvedCount() throws(HTTPError) -> Int {
        switch self.count {
        case nil: 1
        case -1: Int.max
        case let count? where count > 0: count
        case _?: throw HTTPError(.badRequest, message: "\"count\" must be positive, or -1 for until cleared")
        }
    }
}

/// `PUT /mock/apps/{appid}` body.
private struct SecretRequest: Decodable {
    var secret: String
}
