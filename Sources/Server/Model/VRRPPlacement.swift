/// Where each VIP lives, decided identically on every node from membership alone.
///
/// A VRRP group (one `vrrp_instance`: a VRID on an interface and address family) gets, on every
/// node, a priority from rendezvous (highest-random-weight) hashing of the group's key with the
/// node's name: nodes are ranked by `hash(group, node)` and the first gets 250, the next 249, …
/// So every group has a distinct priority per node, the top ranks spread evenly over the nodes, and
/// the relative order of two nodes for a group never depends on the others: a node joining or
/// leaving moves only the groups it ranks first for (and, with `nopreempt`, not even those until
/// their current master fails). Ranks count every known member, alive, dead or departed, so a
/// node's death, leave or return changes nobody's configuration: its VIPs go to the next-ranked
/// live node by VRRP alone.
public enum VRRPPlacement {
    /// The highest priority handed out; 255 stays reserved for address owners (single-node mode).
    public static let topPriority = 250

    /// This node's priority for `group` among `members` (names; `node` must be one of them).
    public static func priority(group: String, node: String, members: some Sequence<String>) -> Int {
        let ranked = ranking(group: group, members: members)
        let rank = ranked.firstIndex(of: node) ?? ranked.count
        return max(1, topPriority - rank)
    }

    /// Members ordered by preference for `group`: the expected master first.
    public static func ranking(group: String, members: some Sequence<String>) -> [String] {
        Set(members).sorted { a, b in
            let (ha, hb) = (score(group, a), score(group, b))
            return ha != hb ? ha > hb : a < b
        }
    }

    /// A stable 64-bit hash (FNV-1a, then a SplitMix64 finaliser for spread): never Swift's seeded
    /// `Hasher`, which differs between processes.
    static func score(_ group: String, _ node: String) -> UInt64 {
        var hash = FNV1a.hash(group.utf8 + [0] + node.utf8)
        hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
        return hash ^ (hash >> 31)
    }
}
