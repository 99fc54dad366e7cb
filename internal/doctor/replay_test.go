package doctor

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// clientOptions are the options of `--client all --register`.
func clientOptions(f *fake) Options {
	o := f.options()
	o.Clients = []string{"all"}
	o.Register = true
	return o
}

// withOffline makes the fake's authorization server advertise
// offline_access, so that the clients that ask for it when advertised do.
func withOffline(f *fake) { f.asScopes = append(f.asScopes, "offline_access") }

// verdictsOf returns the names of the ready and of the failing clients.
func verdictsOf(t *testing.T, rep *Report) (ready, failing []string) {
	t.Helper()
	if len(rep.Clients) != len(ClientProfiles()) {
		t.Fatalf("%d verdicts, want one per client (%d)", len(rep.Clients), len(ClientProfiles()))
	}
	for _, v := range rep.Clients {
		if v.Ready {
			ready = append(ready, v.Name)
		} else {
			failing = append(failing, v.Name)
		}
	}
	return ready, failing
}

// clientFailure returns the failed finding id of client, with its fix
// checked for every one of wantFix.
func clientFailure(t *testing.T, rep *Report, client, id string, wantFix ...string) Finding {
	t.Helper()
	for _, f := range rep.Findings {
		if f.Client == client && f.ID == id && f.Status == Fail {
			for _, w := range wantFix {
				if !strings.Contains(f.Fix, w) {
					t.Errorf("%s %s: the fix does not mention %q:\n%s", client, id, w, f.Fix)
				}
			}
			return f
		}
	}
	t.Fatalf("%s: no failure %s; report:\n%s", client, id, textOf(t, rep))
	return Finding{}
}

// TestClientsCorrectServer: against a correct server every client is
// ready, each having gone through every step of its replay.
func TestClientsCorrectServer(t *testing.T) {
	f := newFake(t, withOffline)
	o := clientOptions(f)
	o.Token = f.token(nil)
	rep := runDoctor(t, o)
	expectClean(t, rep)
	if _, failing := verdictsOf(t, rep); len(failing) > 0 {
		t.Errorf("failing: %v\n%s", failing, textOf(t, rep))
	}
	for _, p := range ClientProfiles() {
		for _, id := range []string{IDClientInitialize, IDClientAccept, IDClientPRM, IDClientASMetadata, IDClientPKCE, IDClientRegistration,
			IDClientScopes, IDClientRefresh, IDClientRegister, IDClientAuthorize, IDClientToken} {
			if !hasClientFinding(rep, p.Name, id, Pass) {
				t.Errorf("%s: %s did not pass", p.Name, id)
			}
		}
		if p.NewPortEachRun && !hasClientFinding(rep, p.Name, IDClientRedirectPort, Pass) {
			t.Errorf("%s: %s did not pass", p.Name, IDClientRedirectPort)
		}
		if got := hasClientFinding(rep, p.Name, IDCORSAllowOrigin, Pass); got != p.Browser {
			t.Errorf("%s: CORS checked %t, browser client %t", p.Name, got, p.Browser)
		}
	}
	// The fake advertises CIMD with "none": the CIMD clients say so.
	for _, v := range rep.Clients {
		want := "dcr"
		if p := profile(t, v.Name); p.CIMD {
			want = "cimd"
		}
		if v.Registration != want {
			t.Errorf("%s registers with %q, want %q", v.Name, v.Registration, want)
		}
	}
	text := textOf(t, rep)
	if !strings.Contains(text, "ready: claude-code, claude-ai, cursor, vscode, chatgpt, codex, mcp-remote, inspector; would fail: none") {
		t.Errorf("summary line missing:\n%s", text)
	}
	if strings.Contains(text, o.Token) {
		t.Error("the token is printed")
	}
}

func hasClientFinding(rep *Report, client, id string, status Status) bool {
	return slices.ContainsFunc(rep.Findings, func(f Finding) bool { return f.Client == client && f.ID == id && f.Status == status })
}

func profile(t *testing.T, name string) ClientProfile {
	t.Helper()
	ps, err := lookupClients([]string{name})
	if err != nil || len(ps) != 1 {
		t.Fatalf("%s: %v", name, err)
	}
	return ps[0]
}

// refuseAuthorize makes the fake's authorization endpoint send an error
// to the redirect URI when refuse says so, and its token endpoint answer
// 400 with it.
func refuseAuthorize(refuse func(q url.Values) (code, desc string)) func(*fake) {
	return func(f *fake) {
		f.wrapAS = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/oauth2/authorize":
					if code, desc := refuse(r.URL.Query()); code != "" {
						http.Redirect(w, r, r.URL.Query().Get("redirect_uri")+"?error="+code+"&error_description="+url.QueryEscape(desc), http.StatusFound)
						return
					}
				case "/oauth2/token":
					_ = r.ParseForm()
					if code, desc := refuse(r.PostForm); code != "" {
						writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
						return
					}
				}
				next.ServeHTTP(w, r)
			})
		}
	}
}

