package doctor

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/atomcp/atomcp/internal/netaddr"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// ClientVerdict is the outcome of one client's replay.
type ClientVerdict struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// Ready: nothing this client meets failed.
	Ready bool `json:"ready"`
	// Registration is how it would get its client ID: "cimd", "dcr" or
	// "" when it cannot.
	Registration string `json:"registration,omitempty"`
	// Failed lists the IDs of the failed findings that stop it.
	Failed []string `json:"failed,omitempty"`
}

// replay is one client's run through the server, without a browser: the
// requests it sends before the user signs in, with its headers and
// parameters. Its findings carry the client's name.
type replay struct {
	r *run
	p ClientProfile

	challenge *challenge
	prm       *prmDoc
	is        *issuer
	method    string   // "cimd" or "dcr"
	scopes    []string // the scope it asks for
	port      int      // its loopback port this run
	id        string   // a connector or callback ID for "{id}"
	clientID  string   // the test registration's client ID
	reg       registrationAnswer
}

// checkClients replays every client of --client against the server.
func (r *run) checkClients(ctx context.Context) {
	for _, p := range r.clients {
		c := &replay{r: r, p: p, port: freePort(), id: randomID()}
		c.run(ctx)
	}
}

func (c *replay) add(f Finding) {
	f.Client = c.p.Name
	if f.Area == "" {
		f.Area = AreaClient
	}
	c.r.add(f)
}

func (c *replay) skip(id, why string) { c.add(skip(id, AreaClient, why)) }

// run takes the client's steps in its order; each step needs the one
// before.
func (c *replay) run(ctx context.Context) {
	needsAuth := c.initialize(ctx)
	if !needsAuth {
		return
	}
	c.checkAccept(ctx)
	if !c.discoverPRM(ctx) || !c.discoverAS(ctx) {
		return
	}
	c.checkSupport()
	if c.register(ctx) {
		if c.authorize(ctx, IDClientAuthorize, c.expand(c.p.AuthorizeRedirect)) != Pass && c.p.NewPortEachRun {
			c.skip(IDClientRedirectPort, "not tried: the authorization request fails from the registered port already")
		} else if c.p.NewPortEachRun {
			c.authorizeOtherPort(ctx)
		}
		c.tokenRequest(ctx)
		if c.reg.RegistrationClientURI != "" {
			_ = c.r.deleteClient(ctx, c.reg)
		}
	}
	if c.p.Browser {
		c.checkBrowser(ctx)
	}
}

// expand fills in "{port}" and "{id}" of a redirect URI.
func (c *replay) expand(s string) string {
	return strings.NewReplacer("{port}", strconv.Itoa(c.port), "{id}", c.id).Replace(s)
}

// initializeBody is the client's first request.
func (c *replay) initializeBody() []byte {
	b, _ := json.Marshal(map[string]any{
		"jsonrpc": "2.0", "id": 0, "method": "initialize",
		"params": map[string]any{
			"protocolVersion": c.p.ProtocolVersion,
			"capabilities":    map[string]any{},
			"clientInfo":      map[string]any{"name": c.p.ClientName + " (replayed by atomcp doctor)", "version": c.r.opts.Version},
		},
	})
	return b
}

func (c *replay) mcpHeader() http.Header {
	return http.Header{"Content-Type": {"application/json"}, "Accept": {c.p.Accept}}
}

// initialize sends the client's initialize without a token and checks
// for the 401 that starts OAuth. It reports whether OAuth follows.
func (c *replay) initialize(ctx context.Context) bool {
	f := Finding{ID: IDClientInitialize}
	p, err := c.r.do(ctx, request{Method: http.MethodPost, URL: c.r.mcp.String(), Header: c.mcpHeader(), Body: c.initializeBody()})
	if err != nil {
		f.Status, f.Title = Fail, "the initialize request failed: "+c.r.describe(err)
		f.Observed = &Observed{Method: http.MethodPost, URL: c.r.mcp.String()}
		f.Fix = "The server answers doctor's own request but not this one; compare with atomcp doctor -v."
		c.add(f)
		return false
	}
	switch {
	case p.Status == http.StatusUnauthorized:
		hf, ch := checkChallengeHeader(p)
		hf.ID, hf.Area = IDClientInitialize, AreaClient
		if ch != nil {
			hf.Title = fmt.Sprintf("initialize with Accept: %s → 401 with a Bearer challenge", c.p.Accept)
			c.challenge = ch
		}
		c.add(hf)
		return ch != nil
	case p.Status == http.StatusOK:
		f.Status, f.Title = Pass, "initialize is answered without a token: no OAuth to replay"
		c.add(f)
		c.add(c.judgeAccept(p))
		c.r.endSession(ctx, p, "")
		return false
	case acceptRefused(p):
		f = c.acceptFailure(IDClientInitialize, p)
	default:
		f.Status, f.Title = Fail, fmt.Sprintf("initialize without a token is answered %d, not 401", p.Status)
		f.Observed = p.observed("Content-Type", "WWW-Authenticate")
		f.Observed.Detail = snippet(p.Body)
		f.Fix = "Answer a request without a token with 401 and a Bearer challenge (RFC 9728 §5.1); see atomcp doctor URL for the generic checks."
	}
	c.add(f)
	return false
}

