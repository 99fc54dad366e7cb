package doctor

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// corsTarget is one URL a browser-based client calls, and how.
type corsTarget struct {
	name    string // "MCP endpoint", "token endpoint", …
	url     string
	method  string   // method of the real request
	headers []string // request headers that need a preflight, lower case
	// soft makes preflight problems warnings: clients have a fallback
	// (metadata fetches are retried without the extra header) or only
	// some clients need the preflight (confidential clients).
	soft bool
	// actual sends the real request with an Origin; nil when doctor must
	// not send it (a registration creates a client).
	actual func(ctx context.Context) (*response, error)
	// expose are response headers scripts must be able to read.
	expose []string
}

// mcpRequestHeaders are the headers a browser MCP client sends to the
// MCP endpoint that are not CORS-safelisted.
var mcpRequestHeaders = []string{"authorization", "content-type", "mcp-protocol-version", "mcp-session-id"}

// corsTargets lists what a browser client calls, in the order it does.
func (r *run) corsTargets() []corsTarget {
	ts := []corsTarget{{
		name: "MCP endpoint", url: r.mcp.String(), method: http.MethodPost,
		headers: mcpRequestHeaders, actual: r.mcpActual, expose: []string{"Mcp-Session-Id"},
	}}
	if r.prm != nil {
		ts = append(ts, r.documentTarget("resource metadata", r.prm.url))
	}
	for _, is := range r.issuers {
		if is.meta == nil {
			continue
		}
		ts = append(ts, r.documentTarget("authorization-server metadata", is.metaURL))
		if is.meta.TokenEndpoint != "" {
			tok := is.meta.TokenEndpoint
			ts = append(ts, corsTarget{
				name: "token endpoint", url: tok, method: http.MethodPost,
				headers: []string{"authorization"}, soft: true,
				actual: func(ctx context.Context) (*response, error) { return r.tokenProbe(ctx, tok) },
			})
		}
		if is.meta.RegistrationEndpoint != "" {
			ts = append(ts, corsTarget{
				name: "registration endpoint", url: is.meta.RegistrationEndpoint, method: http.MethodPost,
				headers: []string{"content-type"},
			})
		}
	}
	return ts
}

// documentTarget is a discovery document fetched with a GET; clients of
// the TypeScript SDK add MCP-Protocol-Version and retry without it when
// the preflight fails.
func (r *run) documentTarget(name, u string) corsTarget {
	return corsTarget{
		name: name, url: u, method: http.MethodGet, headers: []string{"mcp-protocol-version"}, soft: true,
		actual: func(ctx context.Context) (*response, error) {
			return r.do(ctx, request{Method: http.MethodGet, URL: u, Header: http.Header{"Origin": {r.opts.Origin}, "Accept": {"application/json"}}})
		},
	}
}

// mcpActual is the MCP request a browser client sends: with the token
// when there is one (so that the headers of a real answer are seen).
func (r *run) mcpActual(ctx context.Context) (*response, error) {
	if r.opts.Token == "" || !r.needsAuth {
		return r.mcpWithOrigin(ctx)
	}
	h := mcpHeader()
	h.Set("Origin", r.opts.Origin)
	h.Set("Authorization", "Bearer "+r.opts.Token)
	p, err := r.do(ctx, request{Method: http.MethodPost, URL: r.mcp.String(), Header: h, Body: r.initializeBody()})
	if err == nil && p.Status == http.StatusOK {
		r.endSession(ctx, p, r.opts.Token)
	}
	return p, err
}

// tokenProbe sends a token request with an invalid code, as a browser
// client would send a real one: the error answer must be readable too.
func (r *run) tokenProbe(ctx context.Context, tok string) (*response, error) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {"atomcp-doctor-invalid-code"},
		"redirect_uri":  {"http://127.0.0.1:1/oauth/callback"},
		"client_id":     {"atomcp-doctor-probe"},
		"code_verifier": {"atomcp-doctor-probe-verifier-0000000000000000000000"},
	}
	h := http.Header{"Origin": {r.opts.Origin}, "Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}}
	return r.do(ctx, request{Method: http.MethodPost, URL: tok, Header: h, Body: []byte(form.Encode())})
}

// checkCORS checks every target as a browser would.
func (r *run) checkCORS(ctx context.Context) { r.checkCORSTargets(ctx, r.corsTargets()) }

// checkCORSTargets checks the given targets as a browser would.
func (r *run) checkCORSTargets(ctx context.Context, ts []corsTarget) {
	for _, t := range ts {
		f, pre := r.checkPreflight(ctx, t)
		r.add(f)
		var act *response
		var actErr error
		if t.actual != nil {
			act, actErr = t.actual(ctx)
		}
		r.add(r.checkAllowOrigin(t, pre, act, actErr))
		if pre != nil {
			r.add(checkAllowHeaders(t, pre))
		}
		if len(t.expose) > 0 {
			r.add(checkExposeHeaders(t, act))
		}
	}
}

