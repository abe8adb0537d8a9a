package flexlb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// The shared conformance scenarios (test/conformance/scenarios.json), run with this client against
// a real flexlbd. A body the typed models can express is sent through the typed method; its
// Validate() must report exactly the paths flexlbd reports (checked on both sides). A body they
// cannot express (wrong JSON types, unknown properties, explicit nulls) is checked with
// ValidateJSON and sent raw over the same mutual TLS.

type scenarioFile struct {
	Bodies    map[string]json.RawMessage `json:"bodies"`
	Scenarios []scenario                 `json:"scenarios"`
}

type scenario struct {
	ID         string `json:"id"`
	ServerOnly bool   `json:"server_only"`
	Steps      []step `json:"steps"`
}

type step struct {
	Op          string            `json:"op"`
	Name        *string           `json:"name"`
	Query       map[string]string `json:"query"`
	Body        *bodySpec         `json:"body"`
	IfMatch     string            `json:"if_match"`
	ContentType string            `json:"content_type"`
	Endpoints   string            `json:"endpoints"`
	Expect      expectation       `json:"expect"`
}

type bodySpec struct {
	Base    string          `json:"base"`
	Literal json.RawMessage `json:"literal"`
	Set     []struct {
		At    []interface{}   `json:"at"`
		Value json.RawMessage `json:"value"`
	} `json:"set"`
	Remove [][]interface{} `json:"remove"`
}

type expectation struct {
	Status     int      `json:"status"`
	Body       string   `json:"body"`
	Violations []string `json:"violations"`
	ETag       bool     `json:"etag"`
	Fields     []struct {
		At    []interface{}   `json:"at"`
		Value json.RawMessage `json:"value"`
	} `json:"fields"`
}

func loadScenarios(t *testing.T) scenarioFile {
	_, file, _, _ := runtime.Caller(0)
	data, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "test", "conformance", "scenarios.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f scenarioFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func mustDecode(t *testing.T, data []byte) interface{} {
	j, err := decodeJSON(data)
	if err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	return j
}

func expand(t *testing.T, raw json.RawMessage) interface{} {
	v := mustDecode(t, raw)
	if m, ok := v.(map[string]interface{}); ok && len(m) == 1 {
		if r, ok := m["$repeat"].([]interface{}); ok {
			n, _ := integerValue(r[1])
			return strings.Repeat(r[0].(string), int(n))
		}
		if r, ok := m["$fill"].([]interface{}); ok {
			n, _ := integerValue(r[1])
			out := make([]interface{}, n)
			for i := range out {
				out[i] = r[0]
			}
			return out
		}
	}
	return v
}

// setAt returns doc with the value at path replaced (or appended, for an index one past the end).
func setAt(doc interface{}, path []interface{}, value interface{}, remove bool) interface{} {
	if len(path) == 0 {
		return value
	}
	switch d := doc.(type) {
	case map[string]interface{}:
		k := path[0].(string)
		if len(path) == 1 && remove {
			delete(d, k)
			return d
		}
		d[k] = setAt(d[k], path[1:], value, remove)
		return d
	case []interface{}:
		i := int(path[0].(float64))
		if i == len(d) {
			d = append(d, nil)
		}
		if len(path) == 1 && remove {
			return append(d[:i], d[i+1:]...)
		}
		d[i] = setAt(d[i], path[1:], value, remove)
		return d
	}
	panic(fmt.Sprintf("cannot descend into %T at %v", doc, path))
}

func getAt(doc interface{}, path []interface{}) interface{} {
	for _, p := range path {
		switch d := doc.(type) {
		case map[string]interface{}:
			doc = d[p.(string)]
		case []interface{}:
			i := int(p.(float64))
			if i >= len(d) {
				return nil
			}
			doc = d[i]
		default:
			return nil
		}
	}
	return doc
}

