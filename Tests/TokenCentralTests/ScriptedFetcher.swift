import Synchronization
import TokenCentral

/// A `TokenFetcher` whose answers a test scripts, so refresher races run deterministically against the
/// real test Redis: each call takes the next scripted step, and once the script is used up every call
/// succeeds with a new token (`scripted-1`, `scripted-2`, ...).
final class ScriptedFetcher: TokenFetcher {
    enum Step: Sendable {
        /// A transient failure (errcode -1, as WeChat answers when busy).
        case failTransiently
        /// A configuration refusal (errcode 40125, invalid appsecret).
        case refuseConfiguration
        /// Waits until `release()` is called, then succeeds.
        case blockUntilReleased
    }

    private struct State {
        var script: [Step] = []
        var calls = 0
        var released = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    let timeout: Duration
    let lifetime: Duration

    init(timeout: Duration = .seconds(2), lifetime: Duration = .seconds(7200)) {
        self.timeout = timeout
        self.lifetime = lifetime
    }

    /// Appends steps, taken by the next calls in order.
    func script(_ steps: Step...) {
        state.withLock { $0.script += steps }
    }

    /// Upstream calls made so far.
    var calls: Int { state.withLock { $0.calls } }

    /// Lets every call blocked in `blockUntilReleased` (and any later one) go on.
    func release() {
        let waiting = state.withLock { state in
            state.released = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    func fetch(_ app: AppConfiguration, forceRefresh: Bool) async -> Result<FetchedToken, UpstreamError> {
        let (step, number) = state.withLock { state in
            state.calls += 1
            return (state.script.isEmpty ? nil : state.script.removeFirst(), state.calls)
        }
        switch step {
        case .failTransiently:
            return .failure(UpstreamError(kind: .transient, appid: app.appid, endpoint: "/cgi-bin/token", errcode: -1,
                                          errmsg: "system busy", hint: "scripted"))
        case .refuseConfiguration:
            return .failure(UpstreamError(kind: .configuration, appid: app.appid, endpoint: "/cgi-bin/token", errcode: 40125,
                                          errmsg: "invalid appsecret", hint: "scripted"))
        case .blockUntilReleased:
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if !state.released { state.waiting.append(continuation) }
                    return state.released
                }
                if resumeNow { continuation.resume() }
            }
        case nil:
            break
        }
        return .success(FetchedToken(token: "scripted-\(number)", expiresIn: lifetime))
    }
}