// checkPreflight sends the OPTIONS request a browser sends before the
// real one and checks that it is answered with 2xx, not redirected and
// not authenticated. It returns the answer when it is usable.
func (r *run) checkPreflight(ctx context.Context, t corsTarget) (Finding, *response) {
	f := Finding{ID: IDCORSPreflight, Area: AreaCORS}
	h := http.Header{
		"Origin":                         {r.opts.Origin},
		"Access-Control-Request-Method":  {t.method},
		"Access-Control-Request-Headers": {strings.Join(t.headers, ",")},
	}
	p, err := r.do(ctx, request{Method: http.MethodOptions, URL: t.url, Header: h})
	bad := Fail
	if t.soft {
		bad = Warn
	}
	if err != nil {
		f.Status, f.Title = bad, t.name+": the preflight failed: "+r.describe(err)
		f.Observed = &Observed{Method: http.MethodOptions, URL: t.url}
		f.Fix = "Browsers send an OPTIONS request first; it must be answered like any other."
		return f, nil
	}
	f.Observed = p.observed("Location", "Access-Control-Allow-Origin", "Access-Control-Allow-Headers", "WWW-Authenticate")
	switch {
	case p.Status/100 == 2:
		f.Status, f.Title, f.Observed = Pass, fmt.Sprintf("%s: preflight answered %d", t.name, p.Status), nil
		return f, p
	case isRedirect(p.Status):
		f.Status = bad
		f.Title = fmt.Sprintf("%s: the preflight is answered with a redirect (%d to %s)", t.name, p.Status, p.Header.Get("Location"))
		f.Fix = preflightRedirectFix(t.url, p.Header.Get("Location"))
	case p.Status == http.StatusUnauthorized || p.Status == http.StatusForbidden:
		f.Status = bad
		f.Title = fmt.Sprintf("%s: the preflight is refused with %d", t.name, p.Status)
		f.Fix = "Browsers never send credentials with a preflight: answer OPTIONS before any authentication (an auth proxy, API gateway, WAF or middleware in front refuses it). atomcp answers preflights first, on every path."
	case p.Status == http.StatusMethodNotAllowed || p.Status == http.StatusNotFound || p.Status == http.StatusNotImplemented:
		f.Status = bad
		f.Title = fmt.Sprintf("%s: OPTIONS is not handled (%d)", t.name, p.Status)
		f.Fix = "Answer OPTIONS on this URL with 204 and Access-Control-Allow-Origin, -Allow-Methods and -Allow-Headers (a CORS middleware in front of the handler, or at the proxy)."
	default:
		f.Status = bad
		f.Title = fmt.Sprintf("%s: the preflight is answered with %d", t.name, p.Status)
		f.Fix = "Answer OPTIONS with 200 or 204 and the CORS headers; browsers treat anything else as a CORS failure."
	}
	if t.soft && t.method == http.MethodGet {
		f.Fix += " (Clients that send MCP-Protocol-Version with metadata requests retry without it, so only the simple GET below must work.)"
	}
	return f, nil
}

// preflightRedirectFix explains a redirected preflight.
func preflightRedirectFix(from, loc string) string {
	const msg = "Browsers do not follow redirects of preflights (\"Redirect is not allowed for a preflight request\"). "
	fu, err1 := url.Parse(from)
	tu, err2 := url.Parse(loc)
	if err1 == nil && err2 == nil {
		tu = fu.ResolveReference(tu)
		switch {
		case fu.Scheme == "http" && tu.Scheme == "https":
			return msg + "Something redirects http:// to https:// before the server sees the request: give browser clients the https:// URL (" + tu.String() + "). If that URL is already https, the redirect comes from behind your TLS proxy: at Cloudflare set SSL/TLS → Overview → encryption mode to \"Full (strict)\" (not \"Flexible\", which reaches the server over http so that its own https redirect answers every request), and keep redirect rules away from OPTIONS."
		case strings.TrimSuffix(fu.Path, "/") == strings.TrimSuffix(tu.Path, "/"):
			return msg + "The server redirects to add or remove a trailing slash (Starlette/FastMCP mounts do): give clients exactly the path it serves (" + tu.Path + "), or make it answer both."
		}
	}
	return msg + "Answer OPTIONS at this URL itself with 204 and the CORS headers, before any redirect or authentication (atomcp answers preflights first), or give clients the URL the redirect leads to."
}

