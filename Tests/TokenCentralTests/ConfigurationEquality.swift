@testable import TokenCentral

// The product keeps `Secret` non-Equatable (string `==` is not constant-time); tests compare values.
extension Secret: Equatable {
    public static func == (lhs: Secret, rhs: Secret) -> Bool { lhs.value == rhs.value }
}

extension AppConfiguration: Equatable {
    public static func == (lhs: AppConfiguration, rhs: AppConfiguration) -> Bool {
        lhs.appid == rhs.appid && lhs.grant == rhs.grant && lhs.secret == rhs.secret && lhs.corpid == rhs.corpid
            && lhs.agentid == rhs.agentid && lhs.tickets == rhs.tickets
    }
}