// acceptRefused reports whether an answer refuses the request's Accept
// (or Content-Type) header.
func acceptRefused(p *response) bool {
	switch p.Status {
	case http.StatusNotAcceptable, http.StatusUnsupportedMediaType:
		return true
	case http.StatusBadRequest:
		return strings.Contains(strings.ToLower(string(p.Body)), "accept")
	}
	return false
}

func (c *replay) acceptFailure(id string, p *response) Finding {
	f := Finding{ID: id, Status: Fail, Observed: p.observed("Content-Type")}
	f.Observed.Detail = "sent Accept: " + c.p.Accept + "; answer: " + snippet(p.Body)
	f.Title = fmt.Sprintf("HTTP %d to the client's Accept: %s", p.Status, c.p.Accept)
	f.Fix = fmt.Sprintf("%s sends Accept: %s, not both application/json and text/event-stream as the Streamable HTTP transport asks. Accept it and answer in a type it lists (a JSON body for application/json, an event stream for text/event-stream): go-sdk, the Python and the TypeScript SDK refuse it with 400 or 406, so front their handler with a middleware that completes the Accept header and forces the answer's type (atomcp does this for the clients it knows, issue 23).", c.p.Title, c.p.Accept)
	return f
}

// checkAccept sends the client's initialize with the --token: most
// servers check the token before the Accept header, so only then does the
// endpoint's answer to this client's Accept show.
func (c *replay) checkAccept(ctx context.Context) {
	if c.r.opts.Token == "" {
		c.skip(IDClientAccept, fmt.Sprintf("not tried: the endpoint checks Accept after the token; run with --token to replay Accept: %s", c.p.Accept))
		return
	}
	h := c.mcpHeader()
	h.Set("Authorization", "Bearer "+c.r.opts.Token)
	p, err := c.r.do(ctx, request{Method: http.MethodPost, URL: c.r.mcp.String(), Header: h, Body: c.initializeBody()})
	if err != nil {
		c.add(Finding{ID: IDClientAccept, Status: Fail, Title: "the initialize with the token failed: " + c.r.describe(err),
			Observed: &Observed{Method: http.MethodPost, URL: c.r.mcp.String()}, Fix: "Check the server's logs; atomcp doctor URL --token runs the generic checks."})
		return
	}
	switch {
	case p.Status == http.StatusOK:
		c.add(c.judgeAccept(p))
		c.r.endSession(ctx, p, c.r.opts.Token)
	case p.Status == http.StatusUnauthorized || p.Status == http.StatusForbidden:
		c.skip(IDClientAccept, fmt.Sprintf("the token is refused (%d): atomcp doctor URL --token says why", p.Status))
	case acceptRefused(p):
		c.add(c.acceptFailure(IDClientAccept, p))
	default:
		f := Finding{ID: IDClientAccept, Status: Warn, Observed: p.observed("Content-Type")}
		f.Title = fmt.Sprintf("initialize with Accept: %s and the token is answered %d", c.p.Accept, p.Status)
		f.Observed.Detail = snippet(p.Body)
		f.Fix = "A 200 with the initialize result was expected; atomcp doctor URL --token -v shows the exchange."
		c.add(f)
	}
}

// judgeAccept checks that a 200 answer is in a type the client listed.
func (c *replay) judgeAccept(p *response) Finding {
	f := Finding{ID: IDClientAccept}
	mt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
	wants := func(t string) bool { return strings.Contains(c.p.Accept, t) || strings.Contains(c.p.Accept, "*/*") }
	switch {
	case wants(mt):
		f.Status, f.Title = Pass, fmt.Sprintf("initialize with Accept: %s → 200, %s", c.p.Accept, mt)
	case mt == "text/event-stream":
		f.Status, f.Title = Fail, fmt.Sprintf("initialize with Accept: %s is answered with an event stream", c.p.Accept)
		f.Observed = p.observed("Content-Type")
		f.Fix = fmt.Sprintf("%s reads only %s: answer its requests with a JSON body (go-sdk: StreamableHTTPOptions.JSONResponse, or a middleware choosing per request).", c.p.Title, c.p.Accept)
	default:
		f.Status, f.Title = Warn, fmt.Sprintf("initialize with Accept: %s is answered with %q", c.p.Accept, p.Header.Get("Content-Type"))
		f.Observed = p.observed("Content-Type")
		f.Fix = fmt.Sprintf("Answer in a type the client lists (%s); a client may not parse anything else.", c.p.Accept)
	}
	return f
}

