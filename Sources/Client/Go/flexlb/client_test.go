package flexlb

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

func validConfig() InstanceConfig {
	return InstanceConfig{
		Name: "web", FrontendInterface: "eth0", FrontendIPAddress: "192.0.2.10",
		Endpoints: []Endpoint{{
			FrontendPort:   80,
			BackendServers: []BackendServer{{Name: "web1", IPAddress: "10.0.0.1", Port: 8080, Options: Ptr("check")}},
		}},
	}
}

func TestValidConfigValidates(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateReportsEveryViolationWithWirePaths(t *testing.T) {
	cfg := validConfig()
	cfg.Name = ".."
	cfg.FrontendIPAddress = "fe80::1%eth0"
	cfg.FrontendNetPrefix = Ptr(int32(7))
	cfg.Endpoints[0].FrontendPort = 0
	cfg.Endpoints[0].Mode = Ptr(EndpointMode("sctp"))
	cfg.Endpoints[0].BackendOptions = []string{"ok", "comment # here"}
	cfg.Endpoints[0].BackendServers = append(cfg.Endpoints[0].BackendServers, BackendServer{Name: "web2", IPAddress: "10.0.0", Port: 70000})
	err := cfg.Validate()
	want := []string{
		"$.endpoints[0].backend_options[1]", "$.endpoints[0].backend_servers[1].ipaddress",
		"$.endpoints[0].backend_servers[1].port", "$.endpoints[0].frontend_port", "$.endpoints[0].mode",
		"$.frontend_ipaddress", "$.frontend_net_prefix", "$.name",
	}
	if got := pathSet(Violations(err)); !reflect.DeepEqual(got, want) {
		t.Fatalf("paths %v, want %v (%v)", got, want, err)
	}
	if !errors.Is(err, ErrBadRequest) {
		t.Error("a validation error is a bad request")
	}
}

func TestValidateJSONSeesWhatTypesCannot(t *testing.T) {
	body := `{"name": 5, "frontend_interface": "eth0", "frontend_ipaddress": "10.0.0.1", "frontend_net_prefix": 24.5,
		"weird key": 1, "endpoints": [{"frontend_port": "80", "backend_servers": null, "mode": null}]}`
	err := ValidateJSON("InstanceConfig", []byte(body))
	want := []string{"$.endpoints[0].backend_servers", "$.endpoints[0].frontend_port", "$.frontend_net_prefix", "$.name", "$['weird key']"}
	if got := pathSet(Violations(err)); !reflect.DeepEqual(got, want) {
		t.Fatalf("paths %v, want %v (%v)", got, want, err)
	}
	if err := ValidateJSON("NoSuchSchema", []byte("{}")); err == nil {
		t.Error("unknown schema accepted")
	}
}

func TestIntegralNumbersAreIntegers(t *testing.T) {
	for n, ok := range map[string]bool{"80": true, "80.0": true, "8e1": true, "80.5": false, "1e400": false, "-0": true} {
		if _, got := integerValue(json.Number(n)); got != ok {
			t.Errorf("%s: integer = %v", n, got)
		}
	}
}

func TestMaxItemsStopsBeforeTheElements(t *testing.T) {
	cfg := validConfig()
	for i := 0; i < 65; i++ {
		cfg.Endpoints[0].BackendOptions = append(cfg.Endpoints[0].BackendOptions, "bad\n")
	}
	if got := pathSet(Violations(cfg.Validate())); !reflect.DeepEqual(got, []string{"$.endpoints[0].backend_options"}) {
		t.Fatal(got)
	}
}

func TestPatternWithLeadingLookahead(t *testing.T) {
	if pattern1.source != `^(?!\.+$)[A-Za-z0-9\-_.]{1,32}$` {
		t.Fatalf("pattern1 is %s", pattern1.source)
	}
	for name, ok := range map[string]bool{"web": true, "a.b": true, ".": false, "...": false, ".a": true, "": false, "a b": false} {
		if pattern1.matches(name) != ok {
			t.Errorf("%q: matches = %v", name, !ok)
		}
	}
}

func TestIPAddresses(t *testing.T) {
	for s, ok := range map[string]bool{"10.0.0.1": true, "::1": true, "2001:db8::1": true, "::ffff:10.0.0.1": true,
		"010.0.0.1": false, "10.0.0": false, "fe80::1%eth0": false, " 10.0.0.1": false, "vip.example.com": false, "": false} {
		if isIPAddress(s) != ok {
			t.Errorf("%q: %v", s, !ok)
		}
	}
}

func TestJSONPathKeys(t *testing.T) {
	cases := map[string]string{"name": "$.name", "If-Match": "$.If-Match", "a b": "$['a b']", "it's": `$['it\'s']`, "": "$['']"}
	for k, want := range cases {
		if got := key("$", k); got != want {
			t.Errorf("key(%q) = %s, want %s", k, got, want)
		}
	}
}

func TestApplyDefaults(t *testing.T) {
	cfg := validConfig()
	cfg.ApplyDefaults()
	ep := cfg.Endpoints[0]
	if *cfg.FrontendNetPrefix != 32 || *ep.Mode != EndpointModeTCP || *ep.Balance != "roundrobin" || *ep.FrontendOptions != "" ||
		*ep.BackendServers[0].Options != "check" || *ep.BackendDefaultServer == "" {
		data, _ := json.Marshal(cfg)
		t.Fatalf("defaults not applied: %s", data)
	}
	keep := validConfig()
	keep.Endpoints[0].Mode = Ptr(EndpointModeHTTP)
	keep.ApplyDefaults()
	if *keep.Endpoints[0].Mode != EndpointModeHTTP {
		t.Error("a set value was overwritten")
	}
}

func TestOptionalFieldsAreLeftOut(t *testing.T) {
	data, _ := json.Marshal(Endpoint{FrontendPort: 80, BackendServers: []BackendServer{}})
	if string(data) != `{"frontend_port":80,"backend_servers":[]}` {
		t.Fatal(string(data))
	}
}

func TestAPIErrorIs(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &APIError{Status: 404, Message: "no instance x"})
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		t.Fatal("errors.Is does not follow the status")
	}
	for status, sentinel := range map[int]error{409: ErrConflict, 412: ErrPreconditionFailed, 403: ErrForbidden, 400: ErrBadRequest} {
		if !errors.Is(&APIError{Status: status}, sentinel) {
			t.Errorf("%d is not %v", status, sentinel)
		}
	}
}

