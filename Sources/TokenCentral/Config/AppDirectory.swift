/// The configured apps of one worker, held once and looked up by appid: the refresher, the HTTP API, the
/// WeChat-compatible endpoints and the gateway all refer to this one directory.
///
/// At 10,000 apps, a copy of every `AppConfiguration` per refresher and a dictionary of them per API
/// took megabytes; here each app is one array element, found through one appid → position table.
final class AppDirectory: Sendable {
    /// Every app in appid order (the order `/metrics` lists them in); an app's position is its entry in
    /// the refresher's scheduler.
    let apps: [AppConfiguration]
    private let positions: [String: Int]

    /// A list already in appid order (as generated configurations usually are) is shared, not copied.
    /// Appids are unique in a validated configuration; of duplicates the first is kept.
    init(_ apps: [AppConfiguration]) {
        let ordered = zip(apps, apps.dropFirst()).allSatisfy { $0.appid < $1.appid }
        self.apps = ordered ? apps : apps.sorted { $0.appid < $1.appid }
        var positions: [String: Int] = [:]
        positions.reserveCapacity(apps.count)
        for (position, app) in self.apps.enumerated() where positions[app.appid] == nil { positions[app.appid] = position }
        self.positions = positions
    }

    /// Where `appid` is in `apps`; nil for an app this worker does not serve.
    func position(of appid: String) -> Int? {
        positions[appid]
    }

    subscript(appid: String) -> AppConfiguration? {
        positions[appid].map { apps[$0] }
    }
}