// discoverPRM looks for the protected-resource metadata where the client
// looks, in its order, and stops at the first document.
func (c *replay) discoverPRM(ctx context.Context) bool {
	var urls []string
	if c.challenge != nil && c.challenge.resourceMetadata != "" {
		if u, err := url.Parse(c.challenge.resourceMetadata); err == nil && u.IsAbs() {
			urls = append(urls, c.challenge.resourceMetadata)
		}
	}
	for _, u := range prmURLs(c.r.mcp) {
		if !contains(urls, u) {
			urls = append(urls, u)
		}
	}
	h := c.metadataHeader()
	var tried []string
	for _, u := range urls {
		var meta oauthex.ProtectedResourceMetadata
		p, _, problem := c.r.getJSON(ctx, u, h, &meta)
		if problem == "" {
			c.prm = &prmDoc{url: p.URL, meta: meta}
			break
		}
		tried = append(tried, u+" → "+problem)
	}
	f := Finding{ID: IDClientPRM}
	if c.prm == nil {
		f.Status, f.Title = Fail, fmt.Sprintf("no protected-resource metadata where %s looks", c.p.Title)
		f.Observed = &Observed{Detail: "tried: " + strings.Join(tried, "; ")}
		f.Fix = "Serve the RFC 9728 document at " + prmURLs(c.r.mcp)[0] + " and name it in the 401's resource_metadata; atomcp doctor URL (prm.fetch) says what is wrong at each place."
		c.add(f)
		return false
	}
	res := c.prm.meta.Resource
	ru, err := url.Parse(res)
	switch {
	case res == "" || err != nil || !ru.IsAbs():
		f.Status, f.Title = Fail, fmt.Sprintf("the document at %s has no usable resource (%q)", c.prm.url, res)
		f.Fix = "Set resource to the MCP URL, " + c.r.mcp.String() + " (RFC 9728 §3)."
	case origin(ru) != origin(c.r.mcp):
		title, fix := resourceMismatch(res, c.r.mcp)
		f.Status, f.Title, f.Fix = Fail, "clients refuse the document: "+title, fix
	case len(c.prm.meta.AuthorizationServers) == 0:
		f.Status, f.Title = Fail, "the document at "+c.prm.url+" names no authorization server"
		f.Fix = "List the issuer in authorization_servers."
	default:
		f.Status, f.Title = Pass, fmt.Sprintf("resource metadata at %s: resource %s, authorization server %s", c.prm.url, res, c.prm.meta.AuthorizationServers[0])
		c.add(f)
		return true
	}
	f.Observed = &Observed{URL: c.prm.url, Detail: "resource: " + res}
	c.add(f)
	return false
}

// metadataHeader is what the client adds to discovery fetches.
func (c *replay) metadataHeader() http.Header {
	if !c.p.VersionOnMetadata {
		return nil
	}
	return http.Header{"MCP-Protocol-Version": {c.p.ProtocolVersion}}
}

// discoverAS fetches the first authorization server's metadata, as
// clients use the first one listed.
func (c *replay) discoverAS(ctx context.Context) bool {
	iss := c.prm.meta.AuthorizationServers[0]
	f, meta, metaURL := c.r.discover(ctx, IDClientASMetadata, AreaClient, iss)
	c.add(f)
	if meta == nil {
		return false
	}
	c.is = &issuer{url: iss, meta: meta, metaURL: metaURL}
	return true
}

