package doctor

import (
	"context"
	"fmt"
	"mime"
	"net/url"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// issuer is one authorization server named by the protected-resource
// metadata, and what was learned about it.
type issuer struct {
	url     string
	meta    *oauthex.AuthServerMeta
	metaURL string
	keys    []jwk // its signing keys, once fetched
}

// asMetadataURLs returns where the metadata of an issuer may be, in the
// order of the MCP authorization spec (2025-11-25): RFC 8414 with the
// issuer's path inserted after the well-known prefix, then OpenID Connect
// Discovery with the path inserted, then appended. An issuer without a
// path (or with "/") has only the two root locations.
func asMetadataURLs(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil
	}
	o := u.Scheme + "://" + u.Host
	p := strings.TrimSuffix(u.EscapedPath(), "/")
	if p == "" {
		return []string{o + "/.well-known/oauth-authorization-server", o + "/.well-known/openid-configuration"}
	}
	return []string{
		o + "/.well-known/oauth-authorization-server" + p,
		o + "/.well-known/openid-configuration" + p,
		o + p + "/.well-known/openid-configuration",
	}
}

// isAuthKit reports whether an issuer is a WorkOS AuthKit domain.
func isAuthKit(issuer string) bool {
	u, err := url.Parse(issuer)
	return err == nil && strings.HasSuffix(strings.ToLower(u.Hostname()), ".authkit.app")
}

// authKitDomainFix is the fix for an AuthKit domain that has no metadata.
func authKitDomainFix(tried string) string {
	return "The AuthKit domain is wrong. In the WorkOS dashboard, select the environment (staging and production have different domains), open Domains and copy the AuthKit domain (https://<random-phrase>.authkit.app, or your custom AuthKit domain in production). Configure the server with it (atomcp: ATOMCP_AUTHKIT_DOMAIN; the Python server's .env: FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN). Check: curl " + tried + " must answer JSON."
}

// checkAuthorizationServers checks each advertised authorization server.
func (r *run) checkAuthorizationServers(ctx context.Context) {
	if r.prm == nil {
		r.add(skip(IDASMetadata, AreaAS, "no protected-resource document, so no authorization server to check"))
		return
	}
	if len(r.issuers) == 0 {
		r.add(skip(IDASMetadata, AreaAS, "the protected-resource document names no authorization server"))
		return
	}
	for _, is := range r.issuers {
		f := checkIssuerURL(is.url)
		r.add(f)
		if f.Status == Fail {
			continue
		}
		f, meta, metaURL := r.discover(ctx, IDASMetadata, AreaAS, is.url)
		r.add(f)
		if meta == nil {
			continue
		}
		is.meta, is.metaURL = meta, metaURL
		r.add(checkIssuerMatch(is))
		r.add(checkPKCE(is))
		r.add(checkEndpoints(is))
	}
}

// checkIssuerURL checks an issuer identifier.
func checkIssuerURL(s string) Finding {
	f := Finding{ID: IDASIssuerURL, Area: AreaAS, Observed: &Observed{URL: s}}
	if p := issuerURLProblem(s); p != "" {
		f.Status, f.Title = Fail, fmt.Sprintf("authorization server %q: %s", s, p)
		f.Fix = "authorization_servers must list issuer identifiers: absolute https:// URLs (http:// only for localhost) without query or fragment, exactly as each server's metadata names itself."
		return f
	}
	f.Status, f.Title, f.Observed = Pass, "authorization server "+s, nil
	if isAuthKit(s) {
		f.Title += " (WorkOS AuthKit)"
	}
	return f
}

