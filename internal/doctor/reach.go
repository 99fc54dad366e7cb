package doctor

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/netaddr"
)

// protocolVersion is the MCP revision doctor speaks: the one whose
// clients initialize a session and run the OAuth discovery checked here.
const protocolVersion = "2025-11-25"

// initializeBody is the request a client sends first.
func (r *run) initializeBody() []byte {
	b, _ := json.Marshal(map[string]any{
		"jsonrpc": "2.0", "id": 1, "method": "initialize",
		"params": map[string]any{
			"protocolVersion": protocolVersion,
			"capabilities":    map[string]any{},
			"clientInfo":      map[string]any{"name": "atomcp-doctor", "version": r.opts.Version},
		},
	})
	return b
}

// mcpHeader is what a Streamable HTTP client sends with a POST.
func mcpHeader() http.Header {
	return http.Header{
		"Content-Type": {"application/json"},
		"Accept":       {"application/json, text/event-stream"},
	}
}

// checkReach checks the URL, then POSTs an initialize without a token as
// a client does first, and reports how the server answered. It returns
// false when nothing usable answered.
func (r *run) checkReach(ctx context.Context) bool {
	f, u := checkURL(r.opts.URL)
	r.add(f)
	if u == nil {
		return false
	}
	p, hops, err := r.follow(ctx, request{Method: http.MethodPost, URL: u.String(), Header: mcpHeader(), Body: r.initializeBody()})
	if err != nil && classify(err) != errRedirect {
		r.add(r.connectFailure(u, err))
		return false
	}
	r.add(r.connectPass(u, hops, p))
	if u.Scheme == "https" && len(hops) == 0 && p != nil {
		r.add(tlsFinding(p))
	}
	r.add(redirectFinding(u, hops, err))
	if err != nil {
		return false
	}
	final, _ := url.Parse(p.URL)
	r.mcp = final
	r.probe = p
	r.needsAuth = p.Status == http.StatusUnauthorized
	r.add(r.endpointFinding(p))
	r.add(httpsFinding(final, r.needsAuth))
	if p.Status == http.StatusOK {
		r.endSession(ctx, p, "")
	}
	return p.Status == http.StatusOK || p.Status == http.StatusUnauthorized
}

// checkURL checks that the argument is an absolute http(s) URL.
func checkURL(raw string) (Finding, *url.URL) {
	f := Finding{ID: IDReachURL, Area: AreaReach, Observed: &Observed{URL: raw}}
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil:
		f.Status, f.Title = Fail, "not a URL: "+err.Error()
	case u.Scheme != "http" && u.Scheme != "https":
		f.Status, f.Title = Fail, fmt.Sprintf("not an http(s) URL (scheme %q)", u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		f.Status, f.Title = Fail, "the URL has no host"
	case u.User != nil:
		f.Status, f.Title = Fail, "the URL contains a user name or password"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		f.Status, f.Title = Fail, "the URL has a #fragment"
	default:
		f.Status, f.Title = Pass, "the MCP URL is "+u.String()
		return f, u
	}
	f.Fix = "Give the full URL of the MCP endpoint, as clients are given it, e.g. https://mcp.example.com/api/mcp (atomcp serves /api/mcp; http:// only for localhost)."
	return f, nil
}