// checkSupport checks that the authorization server offers what the
// client needs: PKCE, its way of registering, its scopes and refreshing.
func (c *replay) checkSupport() {
	m := c.is.meta
	pf := checkPKCE(c.is)
	pf.ID, pf.Area = IDClientPKCE, AreaClient
	c.add(pf)

	f := Finding{ID: IDClientRegistration}
	cimd := c.p.CIMD && m.ClientIDMetadataDocumentSupported
	noNone := c.p.CIMDNeedsNone && !slices.Contains(m.TokenEndpointAuthMethodsSupported, "none")
	switch {
	case cimd && !noNone:
		c.method = "cimd"
		f.Status, f.Title = Pass, "registers with a Client ID Metadata Document"
		if c.p.CIMDClientID != "" {
			f.Title += " (client_id " + c.p.CIMDClientID + ")"
		}
	case m.RegistrationEndpoint != "":
		c.method = "dcr"
		f.Status, f.Title = Pass, "registers with Dynamic Client Registration at "+m.RegistrationEndpoint
		if cimd && noNone {
			f.Title += ` (CIMD is advertised, but without "none" in token_endpoint_auth_methods_supported this client does not use it)`
		}
	default:
		f.Status = Fail
		f.Observed = &Observed{URL: c.is.metaURL, Detail: fmt.Sprintf("client_id_metadata_document_supported: %t; registration_endpoint: none; token_endpoint_auth_methods_supported: %v", m.ClientIDMetadataDocumentSupported, m.TokenEndpointAuthMethodsSupported)}
		switch {
		case cimd && noNone:
			f.Title = `CIMD is advertised without "none" in token_endpoint_auth_methods_supported, and there is no registration endpoint`
			f.Fix = fmt.Sprintf(`%s uses CIMD only when the server lists "none" (public clients) in token_endpoint_auth_methods_supported; add it, or enable Dynamic Client Registration.`, c.p.Title)
		case c.p.CIMD:
			f.Title = "neither CIMD nor a registration endpoint: the client cannot get a client ID"
			f.Fix = "Enable Client ID Metadata Documents or Dynamic Client Registration at the authorization server, or give the user a pre-registered client ID to enter."
		default:
			f.Title = "no registration endpoint, and this client does not use CIMD"
			f.Fix = fmt.Sprintf("%s registers with Dynamic Client Registration (RFC 7591) only: enable it at the authorization server (CIMD alone is not enough for this client), or give the user a pre-registered client ID.", c.p.Title)
		}
	}
	c.add(f)

	c.scopes = nil
	switch {
	case c.challenge != nil && len(c.challenge.scopes) > 0:
		c.scopes = slices.Clone(c.challenge.scopes)
	case len(c.prm.meta.ScopesSupported) > 0:
		c.scopes = slices.Clone(c.prm.meta.ScopesSupported)
	}
	advertised := slices.Contains(m.ScopesSupported, "offline_access")
	if (c.p.Offline == OfflineAlways || (c.p.Offline == OfflineIfAdvertised && advertised)) && !slices.Contains(c.scopes, "offline_access") {
		c.scopes = append(c.scopes, "offline_access")
	}
	sf := Finding{ID: IDClientScopes, Status: Pass}
	switch {
	case len(c.scopes) == 0:
		sf.Title = "asks for no scope (neither the challenge nor the resource metadata names one)"
	default:
		sf.Title = fmt.Sprintf("asks for scope %q", strings.Join(c.scopes, " "))
	}
	if c.p.Offline == OfflineIfAdvertised && !advertised {
		sf.Title += "; no offline_access, as the authorization server does not advertise it"
	}
	var unlisted []string
	for _, s := range c.scopes {
		if len(m.ScopesSupported) > 0 && !slices.Contains(m.ScopesSupported, s) {
			unlisted = append(unlisted, s)
		}
	}
	if len(unlisted) > 0 {
		sf.Status = Warn
		sf.Observed = &Observed{URL: c.is.metaURL, Detail: "scopes_supported: " + strings.Join(m.ScopesSupported, " ")}
		sf.Title += fmt.Sprintf("; the authorization server does not list %s", strings.Join(unlisted, ", "))
		sf.Fix = "Authorization servers often refuse scopes they do not know with invalid_scope; list them in scopes_supported and accept them (the authorization probe, with --register, shows whether they are refused)."
	}
	c.add(sf)

	rf := Finding{ID: IDClientRefresh, Status: Pass, Title: "the refresh_token grant is offered"}
	if len(m.GrantTypesSupported) == 0 {
		rf.Title = "grant_types_supported is not listed (RFC 8414's default: authorization_code and implicit); the client tries refresh_token anyway"
	} else if !slices.Contains(m.GrantTypesSupported, "refresh_token") {
		rf.Status = Warn
		rf.Title = "grant_types_supported lacks refresh_token: the user signs in again whenever the access token expires"
		rf.Observed = &Observed{URL: c.is.metaURL, Detail: "grant_types_supported: " + strings.Join(m.GrantTypesSupported, ", ")}
		rf.Fix = "Offer the refresh_token grant (and, for OpenID providers, offline_access) so that MCP clients stay signed in."
	}
	c.add(rf)
}

