import FlexLBKubeController
import Testing

@Suite struct WorkQueueStateTests {
    @Test func aKeyIsQueuedOnceAndNeverHandedOutTwiceAtOnce() {
        var q = WorkQueueState<String>()
        q.add("a")
        q.add("a")
        q.add("b")
        #expect(q.readyCount == 2)
        #expect(q.next(now: .zero) == "a")
        q.add("a")  // while a is processing: dirty, not handed out
        #expect(q.next(now: .zero) == "b")
        #expect(q.next(now: .zero) == nil)
        #expect(q.isProcessing("a"))
        q.done("a")  // re-queued because it was added meanwhile
        #expect(q.next(now: .zero) == "a")
        q.done("a")
        q.done("b")
        #expect(q.next(now: .zero) == nil)
    }

    @Test func retriesBackOffExponentiallyUntilForgotten() {
        var q = WorkQueueState<String>(baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        #expect(q.next(now: .zero) == nil)
        var delays: [Duration] = []
        var now: Duration = .zero
        for _ in 0..<6 {
            q.add("k")
            #expect(q.next(now: now) == "k")
            delays.append(q.retry("k", now: now))
            q.done("k")
            #expect(q.next(now: now) == nil, "not before the backoff")
            now += delays.last!
        }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
        q.forget("k")
        #expect(q.failureCount("k") == 0)
    }

    @Test func delayedAddsPromoteAtTheirTimeAndEarlierWins() {
        var q = WorkQueueState<String>()
        q.add("k", after: .seconds(5), now: .zero)
        q.add("k", after: .seconds(2), now: .zero)
        #expect(q.nextDeadline == .seconds(2))
        #expect(q.next(now: .seconds(1)) == nil)
        #expect(q.next(now: .seconds(2)) == "k")
        q.done("k")
        // An immediate add cancels a pending delay.
        q.add("j", after: .seconds(9), now: .zero)
        q.add("j")
        #expect(q.nextDeadline == nil)
        #expect(q.next(now: .zero) == "j")
    }

    @Test func shellHandsOutKeysToWaitingWorkers() async {
        let queue = WorkQueue<Int>()
        async let first = queue.next()
        await queue.add(7)
        #expect(await first == 7)
        await queue.add(7)
        await queue.done(7)
        #expect(await queue.next() == 7)
        await queue.shutdown()
        #expect(await queue.next() == nil)
    }
}

@Suite struct LeaderElectionTests {
    typealias R = LeaderElection.Record

    @Test func createsRenewsAndFollows() {
        var e = LeaderElection(identity: "a", leaseDuration: .seconds(15), renewDeadline: .seconds(10))
        #expect(e.decide(current: nil, now: .zero) == .create)
        e.wrote(R(holder: "a", renewTime: "t0"), now: .zero)
        #expect(e.isLeader(now: .seconds(9)))
        #expect(!e.isLeader(now: .seconds(10)), "a leader that cannot renew stops acting at the deadline")
        #expect(e.decide(current: R(holder: "a", renewTime: "t0"), now: .seconds(2)) == .renew)

        var b = LeaderElection(identity: "b", leaseDuration: .seconds(15), renewDeadline: .seconds(10))
        #expect(b.decide(current: R(holder: "a", renewTime: "t0"), now: .seconds(100)) == .follow(holder: "a"))
        // Renewals keep it alive, whatever the clocks say.
        #expect(b.decide(current: R(holder: "a", renewTime: "t1"), now: .seconds(110)) == .follow(holder: "a"))
        #expect(b.decide(current: R(holder: "a", renewTime: "t1"), now: .seconds(124)) == .follow(holder: "a"))
        // Unchanged for a full lease duration as seen by b: take over.
        #expect(b.decide(current: R(holder: "a", renewTime: "t1"), now: .seconds(125)) == .takeOver)
        #expect(!b.isLeader(now: .seconds(125)))
    }

    @Test func releasedLeaseIsTakenAtOnce() {
        var b = LeaderElection(identity: "b", leaseDuration: .seconds(15), renewDeadline: .seconds(10))
        #expect(b.decide(current: R(holder: "", renewTime: "t"), now: .zero) == .takeOver)
    }
}
