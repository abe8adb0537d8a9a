@testable import FlexLBServer
import Testing

/// The API connection's deadlines, event by event (issue 9: a request head trickled in a byte at a
/// time must not hold a connection until the idle timeout).
struct ConnectionDeadlineTests {
    let start = ContinuousClock.now
    func at(_ seconds: Double) -> ContinuousClock.Instant { start + .seconds(seconds) }

    func machine() -> ConnectionDeadline {
        ConnectionDeadline(handshakeTimeout: .seconds(10), requestHeadTimeout: .seconds(5))
    }

    /// Accepted at 0 s, handshake done at 1 s: the first head is due at 6 s.
    func established() -> ConnectionDeadline {
        var deadline = machine()
        _ = deadline.accepted(at: at(0))
        _ = deadline.handshakeCompleted(at: at(1))
        return deadline
    }

    @Test func theHandshakeThenTheFirstHeadAreDue() {
        var deadline = machine()
        #expect(deadline.accepted(at: at(0)) == .arm(at(10)))
        #expect(deadline.timerFired(at: at(10)) == .close)
        #expect(deadline.handshakeCompleted(at: at(1)) == .arm(at(6)))
        #expect(deadline.timerFired(at: at(6)) == .close)
    }

    @Test func tricklingHeaderBytesDoesNotExtendTheDeadline() {
        var deadline = established()
        for second in 2...5 {
            #expect(deadline.bytesReceived(at: at(Double(second))) == .none)
        }
        #expect(deadline.timerFired(at: at(6)) == .close)
    }

    @Test func aCompleteHeadDisarmsAndTheIdleGapIsNotTimedHere() {
        var deadline = established()
        #expect(deadline.headReceived() == .disarm)
        // A slow handler or a body being read is not a head timeout.
        #expect(deadline.bytesReceived(at: at(2)) == .none)
        #expect(deadline.timerFired(at: at(100)) == .none)
        #expect(deadline.responseCompleted() == .none)
        #expect(deadline.phase == .betweenRequests)
        #expect(deadline.timerFired(at: at(200)) == .none)
    }

    @Test func theNextRequestsFirstByteStartsItsOwnDeadline() {
        var deadline = established()
        _ = deadline.headReceived()
        _ = deadline.responseCompleted()
        #expect(deadline.bytesReceived(at: at(30)) == .arm(at(35)))
        #expect(deadline.bytesReceived(at: at(31)) == .none)
        #expect(deadline.timerFired(at: at(35)) == .close)
    }

    @Test func pipelinedRequestsAreServedBeforeTheNextDeadline() {
        var deadline = established()
        _ = deadline.headReceived()
        #expect(deadline.headReceived() == .none)
        _ = deadline.responseCompleted()
        #expect(deadline.phase == .serving(requests: 1))
        #expect(deadline.bytesReceived(at: at(3)) == .none)
        _ = deadline.responseCompleted()
        #expect(deadline.phase == .betweenRequests)
    }

    @Test func anEarlyTimerIsRearmedForTheSameDeadline() {
        var deadline = machine()
        _ = deadline.accepted(at: at(0))
        #expect(deadline.timerFired(at: at(9)) == .arm(at(10)))
    }
}