// register makes the client's registration with its exact metadata, with
// --register. A CIMD client is replayed with a DCR stand-in carrying the
// same metadata: the server would fetch its real document only when a
// person signs in. It reports whether a client ID to probe with exists.
func (c *replay) register(ctx context.Context) bool {
	m := c.is.meta
	switch {
	case c.method == "":
		return false
	case !c.r.opts.Register:
		c.skip(IDClientRegister, "not tried: run with --register to register "+c.p.Title+"'s metadata and probe the authorization and token requests")
		return false
	case m.RegistrationEndpoint == "":
		c.skip(IDClientRegister, "CIMD only and no registration endpoint: the authorization request needs the client's own document, which the server fetches when a person signs in; not replayed")
		return false
	}
	redirects := make([]string, len(c.p.RedirectURIs))
	for i, u := range c.p.RedirectURIs {
		redirects[i] = c.expand(u)
	}
	md := map[string]any{
		"redirect_uris":              redirects,
		"token_endpoint_auth_method": c.p.AuthMethod,
		"grant_types":                c.p.GrantTypes,
		"response_types":             []string{"code"},
		"client_name":                c.p.ClientName + " (atomcp doctor replay, safe to delete)",
	}
	if c.p.ApplicationType != "" {
		md["application_type"] = c.p.ApplicationType
	}
	body, _ := json.Marshal(md)
	h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	if c.p.Browser {
		h.Set("Origin", c.p.Origin)
	}
	f := Finding{ID: IDClientRegister}
	p, err := c.r.do(ctx, request{Method: http.MethodPost, URL: m.RegistrationEndpoint, Header: h, Body: body, HideBody: true})
	if err != nil {
		f.Status, f.Title = Fail, "the registration request failed: "+c.r.describe(err)
		f.Observed = &Observed{Method: http.MethodPost, URL: m.RegistrationEndpoint}
		f.Fix = "Check that the registration endpoint is reachable."
		c.add(f)
		return false
	}
	f.Observed = p.observed("Content-Type")
	f.Observed.Detail = "redirect_uris: " + strings.Join(redirects, ", ")
	var ans oauthex.ClientRegistrationResponse
	if (p.Status == http.StatusCreated || p.Status == http.StatusOK) && json.Unmarshal(p.Body, &ans) == nil && ans.ClientID != "" {
		_ = json.Unmarshal(p.Body, &c.reg)
		c.clientID = ans.ClientID
		f.Status, f.Title, f.Observed = Pass, fmt.Sprintf("registered with its redirect URIs (%s)", strings.Join(redirects, ", ")), nil
		if c.method == "cimd" {
			f.Title = "CIMD stand-in: " + f.Title
		}
		c.add(f)
		if c.p.Browser {
			c.add(c.browserAllowed("registration endpoint", p))
		}
		return true
	}
	var e oauthex.ClientRegistrationError
	_ = json.Unmarshal(p.Body, &e)
	f.Status = Fail
	f.Title = fmt.Sprintf("registration refused (HTTP %d)", p.Status)
	if e.ErrorCode != "" {
		f.Title += ": " + e.ErrorCode
		if e.ErrorDescription != "" {
			f.Title += ": " + e.ErrorDescription
		}
	} else {
		f.Observed.Detail += "; answer: " + snippet(p.Body)
	}
	f.Fix = redirectPolicyFix(c.p.Title, redirects)
	c.add(f)
	return false
}

// redirectPolicyFix says which redirect URIs a client registers and what
// the server must allow for them.
func redirectPolicyFix(title string, redirects []string) string {
	var kinds []string
	for _, raw := range redirects {
		u, err := url.Parse(raw)
		switch {
		case err != nil:
		case u.Scheme == "http" && netaddr.IsLoopbackHost(u.Hostname()):
			kinds = append(kinds, raw+" (loopback: allow any port, RFC 8252 §7.3)")
		case u.Scheme == "https":
			kinds = append(kinds, raw+" (an https callback on the client's own host)")
		default:
			kinds = append(kinds, raw+" (a private-use scheme of a native app, RFC 8252 §7.1; PKCE binds the code to the app)")
		}
	}
	return fmt.Sprintf("%s registers %s. Allow each kind at the registration endpoint (a registration is refused as a whole when one URI is refused); if only some are wanted, say which in the error so that users can tell.", title, strings.Join(kinds, ", "))
}

// resourceValues are the resource parameters the client sends.
func (c *replay) resourceValues() []string {
	res := c.prm.meta.Resource
	switch c.p.Resource {
	case ResourceNone:
		return nil
	case ResourceTwice:
		return []string{res, res}
	case ResourceURL:
		u := *c.r.mcp
		if u.Path == "" {
			u.Path = "/"
		}
		return []string{u.String()}
	}
	return []string{res}
}