// discover finds an issuer's metadata at the spec's well-known URLs, in
// order, as clients do. A 404 at all of them is the classic wrong-domain
// mistake.
func (r *run) discover(ctx context.Context, id string, area Area, iss string) (Finding, *oauthex.AuthServerMeta, string) {
	f := Finding{ID: id, Area: area}
	urls := asMetadataURLs(iss)
	var tried []string
	var earlier string // a failure other than 4xx before the document
	for _, u := range urls {
		var meta oauthex.AuthServerMeta
		p, hops, problem := r.getJSON(ctx, u, nil, &meta)
		if problem == "" {
			f.Status, f.Title = Pass, "metadata found at "+u
			switch mt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); {
			case earlier != "":
				f.Status = Warn
				f.Observed = &Observed{URL: u, Detail: "tried: " + strings.Join(tried, "; ")}
				f.Title += ", but an earlier location failed: " + earlier
				f.Fix = "Clients try the locations in order and some (go-sdk) stop at the first answer that is not 200 or 4xx: make the earlier location answer 404, or serve the metadata there too."
			case len(hops) > 0:
				f.Status = Warn
				f.Observed = &Observed{URL: u, Detail: fmt.Sprintf("redirected to %s", p.URL)}
				f.Fix = "Serve the metadata at " + u + " without a redirect: clients refuse redirects to http or to private addresses, and some do not follow them."
			case mt != "application/json":
				f.Status = Warn
				f.Observed = p.observed("Content-Type")
				f.Title += fmt.Sprintf(", but with Content-Type %q", p.Header.Get("Content-Type"))
				f.Fix = "Serve it as Content-Type: application/json: go-sdk based clients refuse any other type."
			}
			return f, &meta, u
		}
		if p == nil {
			// A transport failure is the same at every location.
			f.Status = Fail
			f.Observed = &Observed{Method: "GET", URL: u, Detail: problem}
			f.Title = "the authorization server cannot be reached: " + problem
			f.Fix = "Check the issuer URL in authorization_servers and that the authorization server is up."
			if isAuthKit(iss) {
				f.Fix = authKitDomainFix(urls[0])
			}
			return f, nil, ""
		}
		tried = append(tried, fmt.Sprintf("%s → %s", u, shortProblem(p, problem)))
		if p.Status < 400 || p.Status >= 500 {
			earlier = fmt.Sprintf("%s answered %s", u, shortProblem(p, problem))
		}
	}
	f.Status = Fail
	f.Observed = &Observed{URL: iss, Detail: "tried: " + strings.Join(tried, "; ")}
	f.Title = fmt.Sprintf("no authorization-server metadata for %s (tried %d well-known URLs)", iss, len(urls))
	if isAuthKit(iss) {
		f.Fix = authKitDomainFix(urls[0])
	} else {
		f.Fix = "The issuer is wrong, or its metadata is not public. The issuer must be exactly the \"issuer\" of the provider's own discovery document (Auth0: https://<tenant>.<region>.auth0.com/ with the slash; Keycloak: https://<host>/realms/<realm>; Okta: https://<org>.okta.com/oauth2/default; atomcp's embedded server: its base URL). Check: curl " + urls[0] + " must answer JSON."
	}
	return f, nil, ""
}

// shortProblem is the status of a failed document fetch in a few words.
func shortProblem(p *response, problem string) string {
	switch {
	case p.Status != 200:
		return fmt.Sprintf("%d", p.Status)
	case strings.HasPrefix(problem, "HTML"):
		return "200 with HTML"
	case p.TooLarge:
		return "200 but too large"
	}
	return "200 but " + problem
}

