package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// clockSkew is the leeway for exp, nbf and iat, as atomcp allows.
const clockSkew = 30 * time.Second

// checkToken checks the --token access token, locally as far as it is a
// JWT, and then by using it: initialize and tools/list.
func (r *run) checkToken(ctx context.Context) {
	tok := r.opts.Token
	if tok == "" {
		r.add(skip(IDTokenFormat, AreaToken, "no token given: run with --token to check an access token and call the server with it"))
		return
	}
	f, claims := checkTokenFormat(tok)
	r.add(f)
	if claims != nil {
		is := r.issuerOf(claims)
		r.add(checkSignature(tok, is))
		r.add(r.checkTokenIssuer(claims))
		r.add(r.checkAudience(claims))
		r.add(r.checkExpiry(claims))
		r.add(r.checkScopes(claims))
	}
	f, sess := r.checkInitialize(ctx)
	r.add(f)
	if sess == nil {
		r.add(skip(IDTokenToolsList, AreaToken, "initialize failed, so tools/list was not sent"))
		return
	}
	r.add(r.checkToolsList(ctx, sess))
	r.endSession(ctx, sess.resp, tok)
}

// checkTokenFormat decodes a JWT without verifying it; an opaque token
// can only be checked by using it.
func checkTokenFormat(tok string) (Finding, jwt.MapClaims) {
	f := Finding{ID: IDTokenFormat, Area: AreaToken, Observed: &Observed{Detail: "token " + RedactToken(tok)}}
	switch strings.Count(tok, ".") {
	case 2:
		claims := jwt.MapClaims{}
		t, _, err := jwt.NewParser().ParseUnverified(tok, claims)
		if err != nil {
			f.Status, f.Title = Fail, "the token looks like a JWT but does not decode: "+err.Error()
			f.Fix = "Copy the whole access token (not the ID token, not a refresh token), without quotes or line breaks."
			return f, nil
		}
		f.Status, f.Title = Pass, fmt.Sprintf("a JWT signed with %s", t.Method.Alg())
		if kid, _ := t.Header["kid"].(string); kid != "" {
			f.Title += " (kid " + kid + ")"
		}
		return f, claims
	case 4:
		f.Status, f.Title = Warn, "an encrypted token (JWE): only its issuer can read it"
		f.Fix = "atomcp and most resource servers need signed (JWS) access tokens: configure the identity provider to issue signed, not encrypted, access tokens for this resource."
		return f, nil
	}
	f.Status, f.Title = Pass, "an opaque token (not a JWT): only the server can check it, which the calls below do"
	return f, nil
}

// issuerOf returns the advertised authorization server that issued the
// token, by its iss claim.
func (r *run) issuerOf(claims jwt.MapClaims) *issuer {
	iss, _ := claims.GetIssuer()
	for _, is := range r.issuers {
		if is.url == iss || (is.meta != nil && is.meta.Issuer == iss) {
			return is
		}
	}
	return nil
}

// checkSignature verifies the token with its issuer's published keys.
func checkSignature(tok string, is *issuer) Finding {
	f := Finding{ID: IDTokenSignature, Area: AreaToken}
	if is == nil {
		f.Status, f.Title = Skip, "not verified: the token's issuer is not an authorization server this resource names"
		return f
	}
	if len(is.keys) == 0 {
		f.Status, f.Title = Skip, "not verified: no usable keys from "+is.url
		return f
	}
	var kid string
	keyfunc := func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		var set jwt.VerificationKeySet
		for _, k := range is.keys {
			if kid == "" || k.kid == kid {
				set.Keys = append(set.Keys, k.key)
			}
		}
		if len(set.Keys) == 0 {
			return nil, fmt.Errorf("no key with kid %q in the JWKS", kid)
		}
		return set, nil
	}
	_, err := jwt.NewParser(jwt.WithValidMethods(asymmetricAlgs), jwt.WithoutClaimsValidation()).Parse(tok, keyfunc)
	if err == nil {
		f.Status, f.Title = Pass, "the signature verifies with "+is.meta.JWKSURI
		return f
	}
	f.Status, f.Title = Fail, "the signature does not verify: "+err.Error()
	f.Observed = &Observed{URL: is.meta.JWKSURI}
	f.Fix = "The token was signed by another key set than the one its issuer publishes: a token from another environment (WorkOS staging vs production, another tenant), a key rotated away, or a token altered in copying. Get a fresh token from " + is.url + "."
	return f
}

