package doctor

import (
	"context"
	"fmt"
	"mime"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/atomcp/atomcp/internal/netaddr"
)

// pathProtectedResource is RFC 9728's well-known path.
const pathProtectedResource = "/.well-known/oauth-protected-resource"

// prmDoc is a protected-resource document and where it was found.
type prmDoc struct {
	url  string
	meta oauthex.ProtectedResourceMetadata
}

// prmURLs returns the well-known locations of an MCP URL's document in
// the order clients try them: the path-suffixed one (RFC 9728 section
// 3.1), then the root.
func prmURLs(mcp *url.URL) []string {
	root := origin(mcp) + pathProtectedResource
	p := strings.TrimSuffix(mcp.EscapedPath(), "/")
	if p == "" {
		return []string{root}
	}
	return []string{root + p, root}
}

// checkResourceMetadata fetches the protected-resource document from
// every place a client looks (the challenge's resource_metadata, the
// path-suffixed and the root well-known URL) and checks each.
func (r *run) checkResourceMetadata(ctx context.Context) {
	var urls []string
	if r.challenge != nil && r.challenge.resourceMetadata != "" {
		if u, err := url.Parse(r.challenge.resourceMetadata); err == nil && u.IsAbs() {
			urls = append(urls, r.challenge.resourceMetadata)
		}
	}
	for _, u := range prmURLs(r.mcp) {
		if !contains(urls, u) {
			urls = append(urls, u)
		}
	}
	for _, u := range urls {
		// Once a document was found, clients stop looking: problems of
		// the later places only matter to clients that skip the earlier.
		fallback := r.prm != nil
		f, doc := r.fetchPRM(ctx, u, fallback)
		r.add(f)
		if doc == nil {
			continue
		}
		r.add(r.checkPRMResource(doc, fallback))
		r.add(r.checkPRMServers(doc, fallback))
		if r.prm == nil {
			r.prm = doc
			for _, s := range doc.meta.AuthorizationServers {
				if !r.hasIssuer(s) {
					r.issuers = append(r.issuers, &issuer{url: s})
				}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (r *run) hasIssuer(s string) bool {
	for _, is := range r.issuers {
		if is.url == s {
			return true
		}
	}
	return false
}

// fetchPRM fetches and decodes one protected-resource document.
func (r *run) fetchPRM(ctx context.Context, u string, fallback bool) (Finding, *prmDoc) {
	f := Finding{ID: IDPRMFetch, Area: AreaPRM}
	var meta oauthex.ProtectedResourceMetadata
	p, hops, problem := r.getJSON(ctx, u, nil, &meta)
	if p != nil {
		f.Observed = p.observed("Content-Type", "Location")
	} else {
		f.Observed = &Observed{Method: "GET", URL: u}
	}
	if problem == "" {
		f.Status, f.Title = Pass, "found at "+u
		if len(hops) > 0 {
			f.Status, f.Title = Warn, fmt.Sprintf("found at %s after %d redirect(s)", p.URL, len(hops))
			f.Fix = "Serve the document at " + u + " itself: go-sdk clients refuse a redirect from https to http or to another host, and others do not follow redirects for metadata."
		} else if mt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); mt != "application/json" {
			f.Status, f.Title = Warn, fmt.Sprintf("found at %s, but with Content-Type %q", u, p.Header.Get("Content-Type"))
			f.Fix = "Serve it as Content-Type: application/json: go-sdk based clients refuse any other type."
		} else {
			f.Observed = nil
		}
		return f, &prmDoc{url: p.URL, meta: meta}
	}
	f.Observed.Detail = problem
	if fallback && p != nil && p.Status == 404 {
		f.Status, f.Title = Pass, "nothing at "+u+": fine, clients stop at the document found before"
		f.Observed = nil
		return f, nil
	}
	f.Status, f.Title = Fail, "no usable document at "+u+": "+problem
	if fallback {
		f.Status = Warn
	}
	switch {
	case p != nil && p.Status == 404:
		f.Fix = fmt.Sprintf("Serve the RFC 9728 document at %s (and name it in the 401's resource_metadata). atomcp serves it whenever an auth provider is configured (ATOMCP_AUTH).", prmURLs(r.mcp)[0])
	case p != nil && (p.Status == 401 || p.Status == 403):
		f.Fix = "Discovery documents must be public: exempt /.well-known/ from any authentication, WAF rule or IP allow-list in front of the server."
	case p != nil && strings.HasPrefix(problem, "HTML"):
		f.Fix = "A web page answers the well-known URL (a single-page app's catch-all route, a login page or a proxy's error page): route /.well-known/oauth-protected-resource… to the MCP server."
	case p != nil && p.TooLarge:
		f.Fix = "The answer is far larger than a metadata document: something else answers this URL. Route it to the MCP server."
	default:
		f.Fix = "Serve the document as JSON with status 200 at this URL; clients that find no document cannot start OAuth."
	}
	return f, nil
}

// checkPRMResource checks that resource is exactly the MCP URL.
func (r *run) checkPRMResource(doc *prmDoc, fallback bool) Finding {
	f := Finding{ID: IDPRMResource, Area: AreaPRM, Observed: &Observed{URL: doc.url, Detail: "resource: " + doc.meta.Resource + "; clients use: " + r.mcp.String()}}
	if doc.meta.Resource == r.mcp.String() {
		f.Status, f.Title, f.Observed = Pass, "resource is the MCP URL", nil
		return f
	}
	f.Status = Fail
	if fallback {
		f.Status = Warn
	}
	f.Title, f.Fix = resourceMismatch(doc.meta.Resource, r.mcp)
	return f
}

// resourceMismatch explains how a resource differs from the MCP URL.
func resourceMismatch(res string, mcp *url.URL) (title, fix string) {
	base := "Clients compare resource with the URL they were given, exactly (RFC 9728 section 3.3), and stop when they differ. "
	ru, err := url.Parse(res)
	switch {
	case res == "":
		return "the document has no resource", base + "Set resource to " + mcp.String() + "."
	case err != nil || !ru.IsAbs() || ru.Host == "":
		return fmt.Sprintf("resource %q is not an absolute URL", res), base + "Set resource to " + mcp.String() + "."
	case ru.Scheme == "http" && mcp.Scheme == "https":
		return "resource says http:// but the server is reached over https:// (a TLS proxy in front)",
			base + "The server builds the resource from the plain-http request its TLS proxy forwards. Tell it its public URL: atomcp: ATOMCP_BASE_URL=" + origin(mcp) + " (or list the proxy in ATOMCP_TRUSTED_PROXIES so its X-Forwarded-Proto: https is believed); FastMCP: the provider's base_url. Make the proxy send X-Forwarded-Proto."
	case ru.Scheme != mcp.Scheme:
		return fmt.Sprintf("resource uses %s:// but clients use %s://", ru.Scheme, mcp.Scheme),
			base + "Give the server its public URL (atomcp: ATOMCP_BASE_URL=" + origin(mcp) + ")."
	case !strings.EqualFold(ru.Hostname(), mcp.Hostname()):
		return fmt.Sprintf("resource names another host (%s, clients use %s)", ru.Host, mcp.Host),
			base + "Set the server's public URL to the one clients use (atomcp: ATOMCP_BASE_URL=" + origin(mcp) + "; a proxy on the same machine also needs the host in ATOMCP_ALLOWED_HOSTS), or give clients the URL the document names."
	case portOf(ru) != portOf(mcp):
		return fmt.Sprintf("resource names another port (%s, clients use %s)", ru.Host, mcp.Host),
			base + "The server advertises its internal port: set its public URL (atomcp: ATOMCP_BASE_URL=" + origin(mcp) + ")."
	case ru.Hostname() != mcp.Hostname():
		return "resource differs from the URL only in the case of the host name",
			base + "Write the host name in the same case in both places (lower case)."
	case ru.Path == mcp.Path+"/":
		return "resource has a trailing slash that the MCP URL does not have",
			base + "Make resource exactly " + mcp.String() + " (atomcp never adds the slash; a FastMCP app mounted at \"/mcp/\" does), or give clients the URL with the slash."
	case mcp.Path == ru.Path+"/":
		return "the MCP URL has a trailing slash that resource does not have",
			base + "Give clients the URL without the slash (" + res + "), or make resource end with the slash too."
	case ru.Path == "" || ru.Path == "/":
		return "resource is the server's root, not the MCP endpoint (the path is missing)",
			base + "resource must be the MCP endpoint's full URL, " + mcp.String() + " (atomcp builds it from ATOMCP_BASE_URL, the origin only, and ATOMCP_MCP_PATH; FastMCP: include the MCP path in the resource server URL)."
	case ru.RawQuery != mcp.RawQuery:
		return "resource and the MCP URL differ in their query", base + "Set resource to " + mcp.String() + "."
	}
	return fmt.Sprintf("resource names another path (%s, clients use %s)", ru.Path, mcp.Path),
		base + "Set resource to " + mcp.String() + ", or give clients the URL the document names (atomcp: ATOMCP_MCP_PATH)."
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// checkPRMServers checks authorization_servers.
func (r *run) checkPRMServers(doc *prmDoc, fallback bool) Finding {
	f := Finding{ID: IDPRMServers, Area: AreaPRM, Observed: &Observed{URL: doc.url, Detail: "authorization_servers: " + strings.Join(doc.meta.AuthorizationServers, ", ")}}
	bad := Fail
	if fallback {
		bad = Warn
	}
	if len(doc.meta.AuthorizationServers) == 0 {
		f.Status, f.Title = bad, "authorization_servers is empty: clients cannot find where to log in"
		f.Fix = "Name the issuer of the tokens (MCP requires at least one). atomcp does so with ATOMCP_AUTH=embedded, authkit (ATOMCP_AUTHKIT_DOMAIN) or oidc (ATOMCP_OIDC_ISSUER); with ATOMCP_AUTH=static only callers with a pre-shared token get in."
		return f
	}
	f.Status, f.Title, f.Observed = Pass, "authorization_servers: "+strings.Join(doc.meta.AuthorizationServers, ", "), nil
	return f
}

// issuerURLProblem says what is wrong with an issuer identifier, or "".
func issuerURLProblem(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return "not an absolute URL"
	case u.Scheme != "https" && !(u.Scheme == "http" && netaddr.IsLoopbackHost(u.Hostname())):
		return "not https (clients refuse http:// authorization servers except on localhost)"
	case u.RawQuery != "" || u.Fragment != "" || strings.Contains(s, "#"):
		return "has a query or fragment"
	}
	return ""
}