// checkIssuerMatch checks that the metadata names the issuer it was
// fetched for (RFC 8414 section 3.3).
func checkIssuerMatch(is *issuer) Finding {
	f := Finding{ID: IDASIssuer, Area: AreaAS, Observed: &Observed{URL: is.metaURL, Detail: fmt.Sprintf("issuer: %q; authorization_servers names %q", is.meta.Issuer, is.url)}}
	switch {
	case is.meta.Issuer == is.url:
		f.Status, f.Title, f.Observed = Pass, "the metadata's issuer is "+is.url, nil
	case is.meta.Issuer == "":
		f.Status, f.Title = Fail, "the metadata has no issuer"
		f.Fix = "The authorization server's metadata must contain \"issuer\": " + is.url + "."
	case strings.TrimSuffix(is.meta.Issuer, "/") == strings.TrimSuffix(is.url, "/"):
		f.Status, f.Title = Warn, "the metadata's issuer differs by a trailing slash"
		f.Fix = fmt.Sprintf("List the issuer exactly as the metadata names it, %s: RFC 8414 requires identical strings, and tokens carry that exact \"iss\" (atomcp: ATOMCP_OIDC_ISSUER keeps the slash you write).", is.meta.Issuer)
	default:
		f.Status, f.Title = Fail, fmt.Sprintf("the metadata names another issuer (%s)", is.meta.Issuer)
		f.Fix = fmt.Sprintf("Clients refuse metadata whose issuer is not the URL it was fetched for (RFC 8414 section 3.3). List %s in authorization_servers if that is the right server (atomcp: ATOMCP_OIDC_ISSUER or ATOMCP_AUTHKIT_DOMAIN), or fix the issuer setting of the authorization server (a proxy in front of it must not change its public URL).", is.meta.Issuer)
	}
	return f
}

// checkPKCE checks code_challenge_methods_supported: MCP clients must
// refuse an authorization server that does not advertise S256.
func checkPKCE(is *issuer) Finding {
	f := Finding{ID: IDASPKCE, Area: AreaAS}
	if slices.Contains(is.meta.CodeChallengeMethodsSupported, "S256") {
		f.Status, f.Title = Pass, "PKCE with S256"
		return f
	}
	f.Observed = &Observed{URL: is.metaURL, Detail: fmt.Sprintf("code_challenge_methods_supported: %v", is.meta.CodeChallengeMethodsSupported)}
	f.Status, f.Title = Fail, "code_challenge_methods_supported does not contain S256"
	f.Fix = "MCP clients refuse an authorization server that does not advertise PKCE with S256 (go-sdk: \"does not implement PKCE\"). Enable PKCE at the identity provider, or make its metadata list \"code_challenge_methods_supported\": [\"S256\"]."
	return f
}

// checkEndpoints checks the endpoints clients call.
func checkEndpoints(is *issuer) Finding {
	f := Finding{ID: IDASEndpoints, Area: AreaAS, Observed: &Observed{URL: is.metaURL}}
	var problems []string
	for _, e := range []struct{ name, value string }{
		{"authorization_endpoint", is.meta.AuthorizationEndpoint},
		{"token_endpoint", is.meta.TokenEndpoint},
		{"registration_endpoint", is.meta.RegistrationEndpoint},
	} {
		if e.value == "" {
			if e.name != "registration_endpoint" {
				problems = append(problems, e.name+" is missing")
			}
			continue
		}
		if p := issuerURLProblem(e.value); p != "" && !strings.HasPrefix(p, "has a query") {
			problems = append(problems, fmt.Sprintf("%s %s: %s", e.name, e.value, p))
		}
	}
	if len(is.meta.ResponseTypesSupported) > 0 && !slices.Contains(is.meta.ResponseTypesSupported, "code") {
		problems = append(problems, "response_types_supported lacks \"code\"")
	}
	if len(problems) > 0 {
		f.Status, f.Title = Fail, "unusable endpoints: "+strings.Join(problems, "; ")
		f.Fix = "The metadata must name https:// authorization and token endpoints (http:// only on localhost) and support the authorization-code flow; a proxy that rewrites URLs to http:// causes this too (fix its X-Forwarded-Proto)."
		return f
	}
	f.Status, f.Title, f.Observed = Pass, "authorization and token endpoints are https", nil
	if strings.HasPrefix(is.meta.TokenEndpoint, "http://") {
		f.Title = "authorization and token endpoints are usable (http on localhost)"
	}
	return f
}
