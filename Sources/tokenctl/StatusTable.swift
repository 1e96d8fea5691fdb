/// Renders status rows as a plain-text table for people; scripts use `status --json`.
enum StatusTable {
    /// Longest last-error text shown; the full message is in `status --json` and the meta hash.
    static let errorWidth = 60

    static func render(_ rows: [StatusRow]) -> String {
        let header = ["APP", "GRANT", "GEN", "EXPIRES IN", "FETCHED BY", "FORCED", "LAST ERROR"]
        let lines = [header] + rows.flatMap { row in [cells(row)] + (row.tickets ?? []).map(cells) }
        let widths = header.indices.map { column in lines.map { $0[column].count }.max() ?? 0 }
        return lines.map { cells in
            zip(cells, widths).map { cell, width in cell.padding(toLength: width) }
                .joined(separator: "  ")
                .trimmingSuffix()
        }.joined(separator: "\n") + "\n"
    }

    /// One line: an app, or one of its tickets indented under it (so the APP column still reads as a
    /// list of apps).
    static func cells(_ row: StatusRow) -> [String] {
        [
            row.ticket.map { "  \($0) ticket" } ?? row.appid,
            row.ticket == nil ? row.grant ?? "-" : "-",
            row.generation.map(String.init) ?? "-",
            row.expiresIn.map { "\($0)s" } ?? (row.ticket == nil ? "no token" : "no ticket"),
            row.worker ?? "-",
            row.forcedSummary,
            truncated(row.lastError.map { error in row.errcode.map { "[\($0)] \(error)" } ?? error } ?? ""),
        ]
    }

    static func truncated(_ text: String) -> String {
        let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count <= errorWidth ? flat : flat.prefix(errorWidth - 1) + "…"
    }
}

extension String {
    fileprivate func padding(toLength width: Int) -> String {
        self + String(repeating: " ", count: max(0, width - count))
    }

    fileprivate func trimmingSuffix() -> String {
        String(self[..<(lastIndex { $0 != " " }.map(index(after:)) ?? startIndex)])
    }
}
