import FlexLBModel
import Testing

@Suite struct HybridLogicalClockTests {
    @Test func ticksFollowWallTimeAndNeverGoBack() {
        var clock = HybridLogicalClock()
        let a = clock.tick(now: 1_000)
        #expect(a == HLCTimestamp(milliseconds: 1_000, counter: 0))
        // Same millisecond: the counter moves.
        let b = clock.tick(now: 1_000)
        #expect(b == HLCTimestamp(milliseconds: 1_000, counter: 1))
        // The wall clock steps back (NTP): versions still increase.
        let c = clock.tick(now: 500)
        #expect(c > b)
        #expect(c.milliseconds == 1_000)
        let d = clock.tick(now: 2_000)
        #expect(d == HLCTimestamp(milliseconds: 2_000, counter: 0))
    }

    @Test func observingARemoteStampOrdersTheNextLocalWriteAfterIt() {
        var local = HybridLogicalClock()
        _ = local.tick(now: 1_000)
        // A peer whose clock runs 300 ms ahead wrote at its 1_300.
        let remote = HLCTimestamp(milliseconds: 1_300, counter: 4)
        let adopted = local.observe(remote, now: 1_001)
        #expect(adopted)
        let next = local.tick(now: 1_002)
        #expect(next > remote)
        #expect(next == HLCTimestamp(milliseconds: 1_300, counter: 5))
    }

    @Test func aStampFarInTheFutureIsNotAdopted() {
        var clock = HybridLogicalClock(maxForwardDrift: 60_000)
        let wild = HLCTimestamp(milliseconds: 10_000_000, counter: 0)
        let adopted = clock.observe(wild, now: 1_000)
        #expect(!adopted)
        #expect(clock.tick(now: 1_000).milliseconds == 1_000)
    }

    @Test func counterOverflowBorrowsTheNextMillisecond() {
        var clock = HybridLogicalClock(last: HLCTimestamp(milliseconds: 7, counter: HLCTimestamp.counterMask))
        #expect(clock.tick(now: 7) == HLCTimestamp(milliseconds: 8, counter: 0))
    }

    @Test func packedValuesFitJSONIntegersAndKeepOrder() {
        // Unix ms shifted by 16 bits needs 57 bits: an exact int64 in Swift, Go and Python clients
        // (JavaScript numbers would round it; the ETag header is the exact form).
        let now: Int64 = 1_796_000_000_000
        let stamp = HLCTimestamp(milliseconds: now, counter: 3)
        #expect(stamp.rawValue > 0)
        #expect(stamp.milliseconds == now)
        #expect(stamp.counter == 3)
        #expect(HLCTimestamp(milliseconds: now, counter: 0) < HLCTimestamp(milliseconds: now, counter: 1))
        #expect(HLCTimestamp(milliseconds: now, counter: 65_535) < HLCTimestamp(milliseconds: now + 1, counter: 0))
    }
}