// TestClientsOfflineAccessRefused: an authorization server that
// advertises offline_access but refuses it breaks exactly the clients
// that ask for it, with the fix.
func TestClientsOfflineAccessRefused(t *testing.T) {
	f := newFake(t, withOffline, refuseAuthorize(func(q url.Values) (string, string) {
		if slices.Contains(strings.Fields(q.Get("scope")), "offline_access") {
			return "invalid_scope", "scope offline_access is not supported"
		}
		return "", ""
	}))
	rep := runDoctor(t, clientOptions(f))
	ready, failing := verdictsOf(t, rep)
	var want []string
	for _, p := range ClientProfiles() {
		if p.Offline != OfflineNever {
			want = append(want, p.Name)
		}
	}
	if !slices.Equal(failing, want) {
		t.Errorf("failing %v, want %v (ready %v)", failing, want, ready)
	}
	for _, name := range want {
		got := clientFailure(t, rep, name, IDClientAuthorize, "offline_access", "SEP-2207")
		if !strings.Contains(got.Title, "invalid_scope") {
			t.Errorf("%s: %s", name, got.Title)
		}
	}
	// Without offline_access advertised, the same server breaks no one.
	f = newFake(t, refuseAuthorize(func(q url.Values) (string, string) {
		if strings.Contains(q.Get("scope"), "offline_access") {
			return "invalid_scope", "no"
		}
		return "", ""
	}))
	if _, failing := verdictsOf(t, runDoctor(t, clientOptions(f))); len(failing) > 0 {
		t.Errorf("offline_access not advertised, still failing: %v", failing)
	}
}

// TestClientsRepeatedResourceRefused: a server that refuses a repeated
// resource parameter breaks Codex alone, at authorize and at the token
// endpoint.
func TestClientsRepeatedResourceRefused(t *testing.T) {
	f := newFake(t, withOffline, refuseAuthorize(func(q url.Values) (string, string) {
		if len(q["resource"]) > 1 {
			return "invalid_target", "only one resource may be requested"
		}
		return "", ""
	}))
	rep := runDoctor(t, clientOptions(f))
	if _, failing := verdictsOf(t, rep); !slices.Equal(failing, []string{"codex"}) {
		t.Errorf("failing %v, want [codex]", failing)
	}
	clientFailure(t, rep, "codex", IDClientAuthorize, "oauth_resource", "identical repeated resource values as one")
	clientFailure(t, rep, "codex", IDClientToken, "oauth_resource")
}

// TestClientsNoCORSOnToken: without CORS on the token endpoint only the
// clients that exchange the code from a web page break; claude.ai and
// ChatGPT exchange it in their backends.
func TestClientsNoCORSOnToken(t *testing.T) {
	f := newFake(t, func(f *fake) {
		f.wrapAS = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/oauth2/token" {
					r.Header.Del("Origin") // the fake then sends no CORS headers
				}
				next.ServeHTTP(w, r)
			})
		}
	})
	rep := runDoctor(t, clientOptions(f))
	var browsers []string
	for _, p := range ClientProfiles() {
		if p.Browser {
			browsers = append(browsers, p.Name)
		}
	}
	if _, failing := verdictsOf(t, rep); !slices.Equal(failing, browsers) || len(browsers) == 0 {
		t.Errorf("failing %v, want the browser clients %v", failing, browsers)
	}
	got := clientFailure(t, rep, "inspector", IDCORSAllowOrigin, "Access-Control-Allow-Origin")
	if !strings.Contains(got.Title, "token endpoint") {
		t.Errorf("title %q", got.Title)
	}
}

// TestClientsAcceptJSONOnlyRefused: an endpoint that refuses an Accept
// without text/event-stream breaks the clients that send application/json
// alone.
func TestClientsAcceptJSONOnlyRefused(t *testing.T) {
	f := newFake(t, func(f *fake) {
		f.wrapMCP = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost && r.URL.Path == "/api/mcp" && !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
					writeJSON(w, http.StatusNotAcceptable, map[string]any{"jsonrpc": "2.0", "error": map[string]any{"code": -32000, "message": "Not Acceptable: Client must accept both application/json and text/event-stream"}})
					return
				}
				next.ServeHTTP(w, r)
			})
		}
	})
	rep := runDoctor(t, clientOptions(f))
	var want []string
	for _, p := range ClientProfiles() {
		if !strings.Contains(p.Accept, "text/event-stream") {
			want = append(want, p.Name)
		}
	}
	if _, failing := verdictsOf(t, rep); !slices.Equal(failing, want) || len(want) == 0 {
		t.Errorf("failing %v, want %v", failing, want)
	}
	for _, name := range want {
		got := clientFailure(t, rep, name, IDClientInitialize, "Accept: application/json")
		if got.Observed == nil || got.Observed.Status != http.StatusNotAcceptable {
			t.Errorf("%s: %+v", name, got.Observed)
		}
	}
}

