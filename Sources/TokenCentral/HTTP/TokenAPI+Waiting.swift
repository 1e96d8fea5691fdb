import Hummingbird
import Logging

extension TokenAPI {
    /// Counts this request among the refresh waiters, or answers 503 with `Retry-After` past the cap.
    func admitWaiter() throws(APIError) {
        guard waiters.admit() else {
            throw APIError(.busy, "\(waiters.limit) refresh requests are already waiting on this worker; retry in a second")
        }
    }

    /// Reads `appid`'s state after each announcement of a new token until `isAwaited` accepts it or
    /// `refreshDeadline` passes; returns the last state read. Pub/sub is at-most-once (an announcement
    /// published while the subscription reconnects is lost), so without one it reads again each second.
    func awaitAnnouncedToken(
        _ appid: String, from before: TokenStore.Snapshot, logger: Logger, until isAwaited: (TokenStore.Snapshot) -> Bool
    ) async throws(APIError) -> TokenStore.Snapshot {
        let deadline = ContinuousClock.now + refreshDeadline
        var latest = before
        var seen = waiters.announcements(of: appid)
        // `before` may predate an announcement heard since: read once more before the first wait.
        if !isAwaited(latest) { latest = try await snapshot(appid, logger: logger) }
        while !isAwaited(latest), ContinuousClock.now < deadline {
            // Without an announcement `seen` stays: one heard just after the timeout ends the next wait at once.
            if await waiters.waitForAnnouncement(of: appid, after: seen, until: min(deadline, .now + .seconds(1))) {
                seen = waiters.announcements(of: appid)
            }
            latest = try await snapshot(appid, logger: logger)
        }
        return latest
    }
}
