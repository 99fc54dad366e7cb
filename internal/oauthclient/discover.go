package oauthclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/atomcp/atomcp/internal/netaddr"
)

// Discovery is what a client learns about an MCP server's authorization
// before it logs in.
type Discovery struct {
	// ServerURL is the MCP endpoint.
	ServerURL string
	// ResourceMetadataURL is where the protected-resource metadata (RFC
	// 9728) was found; empty when the server has none and the 2025-03-26
	// fallback applies (the server's origin is the authorization server).
	ResourceMetadataURL string
	ResourceMetadata    *oauthex.ProtectedResourceMetadata
	// Resource is the resource identifier sent as `resource` (RFC 8707).
	Resource string
	// Issuer is the authorization server (the first of
	// authorization_servers).
	Issuer string
	// AuthServerMetadataURL is where the authorization-server metadata was
	// found; empty when none was and the 2025-03-26 default endpoints apply.
	AuthServerMetadataURL string
	AuthServerMetadata    *oauthex.AuthServerMeta
	// ChallengeScopes are the scopes of the WWW-Authenticate challenge.
	ChallengeScopes []string
	// ChallengeError is the error code of the challenge (invalid_token,
	// insufficient_scope, …), if any.
	ChallengeError string
	// ChallengeScheme is the scheme of the challenge, "bearer" or "dpop"
	// (lower case), if any.
	ChallengeScheme string
	// Tried lists every metadata URL fetched, in order, with its outcome
	// ("ok", "HTTP 404", …), for diagnosis.
	Tried []Attempt
}

// Attempt is one metadata URL fetched during discovery.
type Attempt struct {
	URL     string
	Outcome string
}

// Legacy reports whether the 2025-03-26 fallbacks were used (no
// protected-resource metadata, or default endpoints).
func (d *Discovery) Legacy() bool {
	return d.ResourceMetadataURL == "" || d.AuthServerMetadataURL == ""
}

// maxMetadataBytes bounds a metadata document.
const maxMetadataBytes = 1 << 20

// Discover finds the authorization server of the MCP server at serverURL,
// given the WWW-Authenticate header values of its 401 or 403 answer (nil if
// there was none), in the order of the MCP authorization specification:
//
//  1. protected-resource metadata from the challenge's resource_metadata,
//     else at the path-suffixed well-known URL, else at the root one (a 4xx
//     answer moves on to the next; anything else is an error);
//  2. without any, the 2025-03-26 fallback: the server's origin is the
//     authorization server;
//  3. authorization-server metadata of authorization_servers[0] by RFC 8414
//     and OpenID Connect discovery, with path insertion when the issuer has
//     a path, then OpenID path appending;
//  4. without any, the 2025-03-26 default endpoints /authorize, /token and
//     /register.
//
// It checks what go-sdk's flow relies on and more: the resource of the
// metadata is this server's, the issuer of the authorization-server
// metadata is the one asked for (one trailing slash aside), S256 is among
// code_challenge_methods_supported, and the endpoints are HTTPS or
// loopback URLs. Each failure is an *Error naming the URL.
//
// c should come from [NewHTTPClient].
func Discover(ctx context.Context, c *http.Client, serverURL string, wwwAuthenticate []string) (*Discovery, error) {
	d := &Discovery{ServerURL: serverURL}
	challenges, err := oauthex.ParseWWWAuthenticate(wwwAuthenticate)
	if err != nil {
		return nil, errorf(KindBadMetadata, err, "the server %s sent a WWW-Authenticate header atomcp cannot parse: %v", serverURL, err)
	}
	var challengeURL string
	for _, ch := range challenges {
		if ch.Scheme != "bearer" && ch.Scheme != "dpop" {
			continue
		}
		if d.ChallengeScheme == "" {
			d.ChallengeScheme = ch.Scheme
		}
		if v := ch.Params["resource_metadata"]; v != "" && challengeURL == "" {
			challengeURL = v
		}
		if v := ch.Params["scope"]; v != "" && d.ChallengeScopes == nil {
			d.ChallengeScopes = strings.Fields(v)
		}
		if v := ch.Params["error"]; v != "" && d.ChallengeError == "" {
			d.ChallengeError = v
		}
	}

	if err := d.findResourceMetadata(ctx, c, challengeURL); err != nil {
		return nil, err
	}
	if err := d.findAuthServerMetadata(ctx, c); err != nil {
		return nil, err
	}
	return d, nil
}

type prmCandidate struct{ url, resource string }

func resourceMetadataCandidates(challengeURL, serverURL string) ([]prmCandidate, error) {
	ru, err := url.Parse(serverURL)
	if err != nil || ru.Host == "" {
		return nil, errorf(KindOther, err, "%q is not an MCP server URL", serverURL)
	}
	var out []prmCandidate
	if challengeURL != "" {
		out = append(out, prmCandidate{challengeURL, serverURL})
	}
	// The same URLs, in the same order, as go-sdk's flow, so that both
	// find the same document.
	mu := *ru
	mu.RawQuery, mu.Fragment, mu.RawPath = "", "", ""
	mu.Path = "/.well-known/oauth-protected-resource/" + strings.TrimLeft(ru.Path, "/")
	out = append(out, prmCandidate{mu.String(), serverURL})
	mu.Path = "/.well-known/oauth-protected-resource"
	root := *ru
	root.Path, root.RawPath, root.RawQuery, root.Fragment = "", "", "", ""
	out = append(out, prmCandidate{mu.String(), root.String()})
	return out, nil
}

