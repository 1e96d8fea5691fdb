/// Writes the per-app metrics in the Prometheus text format (version 0.0.4): each family once, its
/// `# HELP` and `# TYPE` lines first, then its samples for every app, as the format requires.
struct MetricsExposition {
    private(set) var text: [UInt8] = []
    /// The family whose samples are being written.
    private var name = ""

    /// The families of `TokenMetrics`' table that are rendered here, for those of `apps` that
    /// `worker.perApp` selects, in the given order, with the gauges at Redis time `nowMillis`. A family
    /// without samples keeps its `# HELP` and `# TYPE` lines, so dashboards see the same families in every mode.
    static func render(_ apps: [AppMetrics], worker: TokenMetrics, nowMillis: Int64) -> [UInt8] {
        let apps = worker.perApp.mode == .all ? apps : apps.filter { worker.perApp.includes($0, nowMillis: nowMillis) }
        var out = MetricsExposition()
        out.family("tokencentral_token_expires_in_seconds", "gauge", "Seconds until the stored token expires (0: no token).")
        let gauges = apps.map { $0.gauges(nowMillis: nowMillis) }
        for (app, gauge) in zip(apps, gauges) { out.sample([("app", app.appid)], gauge.expiresIn) }
        out.family("tokencentral_token_age_seconds", "gauge", "Seconds since the stored token was fetched.")
        for (app, gauge) in zip(apps, gauges) { out.sample([("app", app.appid)], gauge.age) }
        out.family("tokencentral_token_generation", "gauge", "Generation of the stored token: +1 per new token.")
        for (app, gauge) in zip(apps, gauges) { out.sample([("app", app.appid)], Double(gauge.generation)) }

        out.family("tokencentral_upstream_calls_total", "counter", "Calls to a token endpoint by this worker, by result.")
        for app in apps {
            for (result, counter) in app.upstreamCalls {
                out.sample([("app", app.appid), ("endpoint", app.endpoint), ("result", result)], counter.count)
            }
        }
        out.family("tokencentral_upstream_errcodes_total", "counter", "Errcodes answered by a token endpoint.")
        for app in apps {
            for (errcode, count) in app.errcodeCounts {
                out.sample([("app", app.appid), ("errcode", "\(errcode)")], count)
            }
        }
        out.family("tokencentral_lock_total", "counter", "Refresh lease attempts by outcome.")
        for app in apps {
            for (outcome, counter) in [("acquired", app.lockAcquired), ("contended", app.lockContended), ("lost", app.lockLost)] {
                out.sample([("app", app.appid), ("outcome", outcome)], counter.count)
            }
        }
        out.family("tokencentral_forced_refresh_total", "counter", "Forced refresh requests by outcome.")
        for app in apps {
            for (outcome, counter) in app.forced {
                out.sample([("app", app.appid), ("outcome", outcome.rawValue)], counter.count)
            }
        }
        for (outcome, counter) in [(ForcedRefreshOutcome.unknownApp, worker.forcedForUnknownApp), (.malformed, worker.forcedMalformed)] {
            out.sample([("app", "unknown"), ("outcome", outcome.rawValue)], counter.count)
        }
        return out.text
    }

    /// Starts a family: the samples that follow belong to it.
    private mutating func family(_ name: String, _ type: String, _ help: String) {
        self.name = name
        append("# HELP \(name) \(help)\n# TYPE \(name) \(type)\n")
    }

    private mutating func sample(_ labels: [(String, String)], _ value: Int) {
        sample(labels, value: "\(value)")
    }

    private mutating func sample(_ labels: [(String, String)], _ value: Double) {
        sample(labels, value: "\(value)")
    }

    private mutating func sample(_ labels: [(String, String)], value: String) {
        append(name)
        append("{")
        for (index, (label, labelValue)) in labels.enumerated() {
            if index > 0 { append(",") }
            append(label)
            append("=\"")
            append(Self.escaped(labelValue))
            append("\"")
        }
        append("} ")
        append(value)
        append("\n")
    }

    private mutating func append(_ string: String) {
        text.append(contentsOf: string.utf8)
    }

    /// Label values escape `\`, `"` and line feeds. Appids never contain them (config validation), but
    /// the renderer does not rely on that.
    static func escaped(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        var result = ""
        for character in value {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }
}
