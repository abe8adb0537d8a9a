extension Membership {
    /// A small, fast, seedable generator (SplitMix64, Steele et al. 2014). The instance holds one
    /// as a value, so a given seed and event sequence always produce the same directives.
    public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
        private var state: UInt64

        /// Creates a generator from a seed; any value is fine.
        public init(seed: UInt64) { state = seed }

        /// The next 64 random bits.
        public mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}

/// The few logarithms the protocol needs, without Foundation or libm.
enum Arithmetic {
    private static let ln2 = 0.693_147_180_559_945_3
    private static let ln10 = 2.302_585_092_994_046

    /// Natural logarithm for positive finite input: range-reduce to [1, 2), then the atanh series.
    static func naturalLog(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return x == 0 ? -.infinity : .nan }
        let exponent = Double(x.exponent)
        let mantissa = x.significand
        let z = (mantissa - 1) / (mantissa + 1)
        let z2 = z * z
        var term = z
        var sum = 0.0
        var divisor = 1.0
        for _ in 0..<30 {
            sum += term / divisor
            term *= z2
            divisor += 2
        }
        return 2 * sum + exponent * ln2
    }

    static func log10(_ x: Double) -> Double { naturalLog(x) / ln10 }

    /// `ceil(log10(n))` for n ≥ 1, exactly, on integers.
    static func ceilLog10(_ n: Int) -> Int {
        var digits = 0
        var power = 1
        while power < n, digits < 18 {
            power *= 10
            digits += 1
        }
        return digits
    }
}
