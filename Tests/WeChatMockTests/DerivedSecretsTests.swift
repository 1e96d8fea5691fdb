import HummingbirdTesting
import Testing
import WeChatMock

/// `derivedSecrets`: any id is known, with secret `"secret-" + id`, for load tests with many apps.
@Suite struct DerivedSecretsTests {
    private func mock() throws -> WeChatMock {
        try Fixture.mock { $0.derivedSecrets = true }
    }

    @Test func acceptsAnyAppWithItsDerivedSecret() async throws {
        let mock = try self.mock()
        let bodies = try await withRouter(mock) { client in
            try await (1...3).asyncMap { index in
                try await client.token(appid: "load-\(index)", secret: "secret-load-\(index)")
            }
        }
        #expect(bodies.allSatisfy { $0.accessToken != nil })
    }

    @Test func rejectsAWrongDerivedSecretWith40125() async throws {
        let mock = try self.mock()
        let body = try await withRouter(mock) { try await $0.token(appid: "load-1", secret: "secret-load-2") }
        #expect(body.errcode == 40125)
    }

    @Test func listedAppsKeepTheirOwnSecret() async throws {
        let mock = try self.mock()
        let (listed, derived) = try await withRouter(mock) { client in
            (try await client.token(), try await client.token(secret: "secret-\(Fixture.appid)"))
        }
        #expect(listed.accessToken != nil)
        #expect(derived.errcode == 40125)
    }

    @Test func appliesToWeComCorpsToo() async throws {
        let mock = try self.mock()
        let body = try await withRouter(mock) { try await $0.corpToken(corpid: "corp-9", corpsecret: "secret-corp-9") }
        #expect(body.errcode == 0)
    }
}

extension Sequence {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self {
            results.append(try await transform(element))
        }
        return results
    }
}
