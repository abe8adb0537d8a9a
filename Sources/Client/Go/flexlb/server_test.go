package flexlb

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testServer is one real flexlbd on 127.0.0.1 with certificates from `flexlb certs init`, made at
// test time in a temporary directory (no key is ever committed). Data plane off: API and store only.
type testServer struct {
	dir, certs string
	port       int
	cmd        *exec.Cmd
	done       chan struct{}
}

var (
	sharedServer     *testServer
	sharedServerErr  error
	sharedServerOnce sync.Once
)

// binary finds flexlbd or flexlb: $FLEXLBD / $FLEXLB, else $FLEXLB_BIN_DIR, else the repository's
// .build/debug. Missing binaries fail the test when FLEXLB_BIN_DIR is set (CI), else skip it.
func binary(t *testing.T, name, env string) string {
	if p := os.Getenv(env); p != "" {
		return p
	}
	dir := os.Getenv("FLEXLB_BIN_DIR")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "..", ".build", "debug")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("FLEXLB_BIN_DIR") != "" {
			t.Fatalf("%s not found in FLEXLB_BIN_DIR: %v", name, err)
		}
		t.Skipf("%s not built (%v); run swift build or set FLEXLB_BIN_DIR", name, err)
	}
	return p
}

// freePort returns a loopback port nothing listens on (bound and released).
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// server returns the flexlbd shared by this package's tests, starting it on first use.
func server(t *testing.T) *testServer {
	flexlbd := binary(t, "flexlbd", "FLEXLBD")
	flexlb := binary(t, "flexlb", "FLEXLB")
	sharedServerOnce.Do(func() { sharedServer, sharedServerErr = startServer(t, flexlbd, flexlb) })
	if sharedServerErr != nil {
		t.Fatal(sharedServerErr)
	}
	return sharedServer
}

func startServer(t *testing.T, flexlbd, flexlb string) (*testServer, error) {
	dir, err := os.MkdirTemp("", "flexlb-go-test-")
	if err != nil {
		return nil, err
	}
	s := &testServer{dir: dir, certs: filepath.Join(dir, "certs"), port: freePort(t), done: make(chan struct{})}
	out, err := exec.Command(flexlb, "certs", "init", "--dir", s.certs, "--ip", "127.0.0.1", "--dns", "localhost",
		"--client-name", "admin").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("flexlb certs init: %v: %s", err, out)
	}
	config := fmt.Sprintf(`name: go-test
tls_host: 127.0.0.1
tls_port: %d
tls_cert: %s
tls_key: %s
tls_ca_cert: %s
data_dir: %s
log_level: warning
data_plane:
  enabled: false
address_policy:
  allow_loopback_vips: true
  allow_loopback_backends: true
`, s.port, s.file("server.crt"), s.file("server.key"), s.file("ca.crt"), filepath.Join(dir, "data"))
	configPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "flexlbd.log"))
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(flexlbd, "--config", configPath)
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = s.cmd.Wait(); log.Close(); close(s.done) }()
	c := s.client(t, Options{})
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := c.Livez(ctx)
		cancel()
		if err == nil {
			return s, nil
		}
		select {
		case <-s.done:
			b, _ := os.ReadFile(filepath.Join(dir, "flexlbd.log"))
			return nil, fmt.Errorf("flexlbd exited during startup: %s", b)
		default:
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("flexlbd not live after 60s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *testServer) file(name string) string { return filepath.Join(s.certs, name) }

func (s *testServer) endpoint() string { return fmt.Sprintf("https://127.0.0.1:%d", s.port) }

// client returns a client of this server; o.Endpoints defaults to the server alone.
func (s *testServer) client(t *testing.T, o Options) *Client {
	if len(o.Endpoints) == 0 {
		o.Endpoints = []string{s.endpoint()}
	}
	if o.TLSConfig == nil {
		o.CAFile, o.CertFile, o.KeyFile = s.file("ca.crt"), s.file("client.crt"), s.file("client.key")
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (s *testServer) stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	os.RemoveAll(s.dir)
}

func TestMain(m *testing.M) {
	code := m.Run()
	sharedServer.stop()
	os.Exit(code)
}