func materialize(t *testing.T, f scenarioFile, b *bodySpec) []byte {
	if len(b.Literal) > 0 {
		return b.Literal
	}
	doc := mustDecode(t, f.Bodies[b.Base])
	for _, s := range b.Set {
		doc = setAt(doc, s.At, expand(t, s.Value), false)
	}
	for _, r := range b.Remove {
		doc = setAt(doc, r, nil, true)
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// typedConfig decodes data into InstanceConfig when the typed model expresses it exactly.
func typedConfig(data []byte) (InstanceConfig, bool) {
	var cfg InstanceConfig
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if d.Decode(&cfg) != nil {
		return cfg, false
	}
	back, err := json.Marshal(cfg)
	if err != nil {
		return cfg, false
	}
	a, errA := decodeJSON(data)
	b, errB := decodeJSON(back)
	return cfg, errA == nil && errB == nil && reflect.DeepEqual(a, b)
}

func pathSet(vs []Violation) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, v := range vs {
		if !seen[v.Path] {
			seen[v.Path] = true
			out = append(out, v.Path)
		}
	}
	sort.Strings(out)
	return out
}

func sortedUnique(paths []string) []string {
	return pathSet(func() []Violation {
		vs := make([]Violation, len(paths))
		for i, p := range paths {
			vs[i] = Violation{Path: p}
		}
		return vs
	}())
}

// outcome of one step, whichever way it was sent.
type stepResult struct {
	status     int
	body       interface{}
	etag       string
	violations []Violation
}

func TestScenarios(t *testing.T) {
	s := server(t)
	f := loadScenarios(t)
	plain := s.client(t, Options{SkipValidation: true})
	validating := s.client(t, Options{})
	dead := fmt.Sprintf("https://127.0.0.1:%d", freePort(t))
	failover := s.client(t, Options{Endpoints: []string{dead, s.endpoint()}, SkipValidation: true})
	tlsConfig, err := TLSConfigFromFiles(s.file("ca.crt"), s.file("client.crt"), s.file("client.key"))
	if err != nil {
		t.Fatal(err)
	}
	raw := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig}, Timeout: 30 * time.Second}
	for _, sc := range f.Scenarios {
		sc := sc
		t.Run(sc.ID, func(t *testing.T) {
			etag := ""
			for i, st := range sc.Steps {
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				c := plain
				if st.Endpoints == "dead-first" {
					c = failover
				}
				res := runStep(ctx, t, f, sc, st, c, validating, raw, s.endpoint(), etag)
				cancel()
				checkStep(t, fmt.Sprintf("step %d (%s)", i, st.Op), st, res)
				if st.Expect.ETag {
					etag = res.etag
				}
			}
		})
	}
}

func runStep(ctx context.Context, t *testing.T, f scenarioFile, sc scenario, st step, c, validating *Client,
	raw *http.Client, endpoint, etag string) stepResult {
	var opts []CallOption
	ifMatch := st.IfMatch
	if ifMatch == "$etag" {
		ifMatch = etag
	}
	if ifMatch != "" {
		opts = append(opts, IfMatch(ifMatch))
	}
	var got string
	opts = append(opts, ResponseETag(&got))
	name := ""
	if st.Name != nil {
		name = *st.Name
	}
	var body []byte
	var cfg InstanceConfig
	typed := true
	if st.Body != nil {
		body = materialize(t, f, st.Body)
		cfg, typed = typedConfig(body)
		typed = typed && st.ContentType == ""
		// Client-side validation: exactly the server's paths, or none for a rule only flexlbd judges.
		if st.ContentType == "" && st.Expect.Status == 400 {
			var verr error
			if typed {
				verr = cfg.Validate()
				_, sendErr := validating.CreateInstance(ctx, cfg)
				if !sc.ServerOnly {
					var ve *ValidationError
					if !errors.As(sendErr, &ve) || !errors.Is(sendErr, ErrBadRequest) {
						t.Errorf("validating client sent an invalid body (got %v)", sendErr)
					}
				}
			} else {
				verr = ValidateJSON("InstanceConfig", body)
			}
			want := sortedUnique(st.Expect.Violations)
			if sc.ServerOnly {
				want = []string{}
			}
			if gotPaths := pathSet(Violations(verr)); !reflect.DeepEqual(gotPaths, want) {
				t.Errorf("client-side validation (typed=%v): paths %v, want %v (%v)", typed, gotPaths, want, verr)
			}
		}
	}
	if !typed {
		return rawStep(ctx, t, st, raw, endpoint, name, body, ifMatch)
	}
	var out interface{}
	var err error
	switch st.Op {
	case "readyz":
		out, err = c.Readyz(ctx)
	case "livez":
		out, err = c.Livez(ctx)
	case "ready":
		out, err = c.Ready(ctx)
	case "listNodes":
		out, err = c.ListNodes(ctx)
	case "drainNode":
		out, err = c.DrainNode(ctx, name)
	case "undrainNode":
		out, err = c.UndrainNode(ctx, name)
	case "getOpenAPI":
		var b []byte
		b, err = c.GetOpenAPI(ctx)
		out = string(b)
	case "create":
		out, err = c.CreateInstance(ctx, cfg, opts...)
	case "modify":
		out, err = c.ModifyInstance(ctx, cfg, opts...)
	case "list":
		out, err = c.ListInstances(ctx, st.Query["name"], opts...)
	case "get":
		out, err = c.GetInstance(ctx, name, opts...)
	case "delete":
		out, err = c.DeleteInstance(ctx, name, opts...)
	case "stop":
		out, err = c.StopInstance(ctx, name, opts...)
	case "start":
		out, err = c.StartInstance(ctx, name, opts...)
	default:
		t.Fatalf("unknown op %s", st.Op)
	}
	res := stepResult{etag: got}
	var apiErr *APIError
	switch {
	case err == nil:
		res.status = 200
		if s, ok := out.(string); ok {
			res.body = s
		} else {
			data, _ := json.Marshal(out)
			res.body = mustDecode(t, data)
		}
	case errors.As(err, &apiErr):
		res.status = apiErr.Status
		res.violations = apiErr.Violations
		res.body = mustDecode(t, apiErr.Body)
		for status, sentinel := range statusErrors {
			if errors.Is(err, sentinel) != (status == apiErr.Status) {
				t.Errorf("errors.Is(%d error, %v) wrong", apiErr.Status, sentinel)
			}
		}
	default:
		var ve *ValidationError
		if errors.As(err, &ve) {
			t.Fatalf("%s: client refused the request: %v", st.Op, err)
		}
		t.Fatalf("%s: %v", st.Op, err)
	}
	return res
}

