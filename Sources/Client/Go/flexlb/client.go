package flexlb

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// Options configure a Client.
type Options struct {
	// Endpoints are the flexlbd API addresses, tried in order with failover: "https://host:port"
	// or FlexLB 0.4's "host:port". The base path /flexlb/v1 is added.
	Endpoints []string
	// TLSConfig is used as given when set (it must carry the client certificate). Otherwise one is
	// built from CAFile, CertFile and KeyFile, with server verification on (IP SANs included).
	TLSConfig *tls.Config
	// CAFile is the PEM CA that the server certificate must chain to.
	CAFile string
	// CertFile and KeyFile are the client certificate and key (PEM) for mutual TLS.
	CertFile, KeyFile string
	// Timeout bounds each attempt (connect, send, answer); 0 means 30s. The context bounds the call.
	Timeout time.Duration
	// MaxRetries is how many more rounds over all endpoints an idempotent operation gets after
	// every endpoint failed; 0 means 2, negative means none.
	MaxRetries int
	// Backoff is the pause before the first extra round, doubled each round; 0 means 200ms.
	Backoff time.Duration
	// SkipValidation sends bodies and parameters without checking them against openapi.yaml first.
	SkipValidation bool
	// UserAgent is sent with every request; empty means "flexlb-go".
	UserAgent string
}

// Client calls flexlbd over mutual TLS. It is safe for concurrent use.
type Client struct {
	endpoints      []string
	http           *http.Client
	timeout        time.Duration
	maxRetries     int
	backoff        time.Duration
	skipValidation bool
	userAgent      string
	// preferred is the endpoint that answered last: the next call starts there.
	preferred atomic.Int32
}

// NewTLSClient is the shortest way to a client, like FlexLB 0.4's NewTLSClient: endpoints with
// failover, mutual TLS from PEM files, server verification on.
func NewTLSClient(endpoints []string, caFile, certFile, keyFile string) (*Client, error) {
	return New(Options{Endpoints: endpoints, CAFile: caFile, CertFile: certFile, KeyFile: keyFile})
}