func (d *Discovery) findResourceMetadata(ctx context.Context, c *http.Client, challengeURL string) error {
	cands, err := resourceMetadataCandidates(challengeURL, d.ServerURL)
	if err != nil {
		return err
	}
	for _, cand := range cands {
		if err := checkMetadataURL("the protected-resource metadata", cand.url); err != nil {
			return err
		}
		var prm oauthex.ProtectedResourceMetadata
		status, err := getJSON(ctx, c, "the protected-resource metadata", cand.url, &prm)
		if err != nil {
			d.Tried = append(d.Tried, Attempt{cand.url, err.Error()})
			return err
		}
		if status >= 400 && status < 500 {
			d.Tried = append(d.Tried, Attempt{cand.url, fmt.Sprintf("HTTP %d", status)})
			continue
		}
		d.Tried = append(d.Tried, Attempt{cand.url, "ok"})
		if prm.Resource != cand.resource {
			return errorf(KindResourceMismatch, nil, "the protected-resource metadata at %s is for the resource %q, not %q; atomcp will not send a token for this server there", cand.url, prm.Resource, cand.resource)
		}
		if len(prm.AuthorizationServers) == 0 {
			return errorf(KindBadMetadata, nil, "the protected-resource metadata at %s lists no authorization_servers, so there is no OAuth login for this server (give a token with --token)", cand.url)
		}
		for i, as := range prm.AuthorizationServers {
			if err := checkEndpointURL(fmt.Sprintf("authorization_servers[%d] of %s", i, cand.url), as); err != nil {
				return err
			}
		}
		d.ResourceMetadataURL = cand.url
		d.ResourceMetadata = &prm
		d.Resource = prm.Resource
		d.Issuer = prm.AuthorizationServers[0]
		return nil
	}
	// 2025-03-26: no protected-resource metadata; the server's origin is
	// its authorization server.
	u, _ := url.Parse(d.ServerURL)
	u.Path, u.RawPath, u.RawQuery, u.Fragment = "", "", "", ""
	d.Resource = d.ServerURL
	d.Issuer = u.String()
	return nil
}

// AuthServerMetadataURLs are the well-known URLs of the authorization
// server issuer, in the order the MCP specification asks clients to try
// (and go-sdk's flow tries).
func AuthServerMetadataURLs(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil
	}
	u.RawQuery, u.Fragment, u.RawPath = "", "", ""
	if u.Path == "" {
		u.Path = "/.well-known/oauth-authorization-server"
		a := u.String()
		u.Path = "/.well-known/openid-configuration"
		return []string{a, u.String()}
	}
	p := u.Path
	u.Path = "/.well-known/oauth-authorization-server/" + strings.TrimLeft(p, "/")
	a := u.String()
	u.Path = "/.well-known/openid-configuration/" + strings.TrimLeft(p, "/")
	b := u.String()
	u.Path = "/" + strings.Trim(p, "/") + "/.well-known/openid-configuration"
	return []string{a, b, u.String()}
}

func (d *Discovery) findAuthServerMetadata(ctx context.Context, c *http.Client) error {
	for _, mu := range AuthServerMetadataURLs(d.Issuer) {
		if err := checkMetadataURL("the authorization-server metadata", mu); err != nil {
			return err
		}
		var asm oauthex.AuthServerMeta
		status, err := getJSON(ctx, c, "the authorization-server metadata", mu, &asm)
		if err != nil {
			d.Tried = append(d.Tried, Attempt{mu, err.Error()})
			return err
		}
		if status >= 400 && status < 500 {
			d.Tried = append(d.Tried, Attempt{mu, fmt.Sprintf("HTTP %d", status)})
			continue
		}
		d.Tried = append(d.Tried, Attempt{mu, "ok"})
		if !issuersEqual(asm.Issuer, d.Issuer) {
			return errorf(KindIssuerMismatch, nil, "the authorization-server metadata at %s names the issuer %q, but it must be %q (the authorization server listed by the MCP server)", mu, asm.Issuer, d.Issuer)
		}
		if asm.AuthorizationEndpoint == "" || asm.TokenEndpoint == "" {
			return errorf(KindBadMetadata, nil, "the authorization-server metadata at %s lacks an authorization_endpoint or token_endpoint", mu)
		}
		if !slices.Contains(asm.CodeChallengeMethodsSupported, "S256") {
			listed := "it lists none"
			if len(asm.CodeChallengeMethodsSupported) > 0 {
				listed = "it lists " + strings.Join(asm.CodeChallengeMethodsSupported, ", ")
			}
			return errorf(KindNoPKCE, nil, "the authorization server %s does not support PKCE with S256 (code_challenge_methods_supported in %s: %s); atomcp will not log in without it", d.Issuer, mu, listed)
		}
		for _, ep := range []struct{ name, v string }{
			{"authorization_endpoint", asm.AuthorizationEndpoint},
			{"token_endpoint", asm.TokenEndpoint},
			{"registration_endpoint", asm.RegistrationEndpoint},
		} {
			if ep.v == "" {
				continue
			}
			if err := checkEndpointURL(ep.name+" of "+mu, ep.v); err != nil {
				return err
			}
		}
		d.AuthServerMetadataURL = mu
		d.AuthServerMetadata = &asm
		return nil
	}
	// 2025-03-26: default endpoints at the issuer.
	base := d.Issuer
	d.AuthServerMetadata = &oauthex.AuthServerMeta{
		Issuer:                base,
		AuthorizationEndpoint: base + "/authorize",
		TokenEndpoint:         base + "/token",
		RegistrationEndpoint:  base + "/register",
	}
	return nil
}