var routes = map[string][2]string{
	"create": {"POST", "/instances"}, "modify": {"PUT", "/instances"}, "list": {"GET", "/instances"},
	"get": {"GET", "/instances/{name}"}, "delete": {"DELETE", "/instances/{name}"},
	"stop": {"POST", "/instances/{name}/stop"}, "start": {"POST", "/instances/{name}/start"},
}

func rawStep(ctx context.Context, t *testing.T, st step, raw *http.Client, endpoint, name string, body []byte,
	ifMatch string) stepResult {
	route, ok := routes[st.Op]
	if !ok {
		t.Fatalf("no raw route for %s", st.Op)
	}
	target := endpoint + basePath + strings.Replace(route[1], "{name}", url.PathEscape(name), 1)
	req, err := http.NewRequestWithContext(ctx, route[0], target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ct := st.ContentType
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := raw.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", st.Op, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	res := stepResult{status: resp.StatusCode, etag: resp.Header.Get("ETag"), body: mustDecode(t, data)}
	var eb ErrorBody
	if json.Unmarshal(data, &eb) == nil {
		res.violations = eb.Violations
	}
	return res
}

func checkStep(t *testing.T, where string, st step, res stepResult) {
	t.Helper()
	want := st.Expect
	if res.status != want.Status {
		t.Fatalf("%s: status %d, want %d (%v)", where, res.status, want.Status, res.body)
	}
	if want.Violations != nil {
		if got := pathSet(res.violations); !reflect.DeepEqual(got, sortedUnique(want.Violations)) {
			t.Errorf("%s: flexlbd reported %v, want %v", where, got, sortedUnique(want.Violations))
		}
	}
	switch {
	case want.Body == "text":
		if s, _ := res.body.(string); !strings.HasPrefix(s, "openapi:") {
			t.Errorf("%s: not the spec: %.80q", where, s)
		}
	case strings.HasSuffix(want.Body, "[]"):
		items, ok := res.body.([]interface{})
		if !ok {
			t.Fatalf("%s: not an array: %v", where, res.body)
		}
		for _, item := range items {
			checkShape(t, where, strings.TrimSuffix(want.Body, "[]"), item)
		}
	case want.Body != "":
		checkShape(t, where, want.Body, res.body)
	}
	for _, fld := range want.Fields {
		wantValue := mustDecode(t, fld.Value)
		if got := getAt(res.body, fld.At); !reflect.DeepEqual(got, wantValue) {
			t.Errorf("%s: %v = %v, want %v", where, fld.At, got, wantValue)
		}
	}
	if want.ETag && !strings.HasPrefix(res.etag, `"`) {
		t.Errorf("%s: no strong ETag: %q", where, res.etag)
	}
}

// checkShape: the body validates against the named schema (responses are read leniently: unknown
// properties of closed schemas would be a server bug, so they are reported too).
func checkShape(t *testing.T, where, schema string, body interface{}) {
	t.Helper()
	data, _ := json.Marshal(body)
	if err := ValidateJSON(schema, data); err != nil {
		t.Errorf("%s: body is not a %s: %v", where, schema, err)
	}
}