// authorize sends the client's authorization request and looks at the
// answer without following it: a sign-in page (or a redirect to one)
// means the request was accepted; an error page or an error sent to the
// redirect URI names what the server refuses. It returns the finding's
// status.
func (c *replay) authorize(ctx context.Context, id, redirect string) Status {
	verifier := randomID() + randomID() + randomID()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {c.clientID},
		"redirect_uri":          {redirect},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
		"state":                 {randomID()},
	}
	if len(c.scopes) > 0 {
		q.Set("scope", strings.Join(c.scopes, " "))
	}
	if c.p.PromptConsent && slices.Contains(c.scopes, "offline_access") {
		q.Set("prompt", "consent")
	}
	for _, v := range c.resourceValues() {
		q.Add("resource", v)
	}
	au, err := url.Parse(c.is.meta.AuthorizationEndpoint)
	f := Finding{ID: id}
	if err != nil {
		f.Status, f.Title, f.Fix = Fail, "the authorization endpoint is not a URL", "Fix authorization_endpoint in the metadata."
		c.add(f)
		return f.Status
	}
	if au.RawQuery != "" {
		for k, vs := range au.Query() {
			for _, v := range vs {
				q.Add(k, v)
			}
		}
	}
	au.RawQuery = q.Encode()
	sent := fmt.Sprintf("redirect_uri %s; scope %q; resource ×%d", redirect, q.Get("scope"), len(q["resource"]))
	p, err := c.r.do(ctx, request{Method: http.MethodGet, URL: au.String(), Header: http.Header{"Accept": {"text/html"}}})
	if err != nil {
		f.Status, f.Title = Fail, "the authorization request failed: "+c.r.describe(err)
		f.Observed = &Observed{Method: http.MethodGet, URL: c.is.meta.AuthorizationEndpoint}
		f.Fix = "Check that the authorization endpoint is reachable from the user's browser."
		c.add(f)
		return f.Status
	}
	f.Observed = &Observed{Method: http.MethodGet, URL: c.is.meta.AuthorizationEndpoint, Status: p.Status, Detail: sent}
	loc := p.Header.Get("Location")
	switch {
	case isRedirect(p.Status) && loc != "":
		lu, err := url.Parse(loc)
		if err == nil {
			lu = au.ResolveReference(lu)
		}
		back := err == nil && sameEndpoint(lu, redirect)
		switch {
		case back && lu.Query().Get("error") != "":
			code, desc := lu.Query().Get("error"), lu.Query().Get("error_description")
			f.Status, f.Title = Fail, fmt.Sprintf("the authorization request is refused: %s: %s", code, desc)
			f.Fix = c.authorizeFix(code, desc)
		case back:
			f.Status, f.Title, f.Observed = Pass, "the authorization request is accepted (the server answered the redirect URI at once)", nil
		default:
			shown := loc
			if err == nil {
				shown = lu.Scheme + "://" + lu.Host + lu.Path
			}
			f.Status, f.Title, f.Observed = Pass, "the authorization request is accepted: it redirects to sign-in at "+shown, nil
		}
	case p.Status == http.StatusOK:
		f.Status, f.Title, f.Observed = Pass, "the authorization request is accepted: the server shows its sign-in page", nil
	default:
		text := pageText(p.Body)
		f.Status, f.Title = Fail, fmt.Sprintf("the authorization request is refused with HTTP %d", p.Status)
		if text != "" {
			f.Title += ": " + text
		}
		code := ""
		for _, k := range []string{"invalid_scope", "invalid_target", "invalid_client", "redirect", "resource", "scope"} {
			if strings.Contains(strings.ToLower(text), k) {
				code = k
				break
			}
		}
		f.Fix = c.authorizeFix(code, text)
	}
	c.add(f)
	return f.Status
}

