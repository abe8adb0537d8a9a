import FlexLBCluster

/// A deterministic in-memory network of membership instances, driven by a manual clock: UDP
/// datagrams go through the real codec with a fixed latency and optional random loss, push/pull
/// exchanges run synchronously (TCP: no loss), killed nodes neither tick nor answer.
struct SimulatedNetwork {
    struct Delivery: Equatable {
        var at: Double
        var key: String
        var payload: [UInt8]
    }

    private struct Datagram {
        var at: Double
        var order: Int
        var from: String
        var to: String
        var bytes: [UInt8]
    }

    var settings: Membership.Settings
    var now: Double = 0
    var latency: Double = 0.001
    var lossRate: Double = 0
    /// Nodes by address, killed ones included.
    private(set) var nodes: [String: Membership.Instance] = [:]
    /// Addresses of killed nodes.
    private(set) var down: Set<String> = []
    /// Unordered address pairs that cannot talk (a partition).
    var cut: Set<[String]> = []
    /// Application deliveries per address, in order.
    private(set) var deliveries: [String: [Delivery]] = [:]
    /// Datagrams sent in total.
    private(set) var datagrams = 0
    private var inFlight: [Datagram] = []
    private var sendOrder = 0
    private var rng: SplitMix64Wrapper

    init(settings: Membership.Settings = Membership.Settings(), lossRate: Double = 0, seed: UInt64 = 1) {
        self.settings = settings
        self.lossRate = lossRate
        self.rng = SplitMix64Wrapper(seed: seed)
    }

    static func address(_ name: String) -> String { "\(name):7946" }

    /// Starts (or restarts, with fresh state) node `name` joining through `seeds` (names).
    mutating func start(_ name: String, seeds: [String] = [], metadata: [UInt8] = [], seed: UInt64? = nil) {
        let address = Self.address(name)
        down.remove(address)
        let instance = Membership.Instance(
            localName: name, localAddress: address, metadata: metadata, seeds: seeds.map(Self.address),
            settings: settings, now: now, randomSeed: seed ?? rng.next())
        nodes[address] = instance
    }

    /// Stops a node abruptly: it keeps its state but no longer ticks, receives or answers.
    mutating func kill(_ name: String) { down.insert(Self.address(name)) }

    func node(_ name: String) -> Membership.Instance? { nodes[Self.address(name)] }

    /// The status `observer` holds for `subject`.
    func status(of subject: String, at observer: String) -> Membership.Status? {
        node(observer)?.member(named: subject)?.status
    }

    var liveNames: [String] {
        nodes.filter { !down.contains($0.key) }.map { $0.value.local.name }.sorted()
    }

    /// Runs one instance operation and executes its directives.
    mutating func perform(_ name: String, _ body: (inout Membership.Instance) -> [Membership.Directive]) {
        let address = Self.address(name)
        guard var instance = nodes[address] else { return }
        let directives = body(&instance)
        nodes[address] = instance
        execute(directives, at: address)
    }

    /// Advances the clock in `step`s until `deadline`, delivering datagrams and ticking every live node.
    mutating func run(for duration: Double, step: Double = 0.01) {
        let deadline = now + duration
        while now + step <= deadline + 1e-9 { advance(step) }
    }

    /// Advances until `condition` holds or `limit` seconds passed; returns the elapsed time if it held.
    @discardableResult
    mutating func run(until condition: (Self) -> Bool, limit: Double, step: Double = 0.01) -> Double? {
        let start = now
        while now - start < limit {
            if condition(self) { return now - start }
            advance(step)
        }
        return condition(self) ? now - start : nil
    }

    private mutating func advance(_ step: Double) {
        now += step
        deliverDue()
        let now = self.now
        for address in nodes.keys.sorted() where !down.contains(address) {
            perform(address: address) { $0.tick(now: now) }
        }
    }

    private mutating func deliverDue() {
        let now = self.now
        while true {
            let due = inFlight.indices.filter { inFlight[$0].at <= now }
            guard !due.isEmpty else { return }
            let batch = due.map { inFlight[$0] }.sorted { ($0.at, $0.order) < ($1.at, $1.order) }
            inFlight.removeAll { $0.at <= now }
            for datagram in batch where !down.contains(datagram.to) {
                guard let message = try? Membership.Message.decode(datagram.bytes) else {
                    fatalError("undecodable datagram from \(datagram.from)")
                }
                perform(address: datagram.to) { $0.receive(message, from: datagram.from, now: now) }
            }
        }
    }

    private mutating func perform(address: String, _ body: (inout Membership.Instance) -> [Membership.Directive]) {
        guard var instance = nodes[address] else { return }
        let directives = body(&instance)
        nodes[address] = instance
        execute(directives, at: address)
    }

    private func reachable(_ from: String, _ to: String) -> Bool {
        !down.contains(to) && !down.contains(from) && !cut.contains([from, to].sorted())
    }

    private mutating func execute(_ directives: [Membership.Directive], at address: String) {
        let now = self.now
        for directive in directives {
            switch directive {
            case let .send(message, to):
                datagrams += 1
                let bytes = message.encode()
                precondition(bytes.count <= settings.packetBudget, "datagram of \(bytes.count) bytes over budget")
                guard reachable(address, to), nodes[to] != nil else { continue }
                if lossRate > 0, rng.unit() < lossRate { continue }
                sendOrder += 1
                inFlight.append(Datagram(at: now + latency, order: sendOrder, from: address, to: to, bytes: bytes))
            case let .pushPull(to):
                guard reachable(address, to), let initiator = nodes[address], nodes[to] != nil else { continue }
                let request = Membership.MemberState.encodeList(initiator.pushPullState())
                guard let offered = try? Membership.MemberState.decodeList(request) else { fatalError("push/pull codec") }
                perform(address: to) { $0.mergePushPull(offered, now: now) }
                guard let responder = nodes[to], let answer = try? Membership.MemberState.decodeList(
                    Membership.MemberState.encodeList(responder.pushPullState())) else { continue }
                perform(address: address) { $0.mergePushPull(answer, now: now) }
            case .memberChanged:
                break
            case let .deliver(key, payload):
                deliveries[address, default: []].append(Delivery(at: now, key: key, payload: payload))
            case let .pushLarge(key, payload, to):
                for target in to where reachable(address, target) {
                    deliveries[target, default: []].append(Delivery(at: now, key: key, payload: payload))
                }
            }
        }
    }
}

/// The tests' own randomness (loss decisions, node seeds), separate from the instances'.
struct SplitMix64Wrapper {
    private var generator: Membership.SplitMix64
    init(seed: UInt64) { generator = Membership.SplitMix64(seed: seed) }
    mutating func next() -> UInt64 { generator.next() }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
