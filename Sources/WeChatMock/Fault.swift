/// A misbehaviour the mock inflicts on the next calls to its token endpoints
/// (`/cgi-bin/token`, `stable_token`, `gettoken`), so clients' retry and failover paths can be tested.
///
/// Each fault answers `count` matching calls, then disappears; pass `Int.max` for "until cleared".
/// Faults never affect token validation.
public enum Fault: Sendable, Equatable {
    /// Answer HTTP 200 `{"errcode":N,"errmsg":...}`, e.g. -1 (system busy), 45011, 40164, 89503.
    case errcode(Int, count: Int)
    /// Answer HTTP 500 with an HTML error page, like WeChat's gateway does.
    case http500(count: Int)
    /// Answer HTTP 200 with a body that is not JSON.
    case garbage(count: Int)
    /// Do not answer within any sane client timeout (until the server shuts down).
    case hang(count: Int)
    /// Wait, then answer normally.
    case latency(Duration, count: Int)

    /// How many calls this fault answers.
    public var count: Int {
        switch self {
        case .errcode(_, let count), .http500(let count), .garbage(let count), .hang(let count),
            .latency(_, let count):
            count
        }
    }

    /// A short name for logs and the admin API.
    public var kind: String { self.effect.kind }

    /// What one affected call suffers.
    var effect: FaultEffect {
        switch self {
        case .errcode(let code, _): .errcode(code)
        case .http500: .http500
        case .garbage: .garbage
        case .hang: .hang
        case .latency(let delay, _): .latency(delay)
        }
    }
}

/// The effect of a ``Fault`` on a single call.
enum FaultEffect: Sendable, Equatable {
    case errcode(Int)
    case http500
    case garbage
    case hang
    case latency(Duration)

    var kind: String {
        switch self {
        case .errcode: "errcode"
        case .http500: "http500"
        case .garbage: "garbage"
        case .hang: "hang"
        case .latency: "latency"
        }
    }
}

/// Injected faults in injection order; each call takes the oldest one that targets its app.
struct FaultQueue: Sendable {
    private struct Entry: Sendable {
        let effect: FaultEffect
        /// nil targets every app.
        let appid: String?
        var remaining: Int
    }

    private var entries: [Entry] = []

    mutating func add(_ fault: Fault, appid: String?) {
        self.entries.append(Entry(effect: fault.effect, appid: appid, remaining: fault.count))
    }

    /// Consumes one use of the oldest fault aimed at `appid` (or at every app).
    mutating func take(for appid: String?) -> FaultEffect? {
        guard let index = self.entries.firstIndex(where: { $0.appid == nil || $0.appid == appid }) else {
            return nil
        }
        let effect = self.entries[index].effect
        self.entries[index].remaining -= 1
        if self.entries[index].remaining <= 0 {
            self.entries.remove(at: index)
        }
        return effect
    }

    mutating func removeAll() {
        self.entries.removeAll()
    }
}
