import Foundation
import RedisClient
import TokenCentral

extension Deployment {
    /// The status of `appids` from their meta hashes and token TTLs, and those of their tickets, in one
    /// round trip.
    func statusRows(_ appids: [String]) async throws(RedisError) -> [StatusRow] {
        let perApp = 2 + 2 * TicketType.allCases.count
        let replies = try await pipeline(appids.flatMap { appid in
            [RedisCommand("HGETALL", keys.meta(appid)), RedisCommand("PTTL", keys.accessToken(appid))]
                + TicketType.allCases.flatMap { type in
                    [RedisCommand("HGETALL", keys.meta(appid, type)), RedisCommand("PTTL", keys.ticket(appid, type))]
                }
        })
        // Whether a forced-refresh refusal is still in effect, on this machine's clock: meta's times are
        // Redis time, but a display may be off by the skew, and reading TIME would need one more permission.
        let nowMillis = Int64(Date().timeIntervalSince1970 * 1000)
        let configured = Dictionary(uniqueKeysWithValues: (configuredApps ?? []).map { ($0.appid, $0) })
        return appids.enumerated().map { index, appid in
            let base = perApp * index
            var row = StatusRow(
                appid: appid,
                status: AppStatus(fields: replies[base].hashFields ?? [:]),
                millisecondsLeft: replies[base + 1].integer,
                configuredGrant: configured[appid]?.grant,
                nowMillis: nowMillis
            )
            let tickets = TicketType.allCases.enumerated().compactMap { offset, type -> StatusRow? in
                let meta = replies[base + 2 + 2 * offset].hashFields ?? [:]
                let millisecondsLeft = replies[base + 3 + 2 * offset].integer
                let shown = configuredApps == nil
                    ? StatusRow.isTicketPresent(meta: meta, millisecondsLeft: millisecondsLeft)
                    : configured[appid]?.tickets.contains(type) == true
                guard shown else { return nil }
                var ticket = StatusRow(
                    appid: appid, status: AppStatus(fields: meta), millisecondsLeft: millisecondsLeft, configuredGrant: nil, nowMillis: nowMillis)
                ticket.ticket = type.rawValue
                return ticket
            }
            row.tickets = tickets.isEmpty ? nil : tickets
            return row
        }
    }
}
