import Testing

@testable import TokenCentral

/// The one directory of a worker's apps: plain values, no server.
@Suite struct AppDirectoryTests {
    private func app(_ appid: String, grant: Grant = .token) -> AppConfiguration {
        AppConfiguration(appid: appid, grant: grant, secret: Secret("s"))
    }

    @Test func appsAreKeptInAppidOrderWhateverTheConfiguredOrder() {
        let directory = AppDirectory([app("wxc"), app("wxa"), app("wxb")])
        #expect(directory.apps.map(\.appid) == ["wxa", "wxb", "wxc"])
    }

    @Test func anAppIsFoundByItsAppidAtItsPosition() {
        let directory = AppDirectory([app("wxb", grant: .stableToken), app("wxa")])
        #expect(directory.position(of: "wxb") == 1)
        #expect(directory["wxb"]?.grant == .stableToken)
    }

    @Test func anUnconfiguredAppidIsNotFound() {
        let directory = AppDirectory([app("wxa")])
        #expect(directory.position(of: "wxz") == nil)
        #expect(directory["wxz"] == nil)
    }
}