// authorizeFix explains a refused authorization request.
func (c *replay) authorizeFix(code, desc string) string {
	d := strings.ToLower(desc)
	offline := slices.Contains(c.scopes, "offline_access")
	switch {
	case (code == "invalid_scope" || code == "scope") && offline:
		return fmt.Sprintf("%s asks for offline_access (for a refresh token, as the MCP authorization spec allows; SEP-2207) because the authorization server advertises it. Accept offline_access at the authorization endpoint whenever it is in scopes_supported (atomcp: issue 23), or stop advertising it.", c.p.Title)
	case code == "invalid_scope" || code == "scope":
		return fmt.Sprintf("%s asks for %q, taken from the 401's scope or the resource metadata's scopes_supported: advertise only scopes the authorization server grants.", c.p.Title, strings.Join(c.scopes, " "))
	case code == "invalid_target" || code == "resource" || strings.Contains(d, "resource"):
		switch c.p.Resource {
		case ResourceTwice:
			return "Codex sends the resource parameter twice with the same value when oauth_resource is set in ~/.codex/config.toml (openai/codex#34467). Treat identical repeated resource values as one (RFC 8707 allows several resource parameters; identical ones name one resource) at the authorization and the token endpoint. Users can remove oauth_resource from config.toml meanwhile."
		case ResourceURL:
			return fmt.Sprintf("%s sends resource as the URL the user typed (%s): match resource with or without a trailing slash to the MCP URL.", c.p.Title, strings.Join(c.resourceValues(), ""))
		}
		return fmt.Sprintf("%s sends resource=%s, the resource metadata's resource: accept it (RFC 8707), exactly as the protected-resource document names it.", c.p.Title, strings.Join(c.resourceValues(), ""))
	case code == "invalid_client" || strings.Contains(d, "not known") || strings.Contains(d, "unknown client"):
		return "The client ID just registered is not accepted at the authorization endpoint: registration and authorization must share their client store."
	case code == "redirect" || strings.Contains(d, "redirect"):
		return redirectPolicyFix(c.p.Title, []string{c.expand(c.p.AuthorizeRedirect)})
	}
	return "Read the error with atomcp doctor -v --register --client " + c.p.Name + "; the request is the one this client sends."
}

// authorizeOtherPort sends the authorization request from another
// loopback port than the registered one, as the client does on its next
// run.
func (c *replay) authorizeOtherPort(ctx context.Context) {
	u, err := url.Parse(c.expand(c.p.AuthorizeRedirect))
	if err != nil || u.Scheme != "http" || !netaddr.IsLoopbackHost(u.Hostname()) {
		return
	}
	other := freePort()
	if strconv.Itoa(other) == u.Port() {
		other++
	}
	u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(other))
	before := len(c.r.findings)
	c.authorize(ctx, IDClientRedirectPort, u.String())
	f := &c.r.findings[before]
	if f.Status == Pass {
		f.Title = "another loopback port next run (" + u.Host + "): " + strings.TrimPrefix(f.Title, "the authorization request is ")
	} else if f.Status == Fail {
		f.Title = "another loopback port next run (" + u.Host + "): " + f.Title
		f.Fix = fmt.Sprintf("%s keeps its registration but listens on another port the next time: match loopback redirect URIs (127.0.0.1, [::1], localhost) with any port (RFC 8252 §7.3). ", c.p.Title) + f.Fix
	}
}

// tokenRequest sends the client's token request with a made-up code: a
// server should answer invalid_grant; an answer about resource shows
// that the real exchange would fail too.
func (c *replay) tokenRequest(ctx context.Context) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {"atomcp-doctor-invalid-code"},
		"redirect_uri":  {c.expand(c.p.AuthorizeRedirect)},
		"client_id":     {c.clientID},
		"code_verifier": {randomID() + randomID() + randomID()},
	}
	for _, v := range c.resourceValues() {
		form.Add("resource", v)
	}
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}}
	f := Finding{ID: IDClientToken}
	p, err := c.r.do(ctx, request{Method: http.MethodPost, URL: c.is.meta.TokenEndpoint, Header: h, Body: []byte(form.Encode())})
	if err != nil {
		f.Status, f.Title = Fail, "the token request failed: "+c.r.describe(err)
		f.Observed = &Observed{Method: http.MethodPost, URL: c.is.meta.TokenEndpoint}
		f.Fix = "Check that the token endpoint is reachable."
		c.add(f)
		return
	}
	var e struct {
		Error string `json:"error"`
		Desc  string `json:"error_description"`
	}
	_ = json.Unmarshal(p.Body, &e)
	f.Observed = p.observed("Content-Type")
	f.Observed.Detail = fmt.Sprintf("resource ×%d; answer: %s %s", len(form["resource"]), e.Error, e.Desc)
	d := strings.ToLower(e.Desc)
	switch {
	case e.Error == "invalid_target" || (e.Error == "invalid_request" && strings.Contains(d, "resource")):
		f.Status, f.Title = Fail, fmt.Sprintf("the token request is refused for its resource: %s: %s", e.Error, e.Desc)
		f.Fix = c.authorizeFix("invalid_target", e.Desc)
	case e.Error == "invalid_client" || e.Error == "unauthorized_client":
		f.Status, f.Title = Fail, fmt.Sprintf("the token endpoint refuses the client just registered: %s: %s", e.Error, e.Desc)
		f.Fix = fmt.Sprintf("A public client (token_endpoint_auth_method %q) sends only client_id: the token endpoint must know the client the registration endpoint created.", c.p.AuthMethod)
	case e.Error == "invalid_grant":
		f.Status, f.Title, f.Observed = Pass, "the token request passes up to the made-up code (invalid_grant)", nil
	default:
		f.Status = Warn
		f.Title = fmt.Sprintf("the token request with a made-up code is answered %d %s", p.Status, e.Error)
		f.Fix = "An authorization server answers an unknown code with 400 invalid_grant (RFC 6749 §5.2); read the answer with -v."
	}
	c.add(f)
}