// TestClientsLoopbackPortMismatch: a server that matches loopback
// redirect URIs exactly breaks the clients that come back on another
// port, and only at that step.
func TestClientsLoopbackPortMismatch(t *testing.T) {
	registered := map[string]bool{}
	f := newFake(t, func(f *fake) {
		f.wrapAS = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodOptions {
					next.ServeHTTP(w, r)
					return
				}
				switch r.URL.Path {
				case "/oauth2/register":
					var req struct {
						RedirectURIs []string `json:"redirect_uris"`
					}
					body := new(bytes.Buffer)
					_, _ = body.ReadFrom(r.Body)
					_ = json.Unmarshal(body.Bytes(), &req)
					for _, u := range req.RedirectURIs {
						registered[u] = true
					}
					if r.Header.Get("Origin") != "" {
						w.Header().Set("Access-Control-Allow-Origin", "*")
					}
					writeJSON(w, http.StatusCreated, map[string]any{"client_id": "client_1", "redirect_uris": req.RedirectURIs, "token_endpoint_auth_method": "none"})
					return
				case "/oauth2/authorize":
					if !registered[r.URL.Query().Get("redirect_uri")] {
						http.Error(w, "The redirect URI is not registered for this application.", http.StatusBadRequest)
						return
					}
				}
				next.ServeHTTP(w, r)
			})
		}
	})
	rep := runDoctor(t, clientOptions(f))
	for _, p := range ClientProfiles() {
		if p.NewPortEachRun {
			clientFailure(t, rep, p.Name, IDClientRedirectPort, "any port", "RFC 8252")
			if !hasClientFinding(rep, p.Name, IDClientAuthorize, Pass) {
				t.Errorf("%s: the request from the registered port failed", p.Name)
			}
		} else if v := rep.Clients[slices.IndexFunc(rep.Clients, func(v ClientVerdict) bool { return v.Name == p.Name })]; !v.Ready {
			t.Errorf("%s fails: %v", p.Name, v.Failed)
		}
	}
}

// TestClientsWithoutRegister: without --register the probes that need a
// client ID are skipped, and say how to run them.
func TestClientsWithoutRegister(t *testing.T) {
	f := newFake(t)
	o := f.options()
	o.Clients = []string{"cursor,claude-ai"}
	rep := runDoctor(t, o)
	if got := []string{rep.Clients[0].Name, rep.Clients[1].Name}; !slices.Equal(got, []string{"cursor", "claude-ai"}) || len(rep.Clients) != 2 {
		t.Errorf("clients %v", rep.Clients)
	}
	for _, name := range []string{"cursor", "claude-ai"} {
		if !hasClientFinding(rep, name, IDClientRegister, Skip) || hasClientFinding(rep, name, IDClientAuthorize, Pass) {
			t.Errorf("%s: registration not skipped", name)
		}
	}
	expectClean(t, rep)
}

func TestClientsUsage(t *testing.T) {
	if _, err := Run(t.Context(), Options{URL: "http://127.0.0.1:1/api/mcp", Clients: []string{"claude"}}); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "claude-code") {
		t.Errorf("unknown client: %v", err)
	}
	ps, err := lookupClients([]string{"codex", "all", "CODEX"})
	if err != nil || len(ps) != len(ClientProfiles()) || ps[0].Name != "codex" {
		t.Errorf("%v %d", err, len(ps))
	}
	for _, p := range ClientProfiles() {
		if p.Accept == "" || p.AuthorizeRedirect == "" || len(p.RedirectURIs) == 0 || p.SetUp == "" || (p.Browser && p.Origin == "") {
			t.Errorf("%s: incomplete profile", p.Name)
		}
	}
}

// TestSARIF: one rule per finding ID, one result per failure, each
// linking to its section of the troubleshooting guide.
func TestSARIF(t *testing.T) {
	f := newFake(t, withOffline, refuseAuthorize(func(q url.Values) (string, string) {
		if len(q["resource"]) > 1 {
			return "invalid_target", "only one resource"
		}
		return "", ""
	}))
	rep := runDoctor(t, clientOptions(f))
	var b bytes.Buffer
	if err := WriteSARIF(&b, rep, "test"); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID      string `json:"id"`
						HelpURI string `json:"helpUri"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string            `json:"ruleId"`
				RuleIndex int               `json:"ruleIndex"`
				Level     string            `json:"level"`
				Props     map[string]string `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil || log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("%v %s", err, b.String())
	}
	run := log.Runs[0]
	seen := map[string]bool{}
	for _, r := range run.Tool.Driver.Rules {
		if seen[r.ID] || !strings.HasSuffix(r.HelpURI, "#"+strings.ReplaceAll(r.ID, ".", "")) {
			t.Errorf("rule %+v", r)
		}
		seen[r.ID] = true
	}
	if len(run.Results) != rep.Summary.Fail || rep.Summary.Fail == 0 {
		t.Errorf("%d results, %d failures", len(run.Results), rep.Summary.Fail)
	}
	for _, r := range run.Results {
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID || r.Level != "error" || r.Props["client"] != "codex" {
			t.Errorf("result %+v", r)
		}
	}
}
