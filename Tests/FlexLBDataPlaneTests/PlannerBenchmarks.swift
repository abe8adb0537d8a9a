import FlexLBAPI
import FlexLBDataPlane
import FlexLBModel
import FlexLBRender
import FlexLBStore
import Foundation
import Testing

/// What the planner's decisions cost per pass at 1, 100 and 1000 instances in a three-node cluster
/// (actions answered by ``PlannerWorld``, so only planning is timed). Off unless FLEXLB_BENCH=1:
/// `FLEXLB_BENCH=1 swift test -c release --filter PlannerBenchmarks` (docs/benchmarks.md).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["FLEXLB_BENCH"] == "1"))
struct PlannerBenchmarks {
    static let members: [String: [String: [String]]] = [
        "n1": ["eth1": ["10.88.0.11/16"]], "n2": ["eth1": ["10.88.0.12/16"]], "n3": ["eth1": ["10.88.0.13/16"]],
    ]

    static func milliseconds(_ duration: Duration) -> Double {
        duration.seconds * 1000
    }

    @Test(arguments: [1, 100, 1000])
    func passCost(instances: Int) {
        let clock = ContinuousClock()
        let topology = ClusterTopology(local: "n1", members: Self.members)
        var records = (0..<instances).map { index in
            DataPlanePlannerTests.record(
                "i\(index)", vip: "10.88.\(1 + index / 250).\(1 + index % 250)", vrid: 1 + index % 254, version: 1
            )
        }
        var world = PlannerWorld()
        let first = clock.measure { world.pass(DataPlanePlannerTests.snapshot(records), topology: topology) }
        var steady: [Duration] = []
        for step in 1...20 {
            world.now = Double(step) * 0.2
            steady.append(clock.measure { world.pass(DataPlanePlannerTests.snapshot(records), topology: topology) })
        }
        // A new version of one instance: decoded and rendered again, the rest from the caches.
        records[0].version = HLCTimestamp(rawValue: 2)
        world.now = 10
        let modify = clock.measure { world.pass(DataPlanePlannerTests.snapshot(records, revision: 2), topology: topology) }
        steady.sort()
        print(String(
            format: "planner, %d instances, 3 nodes: first pass %.1f ms, steady pass p50 %.2f ms (max %.2f), pass with one modify %.2f ms",
            instances, Self.milliseconds(first), Self.milliseconds(steady[steady.count / 2]), Self.milliseconds(steady.last!),
            Self.milliseconds(modify)
        ))
        #expect(world.planner.haproxy.count == instances)
    }
}
