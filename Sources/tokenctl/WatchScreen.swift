import Foundation
import RedisClient
import TokenCentral

/// The `watch` view: a title, the status table, and the latest announcements on `P:refreshed`, which
/// show one upstream call per token lifetime and which worker made it.
struct WatchScreen {
    static let logLength = 8
    /// Home the cursor and clear the screen: each frame replaces the previous one.
    static let clear = "\u{1B}[H\u{1B}[2J"

    let title: String
    private var announcements: [(at: Date, announcement: RefreshedAnnouncement)] = []

    init(title: String) {
        self.title = title
    }

    mutating func record(_ announcement: RefreshedAnnouncement, at date: Date) {
        announcements.append((date, announcement))
        announcements.removeFirst(max(0, announcements.count - Self.logLength))
    }

    func frame(at now: Date, rows: Result<[StatusRow], RedisError>) -> String {
        var text = Self.clear + "\(title)  \(Self.clockTime(now))  (Ctrl-C to quit)\n\n"
        switch rows {
        case .success(let rows): text += StatusTable.render(rows)
        case .failure(let error): text += "\(error) (retrying)\n"
        }
        text += "\nLatest new tokens (P:refreshed):\n"
        if announcements.isEmpty { text += "  none yet\n" }
        for (date, announcement) in announcements.reversed() {
            text += "  \(Self.clockTime(date))  \(announcement.appid)  generation \(announcement.generation)\n"
        }
        return text
    }

    /// `HH:MM:SS` in local time.
    private static func clockTime(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&seconds, &parts)
        return String(format: "%02d:%02d:%02d", parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}
