package flexlb_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/flexlet/flexlb/Sources/Client/Go/flexlb"
)

// The README's example: create an instance, then change it only if nobody else did meanwhile.
func Example() {
	ctx := context.Background()
	c, err := flexlb.NewTLSClient([]string{"https://192.0.2.10:8443", "https://192.0.2.11:8443"},
		"/etc/flexlb/certs/ca.crt", "/etc/flexlb/certs/client.crt", "/etc/flexlb/certs/client.key")
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := flexlb.InstanceConfig{
		Name: "web", FrontendInterface: "eth0", FrontendIPAddress: "192.0.2.100",
		Endpoints: []flexlb.Endpoint{{
			FrontendPort: 80, Mode: flexlb.Ptr(flexlb.EndpointModeHTTP),
			BackendServers: []flexlb.BackendServer{{Name: "web1", IPAddress: "10.0.0.11", Port: 8080, Options: flexlb.Ptr("check")}},
		}},
	}
	if err := cfg.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	var etag string
	inst, err := c.CreateInstance(ctx, cfg, flexlb.ResponseETag(&etag))
	switch {
	case errors.Is(err, flexlb.ErrConflict):
		fmt.Println("name or VIP:port in use")
		return
	case err != nil:
		fmt.Println(err)
		return
	}
	inst.Config.Endpoints[0].Balance = flexlb.Ptr("leastconn")
	if _, err := c.ModifyInstance(ctx, inst.Config, flexlb.IfMatch(etag)); errors.Is(err, flexlb.ErrPreconditionFailed) {
		fmt.Println("changed meanwhile: get it again and retry")
	}
}

func ExampleInstanceConfig_Validate() {
	cfg := flexlb.InstanceConfig{Name: "..", FrontendInterface: "eth0", FrontendIPAddress: "10.0.0.300"}
	for _, v := range flexlb.Violations(cfg.Validate()) {
		fmt.Println(v.Path, v.Message)
	}
	// Output:
	// $.name must match ^(?!\.+$)[A-Za-z0-9\-_.]{1,32}$
	// $.frontend_ipaddress is not a valid IP address
	// $.endpoints is required
}