// checkTokenIssuer checks iss against the advertised issuers.
func (r *run) checkTokenIssuer(claims jwt.MapClaims) Finding {
	f := Finding{ID: IDTokenIssuer, Area: AreaToken}
	iss, _ := claims.GetIssuer()
	var known []string
	for _, is := range r.issuers {
		known = append(known, is.url)
	}
	switch {
	case len(known) == 0:
		f.Status, f.Title = Skip, "not compared: the server names no authorization server"
	case iss == "":
		f.Status, f.Title = Fail, "the token has no iss claim"
		f.Fix = "Resource servers accept only tokens that name their issuer; get an access token (not another kind of token) from " + known[0] + "."
	case r.issuerOf(claims) != nil:
		f.Status, f.Title = Pass, "issued by "+iss
	default:
		f.Status, f.Title = Fail, fmt.Sprintf("issued by %s, not by the server's authorization server (%s)", iss, strings.Join(known, ", "))
		f.Observed = &Observed{Detail: "iss: " + iss}
		f.Fix = "Get the token from " + known[0] + ", or configure the server for this issuer (atomcp: ATOMCP_AUTHKIT_DOMAIN or ATOMCP_OIDC_ISSUER, written exactly as the token's iss, trailing slash included)."
	}
	return f
}

// checkAudience checks aud against the MCP URL (RFC 8707): a token for
// another audience is the resource-indicator mistake.
func (r *run) checkAudience(claims jwt.MapClaims) Finding {
	f := Finding{ID: IDTokenAudience, Area: AreaToken}
	want := r.mcp.String()
	aud, _ := claims.GetAudience()
	if oauthex.MatchesResource(aud, want) {
		f.Status, f.Title = Pass, "audience is the MCP URL"
		return f
	}
	f.Status = Fail
	f.Observed = &Observed{Detail: fmt.Sprintf("aud: %q; this server: %s", []string(aud), want)}
	if len(aud) == 0 {
		f.Title = "the token has no audience (aud)"
	} else {
		f.Title = fmt.Sprintf("the token's audience is %s, not this server (%s)", strings.Join(aud, ", "), want)
	}
	f.Fix = audienceFix(want, r.issuers)
	return f
}

// audienceFix says how to get tokens for the MCP URL.
func audienceFix(want string, issuers []*issuer) string {
	fix := "Tokens must be issued for this server: clients ask with resource=" + want + " (RFC 8707), and the identity provider must know that resource indicator and put it into aud. "
	authkit := false
	for _, is := range issuers {
		authkit = authkit || isAuthKit(is.url)
	}
	if authkit {
		fix += "WorkOS AuthKit: in the dashboard open Connect → Configuration and add " + want + " under MCP resource indicators, exactly as clients use it. "
	} else {
		fix += "Auth0: an API whose identifier is " + want + "; Keycloak: an audience mapper with this URL; Okta: the authorization server's audience. "
	}
	return fix + "Or, if the provider cannot put the URL into aud, make atomcp accept its fixed audience with ATOMCP_AUTH_AUDIENCE."
}

// checkExpiry checks exp, nbf and iat.
func (r *run) checkExpiry(claims jwt.MapClaims) Finding {
	f := Finding{ID: IDTokenExpiry, Area: AreaToken}
	now := r.opts.Now()
	exp, err := claims.GetExpirationTime()
	switch {
	case err != nil || exp == nil:
		f.Status, f.Title = Fail, "the token has no expiry (exp)"
		f.Fix = "atomcp refuses access tokens without exp; the identity provider must set it."
		return f
	case exp.Add(clockSkew).Before(now):
		f.Status, f.Title = Fail, fmt.Sprintf("the token expired %s ago (%s)", humanDuration(now.Sub(exp.Time)), exp.UTC().Format(time.RFC3339))
		f.Fix = "Get a fresh token: clients refresh on their own, but a token copied by hand expires. If fresh tokens look expired, check the clock of the machine that runs the server."
		return f
	}
	if nbf, _ := claims.GetNotBefore(); nbf != nil && nbf.After(now.Add(clockSkew)) {
		f.Status, f.Title = Fail, "the token is not valid yet (nbf "+nbf.UTC().Format(time.RFC3339)+")"
		f.Fix = "The clocks of the identity provider and this machine disagree: synchronise them (NTP)."
		return f
	}
	if iat, _ := claims.GetIssuedAt(); iat != nil && iat.After(now.Add(clockSkew)) {
		f.Status, f.Title = Fail, "the token was issued in the future (iat "+iat.UTC().Format(time.RFC3339)+")"
		f.Fix = "The clocks of the identity provider and this machine disagree: synchronise them (NTP)."
		return f
	}
	f.Status, f.Title = Pass, fmt.Sprintf("valid for %s more", humanDuration(exp.Sub(now)))
	return f
}