func TestEndpoints(t *testing.T) {
	c, err := New(Options{Endpoints: []string{"192.0.2.1:8443", "https://[2001:db8::1]:8443/"}, TLSConfig: &tls.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Endpoints(); !reflect.DeepEqual(got, []string{"https://192.0.2.1:8443", "https://[2001:db8::1]:8443"}) {
		t.Fatal(got)
	}
	if _, err := New(Options{Endpoints: []string{"http://x:1"}, TLSConfig: &tls.Config{}}); err == nil {
		t.Error("plain http accepted")
	}
	if _, err := New(Options{Endpoints: []string{"x:1"}}); err == nil {
		t.Error("a client without certificates")
	}
}

func TestFailoverPolicy(t *testing.T) {
	// Not sent: every endpoint once, idempotent or not.
	p := newFailoverPolicy(3, 1, false, 2, time.Millisecond, true)
	if d := p.start(); d.endpoint != 1 {
		t.Fatal(d)
	}
	if d := p.next(outcomeNotSent, 0); d.kind != directiveSend || d.endpoint != 2 {
		t.Fatal(d)
	}
	if d := p.next(outcomeNotSent, 0); d.kind != directiveSend || d.endpoint != 0 {
		t.Fatal(d)
	}
	if d := p.next(outcomeNotSent, 0); d.kind != directiveFail {
		t.Fatal("a non-idempotent request got extra rounds", d)
	}
	// Maybe sent: a POST is not sent again.
	p = newFailoverPolicy(3, 0, false, 2, time.Millisecond, true)
	if d := p.next(outcomeMaybeSent, 0); d.kind != directiveFail {
		t.Fatal(d)
	}
	// Idempotent: rounds with growing pauses.
	p = newFailoverPolicy(2, 0, true, 2, time.Millisecond, true)
	var delays []time.Duration
	for d := p.next(outcomeMaybeSent, 0); d.kind == directiveSend; d = p.next(outcomeMaybeSent, 0) {
		delays = append(delays, d.delay)
	}
	if !reflect.DeepEqual(delays, []time.Duration{0, time.Millisecond, 0, 2 * time.Millisecond, 0}) {
		t.Fatal(delays)
	}
	// 503: moves on unless the status is the answer.
	p = newFailoverPolicy(2, 0, true, 0, 0, true)
	if d := p.next(outcomeResponse, 503); d.kind != directiveSend {
		t.Fatal(d)
	}
	p = newFailoverPolicy(2, 0, true, 0, 0, false)
	if d := p.next(outcomeResponse, 503); d.kind != directiveDeliver {
		t.Fatal(d)
	}
	if d := newFailoverPolicy(2, 0, true, 0, 0, true).next(outcomeResponse, 404); d.kind != directiveDeliver {
		t.Fatal(d)
	}
}

// A local TLS server that fails some answers: GETs are retried, POSTs are not sent twice.
func TestRetriesOnlyIdempotentOperations(t *testing.T) {
	var gets, posts int32
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int32(0)
		if r.Method == http.MethodGet {
			n = atomic.AddInt32(&gets, 1)
		} else {
			n = atomic.AddInt32(&posts, 1)
		}
		if n == 1 {
			// The request reached a server that dies before answering.
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		w.Header().Set("ETag", `"7"`)
		_, _ = w.Write([]byte(`{"id": 1, "config": {"name": "x", "frontend_interface": "lo", "frontend_ipaddress": "10.0.0.1", "endpoints": []}, "status": {}}`))
	}))
	defer ts.Close()
	c, err := New(Options{Endpoints: []string{ts.URL}, TLSConfig: ts.Client().Transport.(*http.Transport).TLSClientConfig,
		Backoff: time.Millisecond, SkipValidation: true})
	if err != nil {
		t.Fatal(err)
	}
	var etag string
	if _, err := c.GetInstance(context.Background(), "x", ResponseETag(&etag)); err != nil || etag != `"7"` {
		t.Fatalf("GET not retried: %v (etag %q)", err, etag)
	}
	if _, err := c.StopInstance(context.Background(), "x"); err == nil {
		t.Fatal("a POST that may have been received was sent again")
	}
	if gets != 2 || posts != 1 {
		t.Fatalf("gets %d, posts %d", gets, posts)
	}
}

func TestServerVerificationIsOn(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ts.Close()
	// A client that trusts the system roots only must refuse httptest's self-signed certificate.
	c, err := New(Options{Endpoints: []string{ts.URL}, TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12}, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Livez(context.Background()); err == nil {
		t.Fatal("an unverified server was accepted")
	}
}
