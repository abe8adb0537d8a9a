extension Duration {
    /// The duration in seconds as a floating-point number (the clocks of the pure state machines).
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
