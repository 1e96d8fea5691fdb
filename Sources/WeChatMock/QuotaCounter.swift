/// Counts uses of a rate-limited operation in fixed windows.
///
/// Windows are aligned on the mock's start, the way WeChat's daily quotas all reset at
/// midnight rather than 24 hours after each app's first call.
struct QuotaCounter: Sendable {
    /// Uses allowed per window.
    let limit: Int
    /// Length of a window.
    let window: Duration
    private var windowIndex: Int64 = 0
    private var used = 0

    init(limit: Int, window: Duration) {
        self.limit = limit
        self.window = window
    }

    /// Takes one use at instant `now` (an offset from the mock's start); false when the window's quota is spent.
    mutating func consume(at now: Duration) -> Bool {
        let index = Int64((now / self.window).rounded(.down))
        if index != self.windowIndex {
            self.windowIndex = index
            self.used = 0
        }
        guard self.used < self.limit else {
            return false
        }
        self.used += 1
        return true
    }
}
