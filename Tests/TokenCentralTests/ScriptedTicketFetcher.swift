import Synchronization
import TokenCentral

/// A `TicketFetcher` that hands out a new ticket on every call (`ticket-1`, `ticket-2`, ...), as an
/// upstream that renews tickets early would, and counts the calls and the tokens they carried.
final class ScriptedTicketFetcher: TicketFetcher {
    private let state = Mutex<[String]>([])
    let timeout: Duration = .seconds(2)
    let lifetime: Duration

    init(lifetime: Duration) {
        self.lifetime = lifetime
    }

    /// Calls made so far.
    var calls: Int { state.withLock { $0.count } }

    func fetchTicket(_ type: TicketType, appid: String, accessToken: String) async -> Result<FetchedToken, UpstreamError> {
        let number = state.withLock { tokens in
            tokens.append(accessToken)
            return tokens.count
        }
        return .success(FetchedToken(token: "ticket-\(number)", expiresIn: lifetime))
    }
}
