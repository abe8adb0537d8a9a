// Package flexlb is the Go client of the FlexLB API (flexlbd), generated from the project's
// openapi.yaml by flexlb-openapi-generator: the models with their exact JSON names, Validate()
// with the same checks and JSON paths as flexlbd, and one Client method per operation.
//
// The *_gen.go files are generated (regenerate with test/regenerate-go.sh, never edit them); the
// other files are the hand-written runtime: mutual TLS, failover over several endpoints, retries
// of idempotent operations, typed errors. Standard library only.
//
//	c, err := flexlb.NewTLSClient([]string{"https://192.0.2.10:8443"}, "ca.crt", "client.crt", "client.key")
//	inst, err := c.CreateInstance(ctx, cfg)
//	if errors.Is(err, flexlb.ErrConflict) { ... }
package flexlb
