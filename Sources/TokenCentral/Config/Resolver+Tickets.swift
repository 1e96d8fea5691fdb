extension Resolver {
    /// An app's `tickets` list: each a ticket type, none twice, and only for official accounts — WeCom
    /// has no `getticket`, its JS-SDK tickets come from endpoints of their own.
    func tickets(_ names: [String]?, grant: Grant, field: String) throws(ConfigError) -> [TicketType] {
        guard let names, !names.isEmpty else { return [] }
        guard grant != .wecom else {
            throw fail(field, "tickets are for official accounts (grant token or stable_token), not grant wecom")
        }
        var tickets: [TicketType] = []
        for (index, name) in names.enumerated() {
            guard let type = TicketType(rawValue: name) else {
                let valid = TicketType.allCases.map(\.rawValue).joined(separator: ", ")
                throw fail("\(field)[\(index)]", "'\(name)' is not a ticket type; expected one of \(valid)")
            }
            guard !tickets.contains(type) else { throw fail("\(field)[\(index)]", "\(name) is listed twice") }
            tickets.append(type)
        }
        return tickets
    }
}
