import Testing

@testable import WeChatMock

@Suite struct FaultQueueTests {
    /// Takes a fault for each appid in turn and reports what each call suffered.
    private func takes(_ queue: FaultQueue, for appids: [String?]) -> [FaultEffect?] {
        var queue = queue
        return appids.map { queue.take(for: $0) }
    }

    @Test func faultAffectsCountCallsThenDisappears() {
        var queue = FaultQueue()
        queue.add(.errcode(-1, count: 2), appid: nil)
        #expect(self.takes(queue, for: ["wx1", "wx2", "wx1"]) == [.errcode(-1), .errcode(-1), nil])
    }

    @Test func appTargetedFaultSparesOtherApps() {
        var queue = FaultQueue()
        queue.add(.http500(count: 1), appid: "wx1")
        #expect(self.takes(queue, for: ["wx2", nil, "wx1"]) == [nil, nil, .http500])
    }

    @Test func faultsApplyInInjectionOrder() {
        var queue = FaultQueue()
        queue.add(.latency(.milliseconds(5), count: 1), appid: nil)
        queue.add(.garbage(count: 1), appid: nil)
        #expect(self.takes(queue, for: ["wx1", "wx1"]) == [.latency(.milliseconds(5)), .garbage])
    }

    @Test func removeAllDropsPendingFaults() {
        var queue = FaultQueue()
        queue.add(.hang(count: .max), appid: nil)
        queue.removeAll()
        #expect(self.takes(queue, for: ["wx1"]) == [nil])
    }
}
