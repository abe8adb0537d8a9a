@testable import FlexLBClient
import Testing

@Suite struct FailoverPolicyTests {
    typealias Outcome = FailoverPolicy.Outcome

    /// Feeds outcomes to a policy and returns every directive, starting with the first send.
    private func run(_ policy: FailoverPolicy, _ outcomes: [Outcome]) -> [FailoverPolicy.Directive] {
        var policy = policy
        var directives = [policy.start]
        for outcome in outcomes {
            let next = policy.next(after: outcome)
            directives.append(next)
            if case .send = next { continue }
            break
        }
        return directives
    }

    private func policy(endpoints: Int = 3, first: Int = 0, idempotent: Bool, retryOnStatus: Bool = true) -> FailoverPolicy {
        FailoverPolicy(
            endpointCount: endpoints, first: first, idempotent: idempotent, maxRetries: 2, backoff: .milliseconds(100),
            retryOnStatus: retryOnStatus)
    }

    @Test func successIsDeliveredAtOnce() {
        #expect(run(policy(idempotent: false), [.response(status: 200)]) == [.send(endpoint: 0, delay: .zero), .deliver])
        #expect(run(policy(idempotent: true), [.response(status: 404)]) == [.send(endpoint: 0, delay: .zero), .deliver])
    }

    @Test func nonIdempotentFailsOverOnlyWhileNothingWasSent() {
        #expect(
            run(policy(first: 1, idempotent: false), [.notSent, .notSent, .notSent]) == [
                .send(endpoint: 1, delay: .zero), .send(endpoint: 2, delay: .zero), .send(endpoint: 0, delay: .zero), .fail,
            ])
        #expect(
            run(policy(idempotent: false), [.notSent, .maybeSent]) == [
                .send(endpoint: 0, delay: .zero), .send(endpoint: 1, delay: .zero), .fail,
            ])
    }

    @Test func nonIdempotentIsNeverResentAfterAServerAnswered() {
        #expect(run(policy(idempotent: false), [.response(status: 503)]) == [.send(endpoint: 0, delay: .zero), .deliver])
    }

    @Test func idempotentRetriesRoundsWithBackoffThenGivesUp() {
        let directives = run(policy(endpoints: 2, idempotent: true), Array(repeating: .maybeSent, count: 10))
        #expect(
            directives == [
                .send(endpoint: 0, delay: .zero), .send(endpoint: 1, delay: .zero),
                .send(endpoint: 0, delay: .milliseconds(100)), .send(endpoint: 1, delay: .zero),
                .send(endpoint: 0, delay: .milliseconds(200)), .send(endpoint: 1, delay: .zero),
                .fail,
            ])
    }

    @Test(arguments: [502, 503, 504])
    func idempotentMovesOnFromGatewayStatuses(status: Int) {
        let directives = run(policy(endpoints: 1, idempotent: true), [.response(status: status), .response(status: 200)])
        #expect(directives == [.send(endpoint: 0, delay: .zero), .send(endpoint: 0, delay: .milliseconds(100)), .deliver])
        // Exhausted: the last response is delivered rather than an error.
        let exhausted = run(policy(endpoints: 1, idempotent: true), Array(repeating: .response(status: status), count: 5))
        #expect(exhausted.last == .deliver)
        #expect(exhausted.count == 4)
    }

    @Test func statusThatIsTheAnswerIsDelivered() {
        #expect(
            run(policy(idempotent: true, retryOnStatus: false), [.response(status: 503)]) == [
                .send(endpoint: 0, delay: .zero), .deliver,
            ])
    }
}
