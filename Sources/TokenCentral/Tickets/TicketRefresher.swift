import Logging
import RedisClient
import ServiceLifecycle

/// The tickets of one worker: a `TicketKeeper` per configured (app, ticket type), woken on `P:refreshed`
/// (a new ticket, or a new token a keeper may be waiting for) and handed the ticket requests of `P:refresh`
/// (`{"appid":...,"ticket":"jsapi","bad_ticket":...}`) through the token refresher's subscription
/// (`TicketMessages`).
public final class TicketRefresher: Service, Sendable {
    private let keepers: [Key: TicketKeeper]
    private let logger: Logger
    private let rejectedMessages = RateLimitedLog(interval: .seconds(10))

    struct Key: Hashable, Sendable {
        var appid: String
        var type: TicketType
    }

    init(apps: [AppConfiguration], context: TicketContext) {
        var keepers: [Key: TicketKeeper] = [:]
        for app in apps {
            for type in app.tickets { keepers[Key(appid: app.appid, type: type)] = TicketKeeper(app: app, type: type, context: context) }
        }
        self.keepers = keepers
        self.logger = context.refresh.logger
        context.tokens.ticketMessages.deliver { [keepers, rejectedMessages, logger] event in
            Self.route(event, to: keepers, log: rejectedMessages, logger: logger)
        }
    }

    /// Forces a refresh of a ticket (the HTTP API's entry point): put to Redis at once, deduplicated by
    /// `badTicket` and budgeted like the token's. Nil for a ticket this worker does not keep.
    ///
    /// Note that `getticket` hands out the same ticket until it expires: a forced refresh can only
    /// confirm it (and makes `retry_at` its expiry), it cannot make upstream issue another one early.
    public func forceRefresh(appid: String, type: TicketType, badTicket: String?) async throws(RedisError) -> ForcedRefreshVerdict? {
        try await keepers[Key(appid: appid, type: type)]?.forceRefresh(badTicket: badTicket)
    }

    /// The ticket this worker's keeper would write back if Redis lost it.
    func remembered(_ appid: String, _ type: TicketType) -> TokenRecord? {
        keepers[Key(appid: appid, type: type)]?.remembered
    }

    /// Returns at once when no app keeps tickets (`TokendApplication.services` then leaves it out).
    public func run() async throws {
        guard !keepers.isEmpty else { return }
        logger.info("ticket keepers starting", metadata: ["tickets": "\(keepers.count)"])
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for keeper in self.keepers.values {
                    group.addTask { await keeper.run() }
                }
                await group.waitForAll()
            }
        }
    }

    /// Wakes or forces the keepers from what the token refresher's subscription heard.
    private static func route(_ event: TicketMessages.Event, to keepers: [Key: TicketKeeper], log: RateLimitedLog, logger: Logger) {
        switch event {
        case .resubscribed:
            // Announcements published while the subscription was down are lost: every keeper reads again.
            for keeper in keepers.values { keeper.wake() }
        case .announced(let announcement):
            if let type = announcement.ticket {
                keepers[Key(appid: announcement.appid, type: type)]?.wake()
            } else {
                // A new token: a keeper waiting for one retries with it.
                for (key, keeper) in keepers where key.appid == announcement.appid { keeper.wake() }
            }
        case .requested(let request):
            guard let type = request.ticket else { return }
            guard let keeper = keepers[Key(appid: request.appid, type: type)] else {
                log.log(logger, "forced ticket refresh for a ticket this worker does not keep",
                        metadata: [LogKey.appID: "\(request.appid)", LogKey.ticket: "\(type.rawValue)"])
                return
            }
            keeper.requestForcedRefresh(badTicket: request.badTicket)
        }
    }
}
