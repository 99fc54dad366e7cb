package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/atomcp/atomcp/internal/auth/authtest"
	"github.com/atomcp/atomcp/internal/doctor"
)

// runDoctor runs `atomcp doctor args… --json` in dir with the token on
// stdin (when given) and returns the report and the exit code.
func runDoctor(t *testing.T, dir, token string, args ...string) (*doctor.Report, int) {
	t.Helper()
	args = append([]string{"doctor", "--json", "--request-timeout", "20s", "--timeout", "3m"}, args...)
	if token != "" {
		args = append(args, "--token", "-")
	}
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	cmd.Stdin = strings.NewReader(token + "\n")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var rep doctor.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("atomcp %v: exit %d, not a JSON report: %v\n%s\n%s", args, code, err, out.String(), errOut.String())
	}
	if token != "" && (strings.Contains(out.String(), token) || strings.Contains(errOut.String(), token)) {
		t.Error("the token is printed")
	}
	return &rep, code
}

// expectAllPass checks that nothing warned or failed, that the exit code
// is 0, and that each of ids passed at least once.
func expectAllPass(t *testing.T, rep *doctor.Report, code int, ids ...string) {
	t.Helper()
	for _, f := range rep.Findings {
		if f.Status == doctor.Warn || f.Status == doctor.Fail {
			t.Errorf("%s %s: %s\n  observed: %s\n  fix: %s", f.Status, f.ID, f.Title, f.Observed.String(), f.Fix)
		}
	}
	if code != 0 {
		t.Errorf("exit code %d", code)
	}
	for _, id := range ids {
		fs := rep.Find(id)
		if len(fs) == 0 || fs[0].Status != doctor.Pass {
			t.Errorf("%s did not pass: %+v", id, fs)
		}
	}
}

// TestDoctorAgainstEmbeddedServer: against a correct `atomcp serve` with
// its embedded authorization server, every check passes, a real test
// registration and calls with the old static token included.
func TestDoctorAgainstEmbeddedServer(t *testing.T) {
	dir := t.TempDir()
	const token = "internal-doctor-e2e-token-0123456789"
	s := startServer(t, dir, "ATOMCP_AUTH=embedded", "ATOMS_INTERNAL_TOKEN="+token)
	rep, code := runDoctor(t, dir, token, s.URL, "--register")
	expectAllPass(t, rep, code,
		doctor.IDReachConnect, doctor.IDReachEndpoint, doctor.IDChallengeHeader, doctor.IDChallengeMetadata, doctor.IDChallengeExpose,
		doctor.IDPRMFetch, doctor.IDPRMResource, doctor.IDPRMServers, doctor.IDASIssuerURL, doctor.IDASMetadata, doctor.IDASIssuer,
		doctor.IDASPKCE, doctor.IDASEndpoints, doctor.IDRegisterOptions, doctor.IDRegisterDCR, doctor.IDRegisterAuthMethod,
		doctor.IDCORSPreflight, doctor.IDCORSAllowOrigin, doctor.IDCORSAllowHeaders, doctor.IDCORSExposeHeaders,
		doctor.IDJWKSFetch, doctor.IDJWKSKeys, doctor.IDJWKSAlgorithms, doctor.IDTokenFormat, doctor.IDTokenInitialize, doctor.IDTokenToolsList)
	if rep.Summary.Skip != 0 {
		t.Errorf("%d checks skipped", rep.Summary.Skip)
	}
	if tl := rep.Find(doctor.IDTokenToolsList)[0].Title; !strings.Contains(tl, "entity_tool") {
		t.Errorf("tools/list: %s", tl)
	}
}

// fakeAuthKit is an AuthKit-shaped authorization server for atomcp's
// authkit mode, with what a browser client needs too (CORS) and a
// registration endpoint; keys and tokens come from authtest.
type fakeAuthKit struct {
	URL string
	key *rsa.PrivateKey
	kid string
}

