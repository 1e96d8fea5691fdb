import Foundation
import RedisClient
import TokenCentral

/// One announcement on `P:refreshed` as `watch` shows and prints it, with the worker that fetched the
/// token (read from meta when the announcement arrives; the announcement itself does not name it).
struct WatchedAnnouncement: Encodable, Sendable {
    var at: Date
    var appid: String
    var generation: Int
    var worker: String?

    enum CodingKeys: String, CodingKey {
        case appid, generation, worker, at = "seen_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(appid, forKey: .appid)
        try container.encode(generation, forKey: .generation)
        try container.encodeIfPresent(worker, forKey: .worker)
        try container.encode(Int64(at.timeIntervalSince1970 * 1000), forKey: .at)
    }
}

/// The `watch` view: a title, the status table, the latest announcements on `P:refreshed` (one upstream
/// call per token lifetime, and which worker made it) and, with `--events`, the end of an events file.
struct WatchScreen {
    static let logLength = 8
    /// Home the cursor and clear the screen: each frame replaces the previous one.
    static let clear = "\u{1B}[H\u{1B}[2J"

    let title: String
    /// A file whose last lines are shown under the announcements (`--events`).
    let eventsPath: String?
    /// Whether each frame starts by clearing the screen: only on a terminal. Written to a file or a pipe
    /// the escape codes are noise, so frames follow one another, separated by a blank line.
    let clearsScreen: Bool
    private var announcements: [WatchedAnnouncement] = []

    init(title: String, eventsPath: String?, clearsScreen: Bool) {
        self.title = title
        self.eventsPath = eventsPath
        self.clearsScreen = clearsScreen
    }

    mutating func record(_ announcement: WatchedAnnouncement) {
        announcements.append(announcement)
        announcements.removeFirst(max(0, announcements.count - Self.logLength))
    }

    func frame(at now: Date, rows: Result<[StatusRow], RedisError>) -> String {
        var text = (clearsScreen ? Self.clear : "\n") + "\(title)  \(Self.clockTime(now))  (Ctrl-C to quit)\n\n"
        switch rows {
        case .success(let rows): text += StatusTable.render(rows)
        case .failure(let error): text += "\(error) (retrying)\n"
        }
        text += "\nLatest new tokens (P:refreshed):\n"
        if announcements.isEmpty { text += "  none yet\n" }
        for announcement in announcements.reversed() {
            let worker = announcement.worker.map { "  fetched by \($0)" } ?? ""
            text += "  \(Self.clockTime(announcement.at))  \(announcement.appid)  generation \(announcement.generation)\(worker)\n"
        }
        if let eventsPath {
            text += "\nEvents (\(eventsPath)):\n"
            let lines = ((try? String(contentsOfFile: eventsPath, encoding: .utf8)) ?? "").split(separator: "\n").suffix(Self.logLength)
            if lines.isEmpty { text += "  none yet\n" }
            for line in lines { text += "  \(line)\n" }
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