// issuersEqual compares issuers as go-sdk does: identical, or differing by
// one trailing slash.
func issuersEqual(a, b string) bool {
	return a == b || strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

// getJSON fetches rawURL into v. A 4xx status is returned without error
// (the caller moves on); any other non-200 status, a body that is not JSON,
// or a transport failure is an *Error naming what and where.
func getJSON(ctx context.Context, c *http.Client, what, rawURL string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, errorf(KindOther, err, "%s URL %q is not valid", what, rawURL)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, describeRequestError(what, rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 && resp.StatusCode < 500 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxMetadataBytes))
		return resp.StatusCode, nil
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, errorf(KindHTTPStatus, nil, "%s at %s answered HTTP %d", what, rawURL, resp.StatusCode)
	}
	ct := resp.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if mt != "application/json" {
		kind := "not JSON"
		if mt == "text/html" {
			kind = "an HTML page, not JSON"
		}
		if ct == "" {
			ct = "no Content-Type"
		}
		return resp.StatusCode, errorf(KindNotJSON, nil, "%s at %s is %s (%s)", what, rawURL, kind, ct)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes+1))
	if err != nil {
		return resp.StatusCode, describeRequestError(what, rawURL, err)
	}
	if len(body) > maxMetadataBytes {
		return resp.StatusCode, errorf(KindBadMetadata, nil, "%s at %s is larger than 1 MiB", what, rawURL)
	}
	if err := json.Unmarshal(body, v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return resp.StatusCode, errorf(KindNotJSON, err, "%s at %s is not valid JSON (error at byte %d)", what, rawURL, se.Offset)
		}
		return resp.StatusCode, errorf(KindBadMetadata, err, "%s at %s does not have the expected fields (%v)", what, rawURL, err)
	}
	return resp.StatusCode, nil
}

// checkMetadataURL refuses the URLs go-sdk's flow would refuse, with a
// message that says why and what to do: plain HTTP other than loopback,
// and a literal private or reserved IP address (go-sdk's SSRF check looks
// at the URL, before any HTTP client is involved; a host name that
// resolves to the private network works).
func checkMetadataURL(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errorf(KindBadMetadata, err, "the URL %q of %s is not valid", raw, what)
	}
	host := u.Hostname()
	loop := sdkLoopbackHost(host)
	if u.Scheme != "https" && !loop {
		return errorf(KindPrivateAddress, nil, "%s at %s uses plain HTTP on a host that is not loopback; OAuth needs HTTPS there", what, raw)
	}
	if ip, err := netip.ParseAddr(host); err == nil && !loop && netaddr.IsPrivateOrReserved(ip) {
		return errorf(KindPrivateAddress, nil, "%s at %s is addressed by a private IP address, which go-sdk's OAuth flow refuses; give the server a host name (DNS or /etc/hosts) that resolves to %s and use that in the URL", what, raw, ip)
	}
	return nil
}

// checkEndpointURL refuses endpoint and issuer URLs with dangerous or
// non-HTTPS schemes (loopback aside).
func checkEndpointURL(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errorf(KindBadMetadata, err, "%s is not a valid URL (%q)", what, raw)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && sdkLoopbackHost(u.Hostname())) {
		return errorf(KindBadMetadata, nil, "%s is %q, which is neither HTTPS nor a loopback HTTP URL", what, raw)
	}
	return nil
}

// sdkLoopbackHost is go-sdk's loopback rule (internal/util.IsLoopback),
// which its oauthex package applies to every metadata, authorization-server
// and endpoint URL: exactly "localhost", or a loopback IP literal. It is
// deliberately narrower than netaddr.IsLoopbackHost (no LOCALHOST, no
// app.localhost, no trailing dot): the checks here exist to predict
// go-sdk's refusals with a better message, so accepting more would only
// move the refusal into go-sdk, where it says less.
func sdkLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}
