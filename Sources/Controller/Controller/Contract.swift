/// FlexLB 0.4's Kubernetes contract (annotations, finalizer, defaults) plus what 1.0 adds.
public enum Contract {
    /// On a Service: the FlexLBCluster to use (default `default`).
    public static let clusterAnnotation = "flexlb.flexlet.io/cluster"
    /// On a Service: the pool of that cluster (default `default`).
    public static let poolAnnotation = "flexlb.flexlet.io/ippool"
    /// Written on the Service: the FlexLBInstance (and FlexLB instance) carrying it.
    public static let instanceAnnotation = "flexlb.flexlet.io/instance"
    /// Written on the FlexLBInstance: the Service it carries, `namespace/name`.
    public static let serviceAnnotation = "flexlb.flexlet.io/service"
    /// Written on the Service BEFORE the FlexLB instance exists: the allocated VIP, the ledger's
    /// durable record (rebuilt from these on start).
    public static let allocatedIPAnnotation = "flexlb.flexlet.io/allocated-ip"
    /// Set by users: the VIP wanted (like `spec.loadBalancerIP`, which is deprecated upstream).
    public static let requestedIPAnnotation = "flexlb.flexlet.io/loadBalancerIP"
    /// On Services and FlexLBInstances while the controller owes a cleanup.
    public static let finalizer = "flexlb.flexlet.io/finalizer"
    /// Label on FlexLBInstances made for a Service: the Service's name.
    public static let serviceNameLabel = "flexlb.flexlet.io/service-name"
    /// Our `spec.loadBalancerClass`.
    public static let loadBalancerClass = "flexlb.flexlet.io/flexlb"
    /// Node label that keeps a node out of load balancers (upstream convention).
    public static let excludeNodeLabel = "node.kubernetes.io/exclude-from-external-load-balancers"
    /// The Service condition type this controller owns.
    public static let readyCondition = "flexlb.flexlet.io/Ready"
    /// Names used when the annotations are absent.
    public static let defaultCluster = "default"
    public static let defaultPool = "default"
    /// The component name in Events.
    public static let component = "flexlb-kube-controller"
}