// checkBrowser runs the CORS checks with the client's origin on what its
// page calls: the discovery documents, the registration and the token
// endpoint (and the MCP endpoint, for clients that call it from the
// page).
func (c *replay) checkBrowser(ctx context.Context) {
	if c.prm == nil || c.is == nil {
		return
	}
	o := c.r.opts
	o.Origin = c.p.Origin
	child := &run{opts: o, hc: c.r.hc, transport: c.r.transport, mcp: c.r.mcp, prm: c.prm, issuers: []*issuer{c.is}, needsAuth: true}
	var ts []corsTarget
	for _, t := range child.corsTargets() {
		switch {
		case t.name == "MCP endpoint" && !c.p.BrowserMCP:
		case t.name == "registration endpoint" && c.method != "dcr":
		default:
			ts = append(ts, t)
		}
	}
	child.checkCORSTargets(ctx, ts)
	for _, f := range child.findings {
		c.add(f)
	}
	c.r.mu.Lock()
	c.r.exchanges = append(c.r.exchanges, child.exchanges...)
	c.r.mu.Unlock()
}

// browserAllowed checks the Access-Control-Allow-Origin of a real answer
// a browser client reads.
func (c *replay) browserAllowed(name string, p *response) Finding {
	f := Finding{ID: IDCORSAllowOrigin, Area: AreaCORS}
	v := strings.TrimSpace(p.Header.Get("Access-Control-Allow-Origin"))
	if v == "*" || v == c.p.Origin {
		f.Status, f.Title = Pass, name+": Access-Control-Allow-Origin allows "+c.p.Origin
		return f
	}
	f.Status = Fail
	f.Observed = p.observed("Access-Control-Allow-Origin")
	f.Title = fmt.Sprintf("%s: the answer is hidden from %s's page (Access-Control-Allow-Origin %q)", name, c.p.Origin, v)
	f.Fix = fmt.Sprintf("Send Access-Control-Allow-Origin: %s (or *) on the answers of this endpoint: %s registers from its page.", c.p.Origin, c.p.Title)
	return f
}

// verdicts sums up each replayed client.
func (r *run) verdicts() []ClientVerdict {
	var shared []string
	for _, f := range r.findings {
		if f.Client == "" && f.Status == Fail {
			shared = append(shared, f.ID)
		}
	}
	out := make([]ClientVerdict, 0, len(r.clients))
	for _, p := range r.clients {
		v := ClientVerdict{Name: p.Name, Title: p.Title, Failed: slices.Clone(shared)}
		for _, f := range r.findings {
			if f.Client != p.Name {
				continue
			}
			if f.Status == Fail && !slices.Contains(v.Failed, f.ID) {
				v.Failed = append(v.Failed, f.ID)
			}
			if f.ID == IDClientRegistration && f.Status == Pass {
				v.Registration = "dcr"
				if strings.HasPrefix(f.Title, "registers with a Client ID") {
					v.Registration = "cimd"
				}
			}
		}
		v.Ready = len(v.Failed) == 0
		out = append(out, v)
	}
	return out
}

// sameEndpoint reports whether u is the redirect URI (its query aside).
func sameEndpoint(u *url.URL, redirect string) bool {
	ru, err := url.Parse(redirect)
	return err == nil && strings.EqualFold(u.Scheme, ru.Scheme) && strings.EqualFold(u.Host, ru.Host) && u.Path == ru.Path
}

var tags = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>|<[^>]+>`)

// pageText is the readable text of an error page or body, shortened.
func pageText(b []byte) string {
	s := tags.ReplaceAllString(string(b), " ")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 240 {
		s = s[:240] + "…"
	}
	return s
}

// snippet is the start of a body, for the evidence.
func snippet(b []byte) string { return pageText(b) }

// freePort is a free loopback port, as a client picks one.
func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 33418
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// randomID is 16 random bytes, base64url.
func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