// connectFailure turns a transport error of the first request into the
// finding that names its cause.
func (r *run) connectFailure(u *url.URL, err error) Finding {
	o := &Observed{Method: http.MethodPost, URL: u.String(), Detail: r.describe(err)}
	switch classify(err) {
	case errDNS:
		return Finding{ID: IDReachDNS, Area: AreaReach, Status: Fail, Observed: o,
			Title: fmt.Sprintf("the host %s does not resolve", u.Hostname()),
			Fix:   "Check the host name for typos; a new DNS record can take a while to be visible (dig " + u.Hostname() + "). A host that only resolves inside a VPN or container network cannot be reached from here."}
	case errTimeout:
		return Finding{ID: IDReachTimeout, Area: AreaReach, Status: Fail, Observed: o,
			Title: fmt.Sprintf("no answer within %s", r.opts.RequestTimeout),
			Fix:   "The server or a proxy in front of it accepts the connection but never answers: check that the server is running and not stuck, that a firewall does not drop the packets, and that the proxy's upstream address is right. Clients give up the same way."}
	case errTLS:
		return Finding{ID: IDReachTLS, Area: AreaReach, Status: Fail, Observed: o,
			Title: "TLS failed: " + tlsCause(err),
			Fix:   "Clients refuse this certificate too. Serve a certificate from a public CA that covers " + u.Hostname() + " (Let's Encrypt, or your proxy's edge certificate), with its intermediate certificates; if this is an http:// server, use http:// in the URL."}
	case errRefused:
		return Finding{ID: IDReachConnect, Area: AreaReach, Status: Fail, Observed: o,
			Title: "connection refused: nothing listens on " + u.Host,
			Fix:   "Start the server (atomcp serve), or check the port: atomcp listens on ATOMCP_ADDR (default 127.0.0.1:8000), and a server bound to 127.0.0.1 cannot be reached from another machine."}
	}
	return Finding{ID: IDReachConnect, Area: AreaReach, Status: Fail, Observed: o,
		Title: "the request failed: " + r.describe(err),
		Fix:   "Check that the URL is right and the server is running."}
}

// connectPass reports that an HTTP answer came back.
func (r *run) connectPass(u *url.URL, hops []*response, p *response) Finding {
	last := p
	if last == nil && len(hops) > 0 {
		last = hops[len(hops)-1]
	}
	f := Finding{ID: IDReachConnect, Area: AreaReach, Status: Pass, Observed: &Observed{Method: http.MethodPost, URL: u.String()}}
	if last != nil {
		f.Title = fmt.Sprintf("the server answers (HTTP %d in %s)", last.Status, last.Duration.Round(time.Millisecond))
		f.Observed.Status = last.Status
	} else {
		f.Title = "the server answers"
	}
	return f
}

// tlsFinding reports the TLS connection of an https answer.
func tlsFinding(p *response) Finding {
	f := Finding{ID: IDReachTLS, Area: AreaReach, Status: Pass, Observed: &Observed{URL: p.URL}}
	if p.TLS == nil || len(p.TLS.PeerCertificates) == 0 {
		f.Title = "TLS: certificate accepted"
		return f
	}
	cert := p.TLS.PeerCertificates[0]
	left := time.Until(cert.NotAfter)
	f.Observed.Detail = fmt.Sprintf("%s, certificate for %s issued by %s, valid until %s", tls.VersionName(p.TLS.Version), strings.Join(cert.DNSNames, ", "), cert.Issuer.CommonName, cert.NotAfter.Format(time.DateOnly))
	f.Title = fmt.Sprintf("TLS: certificate valid for %d more days", int(left.Hours()/24))
	if left < 14*24*time.Hour {
		f.Status = Warn
		f.Fix = "Renew the certificate before it expires; clients refuse an expired one."
	}
	return f
}