func newFakeAuthKit(t *testing.T) *fakeAuthKit {
	t.Helper()
	fk := &fakeAuthKit{key: authtest.NewKey(t), kid: "authkit-key"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			if r.Method == http.MethodOptions {
				w.Header().Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		reply := func(status int, v any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(v)
		}
		switch r.URL.Path {
		case "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration":
			reply(200, map[string]any{
				"issuer": fk.URL, "authorization_endpoint": fk.URL + "/oauth2/authorize", "token_endpoint": fk.URL + "/oauth2/token",
				"registration_endpoint": fk.URL + "/oauth2/register", "jwks_uri": fk.URL + "/oauth2/jwks",
				"response_types_supported": []string{"code"}, "code_challenge_methods_supported": []string{"S256"},
				"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
				"client_id_metadata_document_supported": true,
			})
		case "/oauth2/jwks":
			pub := fk.key.PublicKey
			reply(200, map[string]any{"keys": []map[string]string{{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": fk.kid,
				"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes())}}})
		case "/oauth2/register":
			reply(http.StatusCreated, map[string]any{"client_id": "client_01" + rand.Text(), "token_endpoint_auth_method": "none"})
		case "/oauth2/token":
			reply(http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	fk.URL = srv.URL
	return fk
}

func (fk *fakeAuthKit) mint(t *testing.T, audience string) string {
	now := time.Now()
	return authtest.Sign(t, jwt.SigningMethodRS256, fk.kid, fk.key, jwt.MapClaims{
		"iss": fk.URL, "sub": "user_doctor", "aud": audience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"scope": "openid profile email",
	})
}

// TestDoctorAgainstAuthKitServer: atomcp configured by the Python
// server's .env for (a fake) AuthKit passes every check, the lint of that
// very .env and a real AuthKit-style JWT included; a token for another
// audience is then the one failure, with the resource-indicator fix.
func TestDoctorAgainstAuthKitServer(t *testing.T) {
	fk := newFakeAuthKit(t)
	addr := freeAddr(t)
	base := "http://" + addr
	_, port, _ := strings.Cut(addr, ":")
	dir := t.TempDir()
	env := strings.NewReplacer("{{domain}}", fk.URL, "{{base}}", base, "{{port}}", port).Replace(oldDotenv)
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServerEnv(t, dir, base)

	rep, code := runDoctor(t, dir, fk.mint(t, srv.URL), srv.URL, "--register", "--config", ".env")
	expectAllPass(t, rep, code,
		doctor.IDPRMResource, doctor.IDASMetadata, doctor.IDRegisterDCR, doctor.IDJWKSKeys,
		doctor.IDTokenSignature, doctor.IDTokenIssuer, doctor.IDTokenAudience, doctor.IDTokenExpiry, doctor.IDTokenScopes,
		doctor.IDTokenInitialize, doctor.IDTokenToolsList,
		doctor.IDConfigLoad, doctor.IDConfigAuthKitDomain, doctor.IDConfigBaseURL, doctor.IDConfigURLMatch,
		doctor.IDConfigIssuer, doctor.IDConfigRequiredScopes, doctor.IDConfigDotenvSecret)

	rep, code = runDoctor(t, dir, fk.mint(t, fk.URL), srv.URL)
	if code != 1 {
		t.Errorf("a token for another audience: exit %d", code)
	}
	for _, f := range rep.Findings {
		if f.Status == doctor.Fail && f.ID != doctor.IDTokenAudience && f.ID != doctor.IDTokenInitialize {
			t.Errorf("unexpected failure %s: %s", f.ID, f.Title)
		}
	}
	aud := rep.Find(doctor.IDTokenAudience)
	if len(aud) != 1 || aud[0].Status != doctor.Fail || !strings.Contains(aud[0].Fix, srv.URL) {
		t.Errorf("audience: %+v", aud)
	}
	if in := rep.Find(doctor.IDTokenInitialize); len(in) != 1 || !strings.Contains(in[0].Title, "audience") {
		t.Errorf("initialize: %+v", in)
	}
}

// TestDoctorClientsAgainstEmbeddedServer: `doctor --client all
// --register` against `atomcp serve` with its embedded authorization
// server replays every profiled client; with the token, each client's
// Accept header is replayed too. The SARIF file lists the same failures.
func TestDoctorClientsAgainstEmbeddedServer(t *testing.T) {
	dir := t.TempDir()
	const token = "internal-doctor-e2e-token-0123456789"
	s := startServer(t, dir, "ATOMCP_AUTH=embedded", "ATOMS_INTERNAL_TOKEN="+token)
	sarifPath := filepath.Join(dir, "doctor.sarif")
	rep, code := runDoctor(t, dir, token, s.URL, "--client", "all", "--register", "--sarif", sarifPath)

	// atomcp tolerates what each profiled client sends (an Accept with one
	// of the two types, a repeated resource, offline_access): every client
	// is ready. A failure here names the client and the finding.
	var known map[string][]string
	if len(rep.Clients) != len(doctor.ClientProfiles()) {
		t.Fatalf("%d verdicts", len(rep.Clients))
	}
	for _, v := range rep.Clients {
		want := known[v.Name]
		if v.Ready != (len(want) == 0) || !slices.Equal(v.Failed, want) {
			t.Errorf("%s: ready %t, failed %v; want failed %v", v.Name, v.Ready, v.Failed, want)
		}
		if v.Registration == "" {
			t.Errorf("%s: no way to register", v.Name)
		}
	}
	for _, f := range rep.Findings {
		if f.Status == doctor.Warn || (f.Status == doctor.Fail && !slices.Contains(known[f.Client], f.ID)) {
			t.Errorf("%s %s %s: %s\n  observed: %s\n  fix: %s", f.Client, f.Status, f.ID, f.Title, f.Observed.String(), f.Fix)
		}
	}
	for _, p := range doctor.ClientProfiles() {
		for _, id := range []string{doctor.IDClientRegister, doctor.IDClientAccept, doctor.IDClientAuthorize, doctor.IDClientToken} {
			if !slices.ContainsFunc(rep.Findings, func(f doctor.Finding) bool { return f.Client == p.Name && f.ID == id && f.Status != doctor.Skip }) {
				t.Errorf("%s: %s did not run", p.Name, id)
			}
		}
	}
	if wantCode := map[bool]int{true: 1, false: 0}[len(known) > 0]; code != wantCode {
		t.Errorf("exit code %d, want %d", code, wantCode)
	}

	data, err := os.ReadFile(sarifPath)
	if err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &log); err != nil || log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("SARIF: %v\n%s", err, data)
	}
	if n := len(log.Runs[0].Results); n != rep.Summary.Fail {
		t.Errorf("SARIF: %d results for %d failures", n, rep.Summary.Fail)
	}
}