// tokenScopes returns the scopes of a token's scope or scp claim.
func tokenScopes(claims jwt.MapClaims) []string {
	switch v := claims["scope"].(type) {
	case string:
		return strings.Fields(v)
	}
	switch v := claims["scp"].(type) {
	case string:
		return strings.Fields(v)
	case []any:
		var out []string
		for _, s := range v {
			if str, ok := s.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

// requiredScopes are the scopes the server asks for: those of the
// challenge and, with --config, ATOMCP_REQUIRED_SCOPES.
func (r *run) requiredScopes() []string {
	var req []string
	if r.challenge != nil {
		req = append(req, r.challenge.scopes...)
	}
	if r.cfg != nil {
		for _, s := range r.cfg.RequiredScopes {
			if !slices.Contains(req, s) {
				req = append(req, s)
			}
		}
	}
	return req
}

// checkScopes compares the token's scopes with the required ones.
func (r *run) checkScopes(claims jwt.MapClaims) Finding {
	f := Finding{ID: IDTokenScopes, Area: AreaToken}
	have := tokenScopes(claims)
	r.tokenScopes, r.tokenScopesKnown = have, true
	req := r.requiredScopes()
	var missing []string
	for _, s := range req {
		if !slices.Contains(have, s) {
			missing = append(missing, s)
		}
	}
	switch {
	case len(req) == 0:
		f.Status, f.Title = Pass, "the server names no required scope; the token has: "+orNone(have)
	case len(missing) == 0:
		f.Status, f.Title = Pass, "the token has the required scopes: "+strings.Join(req, " ")
	default:
		f.Status, f.Title = Fail, "the token lacks the scope(s) "+strings.Join(missing, " ")
		f.Observed = &Observed{Detail: "token scopes: " + orNone(have) + "; required: " + strings.Join(req, " ")}
		f.Fix = "Ask for these scopes when logging in (clients take them from the challenge's scope), and make sure the identity provider puts them into the access token's scope claim — many leave OpenID scopes (openid, profile, email) out of access tokens. Otherwise stop requiring them (atomcp: ATOMCP_REQUIRED_SCOPES)."
	}
	return f
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, " ")
}

// session is an initialized MCP session.
type session struct {
	resp    *response
	id      string
	version string
}

// rpcAnswer is a JSON-RPC response.
type rpcAnswer struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// checkInitialize initializes a session with the token.
func (r *run) checkInitialize(ctx context.Context) (Finding, *session) {
	f := Finding{ID: IDTokenInitialize, Area: AreaToken}
	h := mcpHeader()
	h.Set("Authorization", "Bearer "+r.opts.Token)
	p, err := r.do(ctx, request{Method: http.MethodPost, URL: r.mcp.String(), Header: h, Body: r.initializeBody()})
	if err != nil {
		f.Status, f.Title = Fail, "initialize failed: "+r.describe(err)
		f.Observed = &Observed{Method: http.MethodPost, URL: r.mcp.String()}
		f.Fix = "The server did not answer an authenticated request; see its log."
		return f, nil
	}
	f.Observed = p.observed("WWW-Authenticate", "Content-Type")
	switch p.Status {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		f.Status = Fail
		desc, code, scope := challengeError(p)
		f.Title = fmt.Sprintf("the server refuses the token (%d %s)", p.Status, code)
		if desc != "" {
			f.Title += ": " + desc
		}
		switch {
		case p.Status == http.StatusForbidden || code == "insufficient_scope":
			f.Fix = "The token lacks scopes the server requires (" + scope + "): log in again asking for them; if the identity provider never puts them into access tokens, stop requiring them (atomcp: ATOMCP_REQUIRED_SCOPES, ATOMCP_SCOPE_READ/WRITE)."
		case strings.Contains(desc, "audience"):
			f.Fix = audienceFix(r.mcp.String(), r.issuers)
		case strings.Contains(desc, "expired"):
			f.Fix = "Get a fresh token."
		default:
			f.Fix = "Read the error description above; the token checks above say which claim is wrong. A token from another issuer or environment, or a signing key the server cannot fetch, gives this too."
		}
		return f, nil
	default:
		f.Status, f.Title = Fail, fmt.Sprintf("initialize answered HTTP %d", p.Status)
		f.Observed.Detail = strings.TrimSpace(string(p.Body[:min(len(p.Body), 300)]))
		f.Fix = "With a valid token the MCP endpoint should answer 200; see the server's log."
		return f, nil
	}
	var a rpcAnswer
	if err := json.Unmarshal(p.Body, &a); err != nil || (a.Result == nil && a.Error == nil) {
		f.Status, f.Title = Fail, "initialize answered 200 without a JSON-RPC response"
		f.Fix = "The endpoint must answer with application/json or text/event-stream carrying the JSON-RPC response."
		return f, nil
	}
	if a.Error != nil {
		f.Status, f.Title = Fail, fmt.Sprintf("initialize failed: JSON-RPC error %d: %s", a.Error.Code, a.Error.Message)
		f.Fix = "The server refused the initialize request; see its log."
		return f, nil
	}
	var res struct {
		ProtocolVersion string `json:"protocolVersion"`
		ServerInfo      struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"serverInfo"`
	}
	_ = json.Unmarshal(a.Result, &res)
	f.Status, f.Title, f.Observed = Pass, fmt.Sprintf("initialize: %s %s, protocol %s", res.ServerInfo.Name, res.ServerInfo.Version, res.ProtocolVersion), nil
	v := res.ProtocolVersion
	if v == "" {
		v = protocolVersion
	}
	return f, &session{resp: p, id: p.Header.Get("Mcp-Session-Id"), version: v}
}

// challengeError reads error, error_description and scope of a refusal.
func challengeError(p *response) (desc, code, scope string) {
	chs, _ := oauthex.ParseWWWAuthenticate(p.Header.Values("WWW-Authenticate"))
	for _, c := range chs {
		if c.Scheme == "bearer" {
			return c.Params["error_description"], c.Params["error"], c.Params["scope"]
		}
	}
	return "", "", ""
}

// checkToolsList completes the handshake and lists the tools.
func (r *run) checkToolsList(ctx context.Context, s *session) Finding {
	f := Finding{ID: IDTokenToolsList, Area: AreaToken}
	h := mcpHeader()
	h.Set("Authorization", "Bearer "+r.opts.Token)
	h.Set("MCP-Protocol-Version", s.version)
	if s.id != "" {
		h.Set("Mcp-Session-Id", s.id)
	}
	_, _ = r.do(ctx, request{Method: http.MethodPost, URL: r.mcp.String(), Header: h, Body: []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)})
	p, err := r.do(ctx, request{Method: http.MethodPost, URL: r.mcp.String(), Header: h, Body: []byte(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)})
	if err != nil {
		f.Status, f.Title = Fail, "tools/list failed: "+r.describe(err)
		f.Fix = "See the server's log."
		return f
	}
	var a rpcAnswer
	if p.Status != http.StatusOK || json.Unmarshal(p.Body, &a) != nil || a.Result == nil {
		f.Status, f.Title = Fail, fmt.Sprintf("tools/list answered HTTP %d without a result", p.Status)
		f.Observed = p.observed("Content-Type", "WWW-Authenticate")
		f.Observed.Detail = strings.TrimSpace(string(p.Body[:min(len(p.Body), 300)]))
		if a.Error != nil {
			f.Title = fmt.Sprintf("tools/list failed: JSON-RPC error %d: %s", a.Error.Code, a.Error.Message)
		}
		f.Fix = "The session was initialized but the next request failed: a load balancer that sends requests of one session to different replicas causes this (use sticky sessions, or atomcp's ATOMCP_STATELESS=true), as does a proxy that drops the Mcp-Session-Id header."
		return f
	}
	var res struct {
		Tools []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	_ = json.Unmarshal(a.Result, &res)
	names := make([]string, 0, len(res.Tools))
	for _, t := range res.Tools {
		names = append(names, t.Name)
	}
	f.Status, f.Title = Pass, fmt.Sprintf("tools/list: %d tools", len(names))
	if len(names) > 0 {
		shown := names[:min(len(names), 6)]
		f.Title += " (" + strings.Join(shown, ", ")
		if len(names) > len(shown) {
			f.Title += ", …"
		}
		f.Title += ")"
	}
	return f
}

// humanDuration is a duration as people say it.
func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	case d >= time.Minute:
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}