// redirectFinding reports redirects of the MCP URL: none is best; a loop
// or an endless chain is what browsers call "redirected too many times".
func redirectFinding(u *url.URL, hops []*response, err error) Finding {
	f := Finding{ID: IDReachRedirect, Area: AreaReach, Status: Pass, Title: "no redirect"}
	if re, ok := err.(*redirectError); ok {
		f.ID = IDReachRedirectLoop
		f.Status = Fail
		f.Observed = &Observed{Method: http.MethodPost, URL: u.String(), Status: hops[len(hops)-1].Status, Detail: re.Error()}
		if re.loop {
			f.Title = "redirect loop: the URL redirects back to itself"
		} else {
			f.Title = fmt.Sprintf("more than %d redirects", MaxRedirects)
		}
		f.Fix = loopFix(re.chain)
		return f
	}
	if len(hops) == 0 {
		return f
	}
	first := hops[0]
	loc := first.Header.Get("Location")
	f.Status = Warn
	f.Observed = first.observed("Location")
	to, _ := url.Parse(loc)
	if to != nil {
		to = u.ResolveReference(to)
	}
	switch {
	case to != nil && u.Scheme == "http" && to.Scheme == "https" && strings.EqualFold(to.Hostname(), u.Hostname()):
		f.Title = fmt.Sprintf("http:// redirects to https:// (%d)", first.Status)
		f.Fix = fmt.Sprintf("Give clients the https:// URL (%s): a redirected POST loses its body in clients that follow 301/302 with a GET, a browser's preflight must not be redirected, and the resource in the metadata and the token's audience are the https URL.", to.String())
	case to != nil && strings.TrimSuffix(to.Path, "/") == strings.TrimSuffix(u.Path, "/") && to.Path != u.Path:
		f.Title = fmt.Sprintf("the server redirects %s to %s (trailing slash, %d)", u.Path, to.Path, first.Status)
		f.Fix = fmt.Sprintf("Give clients the URL the server does not redirect (%s), or make the server answer both forms (atomcp does; Starlette/FastMCP mounts redirect to the slash). Browsers refuse a redirected preflight.", to.String())
	default:
		f.Title = fmt.Sprintf("the URL redirects (%d) to %s", first.Status, loc)
		f.Fix = "Give clients the final URL: clients that follow a 301/302 for a POST send a GET, and browsers refuse to follow a redirect of a preflight. The checks below use the final URL."
	}
	return f
}

// loopFix explains a redirect loop from the URLs visited.
func loopFix(chain []string) string {
	schemes := map[string]bool{}
	slash := false
	for i, c := range chain {
		if u, err := url.Parse(c); err == nil {
			schemes[u.Scheme] = true
			if i > 0 {
				if p, err := url.Parse(chain[i-1]); err == nil && p.Path != u.Path && strings.TrimSuffix(p.Path, "/") == strings.TrimSuffix(u.Path, "/") {
					slash = true
				}
			}
		}
	}
	switch {
	case schemes["http"] && schemes["https"]:
		return "http and https redirect to each other. The usual cause is a TLS proxy that reaches the server over plain http while the server (or a rule) redirects http to https: at Cloudflare set SSL/TLS → Overview → encryption mode to \"Full (strict)\" instead of \"Flexible\"; with nginx or a load balancer, pass X-Forwarded-Proto and have the server trust it (atomcp: ATOMCP_TRUSTED_PROXIES) instead of redirecting."
	case slash:
		return "The server and a proxy disagree about the trailing slash (/path ↔ /path/). Remove the slash rewrite from the proxy, or give clients the form the server serves."
	}
	return "Follow the chain (atomcp doctor -v shows every hop) and remove the rule that sends the request back: typically a proxy redirect rule, a canonical-host redirect between two names, or an application redirect that the proxy undoes."
}