// New builds a Client from options.
func New(o Options) (*Client, error) {
	if len(o.Endpoints) == 0 {
		return nil, errors.New("flexlb: no endpoint")
	}
	c := &Client{timeout: o.Timeout, maxRetries: o.MaxRetries, backoff: o.Backoff,
		skipValidation: o.SkipValidation, userAgent: o.UserAgent}
	for _, e := range o.Endpoints {
		base, err := normalizeEndpoint(e)
		if err != nil {
			return nil, err
		}
		c.endpoints = append(c.endpoints, base)
	}
	if c.timeout == 0 {
		c.timeout = 30 * time.Second
	}
	if c.maxRetries == 0 {
		c.maxRetries = 2
	}
	if c.backoff == 0 {
		c.backoff = 200 * time.Millisecond
	}
	if c.userAgent == "" {
		c.userAgent = "flexlb-go"
	}
	tlsConfig := o.TLSConfig
	if tlsConfig == nil {
		var err error
		if tlsConfig, err = TLSConfigFromFiles(o.CAFile, o.CertFile, o.KeyFile); err != nil {
			return nil, err
		}
	}
	transport := &http.Transport{
		TLSClientConfig:       tlsConfig,
		DialContext:           (&net.Dialer{Timeout: c.timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   c.timeout,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: c.timeout,
	}
	c.http = &http.Client{Transport: transport}
	return c, nil
}

// TLSConfigFromFiles builds the mutual-TLS configuration: the CA that verifies the server (its
// DNS or IP SANs must name the endpoint) and the client certificate. TLS 1.2 at least.
func TLSConfigFromFiles(caFile, certFile, keyFile string) (*tls.Config, error) {
	if caFile == "" || certFile == "" || keyFile == "" {
		return nil, errors.New("flexlb: mutual TLS needs a CA file, a certificate file and a key file")
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("flexlb: CA: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("flexlb: CA: no certificate in %s", caFile)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("flexlb: client certificate: %w", err)
	}
	return &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

func normalizeEndpoint(e string) (string, error) {
	if !strings.Contains(e, "://") {
		e = "https://" + e
	}
	u, err := url.Parse(e)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("flexlb: bad endpoint %q", e)
	}
	if u.Scheme != "https" {
		return "", fmt.Errorf("flexlb: endpoint %q: only https (mutual TLS) is supported", e)
	}
	return "https://" + u.Host + strings.TrimSuffix(u.Path, "/"), nil
}

// Endpoints returns the normalized endpoint base URLs, in failover order.
func (c *Client) Endpoints() []string { return append([]string(nil), c.endpoints...) }

// CallOption changes one call: IfMatch(etag), ResponseETag(&etag), WithHeader(name, value).
type CallOption func(*callOptions)

type callOptions struct {
	headers http.Header
	etag    *string
}

// WithHeader sends an extra request header.
func WithHeader(name, value string) CallOption { return withHeader(name, value) }

func withHeader(name, value string) CallOption {
	return func(o *callOptions) {
		if o.headers == nil {
			o.headers = http.Header{}
		}
		o.headers.Set(name, value)
	}
}

// ResponseETag stores the ETag header of the successful answer in dst (empty when there is none);
// pass it to IfMatch on a later write to make that write conditional.
func ResponseETag(dst *string) CallOption {
	return func(o *callOptions) { o.etag = dst }
}

// request is one operation call, filled in by the generated methods.
type request struct {
	operation      string
	method         string
	path           string
	success        int
	idempotent     bool
	statusIsAnswer bool
	body           interface{}
	values         url.Values
	headers        http.Header
}

func (r *request) query(name, value string) {
	if r.values == nil {
		r.values = url.Values{}
	}
	r.values.Set(name, value)
}

func (r *request) header(name, value string) {
	if r.headers == nil {
		r.headers = http.Header{}
	}
	r.headers.Set(name, value)
}

func pathEscape(s string) string { return url.PathEscape(s) }

func formatValue(x interface{}) string { return fmt.Sprint(x) }

func (c *Client) validateParameters(check func(*validator)) error {
	if c.skipValidation {
		return nil
	}
	var v validator
	check(&v)
	return v.err()
}

func (c *Client) validateBody(body interface{ Validate() error }) error {
	if c.skipValidation {
		return nil
	}
	return body.Validate()
}

type answer struct {
	endpoint string
	status   int
	header   http.Header
	body     []byte
}

// do sends r with failover and decodes the success answer into out (*[]byte takes the raw body).
func (c *Client) do(ctx context.Context, r *request, out interface{}, opts []CallOption) error {
	var co callOptions
	for _, o := range opts {
		o(&co)
	}
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("flexlb: %s: encoding the body: %w", r.operation, err)
		}
	}
	policy := newFailoverPolicy(len(c.endpoints), int(c.preferred.Load()), r.idempotent, c.maxRetries, c.backoff, !r.statusIsAnswer)
	var last *answer
	var lastErr error
	for d := policy.start(); ; {
		switch d.kind {
		case directiveSend:
			if d.delay > 0 {
				t := time.NewTimer(d.delay)
				select {
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				case <-t.C:
				}
			}
			a, o, err := c.attempt(ctx, c.endpoints[d.endpoint], r, body, co.headers)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			status := 0
			if err != nil {
				lastErr = err
			} else {
				last = a
				status = a.status
				c.preferred.Store(int32(d.endpoint))
			}
			d = policy.next(o, status)
		case directiveDeliver:
			return c.finish(r, last, out, co)
		default:
			if last != nil {
				return c.finish(r, last, out, co)
			}
			return fmt.Errorf("flexlb: %s: no endpoint answered: %w", r.operation, lastErr)
		}
	}
}

func (c *Client) attempt(ctx context.Context, base string, r *request, body []byte, extra http.Header) (*answer, outcome, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	target := base + basePath + r.path
	if len(r.values) > 0 {
		target += "?" + r.values.Encode()
	}
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, reader)
	if err != nil {
		return nil, outcomeNotSent, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", c.userAgent)
	for _, h := range []http.Header{r.headers, extra} {
		for k, vs := range h {
			req.Header[k] = vs
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, classify(err), fmt.Errorf("%s: %w", base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, outcomeMaybeSent, fmt.Errorf("%s: reading the answer: %w", base, err)
	}
	return &answer{endpoint: base, status: resp.StatusCode, header: resp.Header, body: data}, outcomeResponse, nil
}

// classify tells whether a failed attempt can have reached a server.
func classify(err error) outcome {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return outcomeNotSent
	}
	var unknownAuthority x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var record tls.RecordHeaderError
	if errors.As(err, &unknownAuthority) || errors.As(err, &invalid) || errors.As(err, &hostname) || errors.As(err, &record) {
		return outcomeNotSent
	}
	if strings.Contains(err.Error(), "tls: ") {
		return outcomeNotSent
	}
	return outcomeMaybeSent
}

func (c *Client) finish(r *request, a *answer, out interface{}, co callOptions) error {
	if a.status != r.success {
		e := &APIError{Operation: r.operation, Status: a.status, RequestID: a.header.Get("X-Request-Id"),
			Endpoint: a.endpoint, Body: a.body}
		var eb ErrorBody
		if json.Unmarshal(a.body, &eb) == nil && eb.Message != "" {
			e.Message = eb.Message
			e.Violations = eb.Violations
		} else {
			e.Message = http.StatusText(a.status)
		}
		return e
	}
	if co.etag != nil {
		*co.etag = a.header.Get("ETag")
	}
	switch dst := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*dst = a.body
		return nil
	default:
		if err := json.Unmarshal(a.body, dst); err != nil {
			return fmt.Errorf("flexlb: %s: decoding the answer: %w", r.operation, err)
		}
		return nil
	}
}

// Ptr returns a pointer to v, for the optional fields of the models.
func Ptr[T any](v T) *T { return &v }