// checkAllowOrigin checks that the preflight and the real answer carry
// Access-Control-Allow-Origin for the origin (or *): without it the
// browser hides the answer ("No 'Access-Control-Allow-Origin' header").
func (r *run) checkAllowOrigin(t corsTarget, pre, act *response, actErr error) Finding {
	f := Finding{ID: IDCORSAllowOrigin, Area: AreaCORS}
	if actErr != nil {
		f.Status, f.Title = Skip, t.name+": the request with an Origin failed: "+r.describe(actErr)
		return f
	}
	if pre == nil && act == nil {
		f.Status, f.Title = Skip, t.name+": no answer to look at (the preflight failed)"
		return f
	}
	allowed := func(p *response) (bool, string) {
		v := strings.TrimSpace(p.Header.Get("Access-Control-Allow-Origin"))
		return v == "*" || v == r.opts.Origin, v
	}
	for _, c := range []struct {
		p    *response
		what string
	}{{pre, "the preflight's answer"}, {act, fmt.Sprintf("the answer to %s", t.method)}} {
		if c.p == nil {
			continue
		}
		ok, v := allowed(c.p)
		if ok {
			continue
		}
		f.Status = Fail
		f.Observed = c.p.observed("Access-Control-Allow-Origin", "Vary")
		if v == "" {
			f.Title = fmt.Sprintf("%s: no Access-Control-Allow-Origin header on %s (HTTP %d)", t.name, c.what, c.p.Status)
			f.Fix = fmt.Sprintf("Browsers hide an answer without it (\"No 'Access-Control-Allow-Origin' header is present on the requested resource\"). Send Access-Control-Allow-Origin: %s (or *, as the tokens are bearer tokens and no cookies are involved) on every answer of this URL, errors such as 401 and 400 included.", r.opts.Origin)
		} else {
			f.Title = fmt.Sprintf("%s: Access-Control-Allow-Origin is %q, not the origin %s", t.name, v, r.opts.Origin)
			f.Fix = "Allow the origins of your browser clients (atomcp: ATOMCP_CORS_ORIGINS; loopback origins are always allowed), or * for documents and token endpoints; Access-Control-Allow-Origin holds one origin or *, never a list."
		}
		if t.name == "token endpoint" && isAuthKit(t.url) {
			f.Fix += " AuthKit's endpoints are WorkOS's: if they refuse your origin, browser clients cannot use this authorization server."
		}
		return f
	}
	f.Status, f.Title = Pass, t.name+": Access-Control-Allow-Origin allows "+r.opts.Origin
	return f
}

// checkAllowHeaders checks that the preflight allows every request
// header the client sends ("Request header field X is not allowed").
func checkAllowHeaders(t corsTarget, pre *response) Finding {
	f := Finding{ID: IDCORSAllowHeaders, Area: AreaCORS}
	allow := pre.Header.Values("Access-Control-Allow-Headers")
	var missing []string
	for _, h := range t.headers {
		// "*" covers every header but Authorization (Fetch standard).
		if !headerListHas(allow, h, h != "authorization") {
			missing = append(missing, h)
		}
	}
	if len(missing) == 0 {
		f.Status, f.Title = Pass, fmt.Sprintf("%s: the preflight allows %s", t.name, strings.Join(t.headers, ", "))
		return f
	}
	f.Status = Fail
	if t.soft {
		f.Status = Warn
	}
	f.Observed = pre.observed("Access-Control-Allow-Headers")
	f.Observed.Method = http.MethodOptions
	f.Observed.Detail = "Access-Control-Request-Headers: " + strings.Join(t.headers, ",")
	f.Title = fmt.Sprintf("%s: the preflight does not allow %s", t.name, strings.Join(missing, ", "))
	f.Fix = fmt.Sprintf("Add %s to Access-Control-Allow-Headers in the answer to OPTIONS; browsers report \"Request header field %s is not allowed by Access-Control-Allow-Headers in preflight response\".", strings.Join(missing, ", "), missing[0])
	switch t.name {
	case "MCP endpoint":
		f.Fix += " The MCP endpoint must allow Authorization, Content-Type, MCP-Protocol-Version, Mcp-Session-Id and Last-Event-ID (\"*\" does not cover Authorization); atomcp allows them all."
	case "token endpoint":
		f.Fix += " Only confidential clients (client_secret_basic) send Authorization to the token endpoint; public clients need no preflight there."
	default:
		f.Fix += " Clients send MCP-Protocol-Version with metadata requests; the TypeScript SDK retries without it, other clients may not."
	}
	return f
}

// checkExposeHeaders checks that scripts can read the headers a browser
// client needs from the MCP endpoint's answers.
func checkExposeHeaders(t corsTarget, act *response) Finding {
	f := Finding{ID: IDCORSExposeHeaders, Area: AreaCORS}
	if act == nil {
		f.Status, f.Title = Skip, t.name+": no answer to look at"
		return f
	}
	var missing []string
	for _, h := range t.expose {
		if !headerListHas(act.Header.Values("Access-Control-Expose-Headers"), h, true) {
			missing = append(missing, h)
		}
	}
	if len(missing) == 0 {
		f.Status, f.Title = Pass, fmt.Sprintf("%s: %s exposed to scripts", t.name, strings.Join(t.expose, ", "))
		return f
	}
	f.Status = Warn
	f.Observed = act.observed("Access-Control-Expose-Headers")
	f.Title = fmt.Sprintf("%s: Access-Control-Expose-Headers does not list %s", t.name, strings.Join(missing, ", "))
	f.Fix = "Add Mcp-Session-Id, MCP-Protocol-Version and WWW-Authenticate to Access-Control-Expose-Headers on the MCP endpoint's answers: a browser client that cannot read the session ID sends every later request without it, and the server answers \"Bad Request: No valid session ID\"."
	return f
}
