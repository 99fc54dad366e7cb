package doctor

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// challenge is the Bearer challenge of a 401.
type challenge struct {
	resourceMetadata string   // resource_metadata parameter
	scopes           []string // scope parameter
}

// checkChallenge checks the 401 a client gets without a token: it must
// carry a Bearer challenge that names the protected-resource metadata,
// and a browser must be allowed to read it.
func (r *run) checkChallenge(ctx context.Context) {
	p := r.probe
	if p.Status == http.StatusOK {
		r.add(Finding{ID: IDChallengeStatus, Area: AreaAuth, Status: Skip,
			Title: "the server answered 200 without a token: it does not use OAuth"})
		return
	}
	r.add(Finding{ID: IDChallengeStatus, Area: AreaAuth, Status: Pass, Title: "401 without a token"})
	f, ch := checkChallengeHeader(p)
	r.add(f)
	if ch == nil {
		return
	}
	r.challenge = ch
	r.add(r.checkChallengeMetadata(ch))
	r.add(r.checkChallengeExpose(ctx))
}

// checkChallengeHeader parses WWW-Authenticate with go-sdk's parser.
func checkChallengeHeader(p *response) (Finding, *challenge) {
	f := Finding{ID: IDChallengeHeader, Area: AreaAuth, Observed: p.observed("WWW-Authenticate")}
	values := p.Header.Values("WWW-Authenticate")
	if len(values) == 0 {
		f.Status, f.Title = Fail, "the 401 has no WWW-Authenticate header"
		f.Fix = "Answer 401 with `WWW-Authenticate: Bearer resource_metadata=\"<URL of the protected-resource metadata>\"` (RFC 9728 section 5.1); clients start OAuth from it. If the server sends it, a proxy in between drops it: let the header through."
		return f, nil
	}
	chs, err := oauthex.ParseWWWAuthenticate(values)
	if err != nil {
		f.Status, f.Title = Fail, "WWW-Authenticate does not parse: "+err.Error()
		f.Fix = "Send a well-formed challenge (RFC 9110 section 11.6.1): `Bearer resource_metadata=\"https://…\", scope=\"…\"`, parameter values in double quotes, separated by commas."
		return f, nil
	}
	for _, c := range chs {
		if c.Scheme == "bearer" {
			f.Status, f.Title = Pass, "WWW-Authenticate: Bearer challenge"
			ch := &challenge{resourceMetadata: c.Params["resource_metadata"]}
			if s := c.Params["scope"]; s != "" {
				ch.scopes = strings.Fields(s)
				f.Title += ", scope \"" + s + "\""
			}
			return f, ch
		}
	}
	schemes := make([]string, 0, len(chs))
	for _, c := range chs {
		schemes = append(schemes, c.Scheme)
	}
	f.Status, f.Title = Fail, fmt.Sprintf("WWW-Authenticate has no Bearer challenge (%s)", strings.Join(schemes, ", "))
	f.Fix = "Something in front of the MCP server asks for its own authentication (HTTP Basic from a proxy, an SSO gateway). MCP clients only do OAuth bearer tokens: exempt the MCP endpoint and /.well-known/ from that authentication."
	return f, nil
}

// checkChallengeMetadata checks the resource_metadata parameter.
func (r *run) checkChallengeMetadata(ch *challenge) Finding {
	f := Finding{ID: IDChallengeMetadata, Area: AreaAuth, Observed: &Observed{URL: r.mcp.String(), Detail: "resource_metadata=" + ch.resourceMetadata}}
	want := prmURLs(r.mcp)[0]
	if ch.resourceMetadata == "" {
		f.Status, f.Title = Warn, "the challenge has no resource_metadata parameter"
		f.Observed.Detail = ""
		f.Fix = fmt.Sprintf("Add resource_metadata=\"%s\" to the challenge. Clients of the 2025-11-25 revision then fall back to the well-known URLs, but older ones and some proxies' clients start OAuth only from the parameter.", want)
		return f
	}
	u, err := url.Parse(ch.resourceMetadata)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		f.Status, f.Title = Fail, "resource_metadata is not an absolute URL"
		f.Fix = fmt.Sprintf("Use the absolute URL: resource_metadata=\"%s\".", want)
		return f
	}
	if u.Scheme == "http" && r.mcp.Scheme == "https" {
		f.Status, f.Title = Fail, "resource_metadata says http:// although the server is reached over https://"
		f.Fix = "The server builds its URLs from the plain-http request its TLS proxy sends. Tell it the public URL (atomcp: ATOMCP_BASE_URL=https://…, or ATOMCP_TRUSTED_PROXIES so X-Forwarded-Proto is believed); clients refuse http:// metadata."
		return f
	}
	f.Status, f.Title = Pass, "resource_metadata names "+ch.resourceMetadata
	f.Observed = nil
	return f
}

// checkChallengeExpose sends the request a browser client sends (with an
// Origin) and checks that the 401's WWW-Authenticate is exposed to
// scripts; a browser client that cannot read it cannot find the
// metadata. The answer is kept for the CORS checks.
func (r *run) checkChallengeExpose(ctx context.Context) Finding {
	f := Finding{ID: IDChallengeExpose, Area: AreaAuth}
	p, err := r.mcpWithOrigin(ctx)
	if err != nil {
		f.Status, f.Title = Fail, "the request with an Origin header failed: "+r.describe(err)
		f.Observed = &Observed{Method: http.MethodPost, URL: r.mcp.String()}
		f.Fix = "The server answers clients but not browsers; see the CORS findings below."
		return f
	}
	f.Observed = p.observed("Access-Control-Allow-Origin", "Access-Control-Expose-Headers")
	if p.Status != http.StatusUnauthorized {
		f.Status, f.Title = Skip, fmt.Sprintf("with an Origin header the server answers %d, not 401", p.Status)
		return f
	}
	if headerListHas(p.Header.Values("Access-Control-Expose-Headers"), "WWW-Authenticate", true) {
		f.Status, f.Title = Pass, "WWW-Authenticate is exposed to browser clients"
		f.Observed = nil
		return f
	}
	f.Status, f.Title = Warn, "Access-Control-Expose-Headers does not list WWW-Authenticate"
	f.Fix = "Add WWW-Authenticate to Access-Control-Expose-Headers on the MCP endpoint's responses (with Mcp-Session-Id and MCP-Protocol-Version): browser clients (MCP Inspector, web apps) cannot read the challenge otherwise and must guess the metadata URL."
	return f
}

// mcpWithOrigin POSTs an initialize with the CORS origin and no token,
// once per run.
func (r *run) mcpWithOrigin(ctx context.Context) (*response, error) {
	if r.corsMCP != nil || r.corsMCPErr != nil {
		return r.corsMCP, r.corsMCPErr
	}
	h := mcpHeader()
	h.Set("Origin", r.opts.Origin)
	p, err := r.do(ctx, request{Method: http.MethodPost, URL: r.mcp.String(), Header: h, Body: r.initializeBody()})
	r.corsMCP, r.corsMCPErr = p, err
	if err == nil && p.Status == http.StatusOK {
		r.endSession(ctx, p, "")
	}
	return p, err
}

// headerListHas reports whether a comma-separated header list names h
// (case-insensitively); star says whether "*" counts.
func headerListHas(values []string, h string, star bool) bool {
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			item = strings.TrimSpace(item)
			if strings.EqualFold(item, h) || (star && item == "*") {
				return true
			}
		}
	}
	return false
}
