import Hummingbird
import Logging

/// `{"status":"ok"}`: the answer of `GET /healthz`, which only shows that the process serves requests.
struct StatusBody: ResponseEncodable, Sendable {
    var status: String
}

/// `{"status":"ready"|"not_ready","problems":[{"reason":"redis_authentication","message":"..."}]}`.
struct ReadinessBody: ResponseEncodable, Sendable {
    var status: String
    var problems: [WorkerHealth.Problem]
}

/// The state of one app's token as this worker reads it from Redis.
enum AppState: String, Encodable, Sendable {
    case ok
    case noToken = "no_token"
    case expired
    case redisUnreachable = "redis_unreachable"
}

/// One app on `GET /v1/status`; `lastError` is its last upstream failure as stored in Redis (secrets are
/// scrubbed before it is stored).
struct AppStatusBody: Encodable, Sendable {
    var appid: String
    var state: AppState
    var generation: Int?
    var expiresIn: Int?
    var lastError: String?

    enum CodingKeys: String, CodingKey {
        case appid, state, generation, expiresIn = "expires_in", lastError = "last_error"
    }
}

/// `{"apps":[...]}`, every configured app in appid order.
struct StatusListBody: ResponseEncodable, Sendable {
    var apps: [AppStatusBody]
}

extension TokenAPI {
    /// `GET /readyz`: 200 when this worker can do its job (Redis answers this worker's credentials, the
    /// refresher is subscribed, no shutdown under way), else 503 with each problem and its reason. Apps
    /// are not consulted: one app with a wrong secret lacks a token on every worker alike, and must not
    /// take them all out of the load balancer. Its state is on `GET /v1/status`.
    func readiness() async -> EditedResponse<ReadinessBody> {
        await probe.check()
        let problems = probe.health.problems
        guard problems.isEmpty else {
            return EditedResponse(status: .serviceUnavailable, response: ReadinessBody(status: "not_ready", problems: problems))
        }
        return EditedResponse(status: .ok, response: ReadinessBody(status: "ready", problems: []))
    }

    /// `GET /v1/status`: every configured app's token state, behind the API key like the tokens.
    func appStatus() async -> StatusListBody {
        let statuses = await withTaskGroup(of: AppStatusBody.self) { group in
            for app in apps.apps {
                group.addTask { await status(of: app.appid) }
            }
            var statuses: [AppStatusBody] = []
            for await status in group { statuses.append(status) }
            return statuses.sorted { $0.appid < $1.appid }
        }
        return StatusListBody(apps: statuses)
    }

    private func status(of appid: String) async -> AppStatusBody {
        let snapshot: TokenStore.Snapshot
        do {
            snapshot = try await store.snapshot(appid)
        } catch {
            return AppStatusBody(appid: appid, state: .redisUnreachable)
        }
        let lastError = snapshot.status.lastError
        if let current = CurrentToken(snapshot) {
            return AppStatusBody(
                appid: appid, state: .ok, generation: current.record.generation, expiresIn: current.expiresIn, lastError: lastError)
        }
        let state: AppState = snapshot.status.record == nil ? .noToken : .expired
        return AppStatusBody(appid: appid, state: state, generation: snapshot.status.record?.generation, lastError: lastError)
    }
}