// endpointFinding says whether the answer to an initialize without a
// token is what an MCP endpoint gives: 401 (OAuth) or 200 (no auth).
func (r *run) endpointFinding(p *response) Finding {
	f := Finding{ID: IDReachEndpoint, Area: AreaReach, Status: Fail, Observed: p.observed("Content-Type", "WWW-Authenticate")}
	snippet := strings.TrimSpace(string(p.Body[:min(len(p.Body), 300)]))
	switch {
	case p.Status == http.StatusUnauthorized:
		f.Status, f.Title = Pass, "it is an MCP endpoint that requires a token (401)"
		f.Observed = nil
		return f
	case p.Status == http.StatusOK:
		if isRPCResponse(p.Body) {
			f.Status, f.Title = Pass, "it is an MCP endpoint that answers without a token"
			f.Observed = nil
			return f
		}
		f.Title = "HTTP 200, but not an MCP answer"
		f.Observed.Detail = snippet
		f.Fix = "This URL serves something else (a web page?). Give clients the MCP endpoint's path: atomcp serves /api/mcp (ATOMCP_MCP_PATH), FastMCP servers usually /mcp/."
	case p.Status == http.StatusNotFound:
		f.Title = "404: no MCP endpoint at this path"
		f.Fix = "Check the path: atomcp serves /api/mcp (ATOMCP_MCP_PATH; the old ATOMS_FASTMCP_HTTP_PATH), FastMCP servers usually /mcp/. A proxy may also strip or add a path prefix."
	case p.Status == http.StatusMethodNotAllowed:
		f.Title = "405: the URL does not accept POST"
		f.Fix = "Streamable HTTP clients POST to the endpoint. An old SSE-only server (2024-11-05 transport, /sse) or a static site answers like this: point clients at the Streamable HTTP endpoint."
	case p.Status == http.StatusForbidden:
		f.Title = "403 before any token was checked"
		f.Observed.Detail = snippet
		f.Fix = "Something refuses the request before authentication: atomcp's DNS-rebinding guard refuses a Host it does not know (set ATOMCP_BASE_URL to the public URL, or list the host in ATOMCP_ALLOWED_HOSTS), or a WAF, IP allow-list or proxy authentication sits in front."
	case p.Status == http.StatusBadRequest:
		f.Title = "400 to a valid initialize request"
		f.Observed.Detail = snippet
		f.Fix = "Read the answer above: atomcp answers 400 when it is reached under a host name it cannot build its URLs from (set ATOMCP_BASE_URL to the public URL); other servers may require a header a proxy drops."
	case p.Status == http.StatusNotAcceptable || p.Status == http.StatusUnsupportedMediaType:
		f.Title = fmt.Sprintf("%d: the server refuses the MCP request's Accept or Content-Type", p.Status)
		f.Fix = "A proxy or the server rejects \"Accept: application/json, text/event-stream\" or \"Content-Type: application/json\", which every Streamable HTTP client sends: let them through."
	case p.Status >= 500:
		f.Title = fmt.Sprintf("HTTP %d: the server or its proxy failed", p.Status)
		f.Observed.Detail = snippet
		f.Fix = "502/504 come from a proxy that cannot reach the server (wrong upstream address or port, server down); 500 from the server itself: read its log."
	default:
		f.Title = fmt.Sprintf("HTTP %d to an initialize request", p.Status)
		f.Observed.Detail = snippet
		f.Fix = "An MCP endpoint answers 401 (a token is needed) or 200 (no authentication). Check that the URL is the MCP endpoint."
	}
	return f
}

// httpsFinding checks the scheme: tokens must not travel in clear text,
// and clients refuse http metadata from hosts other than loopback.
func httpsFinding(u *url.URL, auth bool) Finding {
	f := Finding{ID: IDReachHTTPS, Area: AreaReach, Status: Pass, Observed: &Observed{URL: u.String()}}
	switch {
	case u.Scheme == "https":
		f.Title = "served over https"
	case netaddr.IsLoopbackHost(u.Hostname()):
		f.Title = "http:// on a loopback address: fine for local clients"
	default:
		f.Status = Warn
		if auth {
			f.Status = Fail
		}
		f.Title = "plain http:// to a host that is not loopback"
		f.Fix = "Serve the endpoint over https (a TLS proxy in front is fine; atomcp: set ATOMCP_BASE_URL=https://… so its documents say https): bearer tokens would travel in clear text, and MCP clients refuse http:// metadata and authorization servers except on localhost."
	}
	return f
}

// endSession closes a session an initialize opened, if any.
func (r *run) endSession(ctx context.Context, p *response, token string) {
	sid := p.Header.Get("Mcp-Session-Id")
	if sid == "" {
		return
	}
	h := http.Header{"Mcp-Session-Id": {sid}, "MCP-Protocol-Version": {protocolVersion}}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	_, _ = r.do(ctx, request{Method: http.MethodDelete, URL: p.URL, Header: h})
}
