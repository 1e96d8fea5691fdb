import Hummingbird
import Logging

/// `{"status":"ok"}`: the answer of `GET /healthz`, which only shows that the process serves requests.
struct StatusBody: ResponseEncodable, Sendable {
    var status: String
}

/// Why an app keeps the worker from being ready.
enum NotReadyReason: String, Encodable, Sendable {
    case redisUnreachable = "redis_unreachable"
    case noToken = "no_token"
    case expired
}

/// One app that is not ready; `lastError` is the app's last upstream failure as stored in Redis
/// (secrets are scrubbed before it is stored).
struct NotReadyApp: Encodable, Sendable {
    var appid: String
    var reason: NotReadyReason
    var lastError: String?

    enum CodingKeys: String, CodingKey {
        case appid, reason, lastError = "last_error"
    }
}

/// `{"status":"ready"|"not_ready","apps":[...]}`, listing only the apps that are not ready.
struct ReadinessBody: ResponseEncodable, Sendable {
    var status: String
    var apps: [NotReadyApp]
}

extension TokenAPI {
    /// `GET /readyz`: 200 when Redis answers and every configured app has a valid token, else 503
    /// naming each app that is not ready and why, so a load balancer and a person read the same answer.
    func readiness(logger: Logger) async -> EditedResponse<ReadinessBody> {
        let notReady = await withTaskGroup(of: NotReadyApp?.self) { group in
            for appid in appids {
                group.addTask { await notReadyApp(appid) }
            }
            var apps: [NotReadyApp] = []
            for await case let app? in group { apps.append(app) }
            return apps.sorted { $0.appid < $1.appid }
        }
        guard notReady.isEmpty else {
            // One line per probe, not one per app: a Redis outage would otherwise log every app every few seconds.
            logger.debug("not ready", metadata: ["apps": "\(notReady.map { "\($0.appid): \($0.reason.rawValue)" })"])
            return EditedResponse(status: .serviceUnavailable, response: ReadinessBody(status: "not_ready", apps: notReady))
        }
        return EditedResponse(status: .ok, response: ReadinessBody(status: "ready", apps: []))
    }

    private func notReadyApp(_ appid: String) async -> NotReadyApp? {
        let snapshot: TokenStore.Snapshot
        do {
            snapshot = try await store.snapshot(appid)
        } catch {
            return NotReadyApp(appid: appid, reason: .redisUnreachable)
        }
        guard CurrentToken(snapshot) == nil else { return nil }
        let reason: NotReadyReason = snapshot.status.record == nil ? .noToken : .expired
        return NotReadyApp(appid: appid, reason: reason, lastError: snapshot.status.lastError)
    }
}
