package doctor

import (
	"fmt"
	"slices"
	"strings"
)

// ClientProfile is what one MCP client is known to send and expect, as
// data: `doctor --client NAME` replays it (replay.go) against any server.
//
// Each fact in the table below names its public source in a comment;
// "assumed" marks what no public source confirmed and is the behaviour of
// the SDK the client is built on or of the MCP authorization spec
// (2025-11-25). Clients change: when a user report contradicts a fact,
// change the fact and its source here.
type ClientProfile struct {
	// Name is the --client value; Title how it is shown.
	Name  string
	Title string

	// Accept is the Accept header of its POSTs to the MCP endpoint.
	Accept string
	// ProtocolVersion is the MCP revision of its initialize request.
	ProtocolVersion string
	// VersionOnMetadata: it sends MCP-Protocol-Version with discovery
	// fetches (the TypeScript SDK does, and retries without on failure).
	VersionOnMetadata bool

	// Discovery. Every profiled client uses the challenge's
	// resource_metadata first, then the path-suffixed and the root
	// well-known URL (RFC 9728 §3.1, prmURLs), and the authorization
	// server's metadata in the spec's order (RFC 8414 with path insertion,
	// then OpenID Connect Discovery; asMetadataURLs). A client that
	// differs gets a field here.

	// Registration: CIMD is used when the authorization server advertises
	// client_id_metadata_document_supported (and, with CIMDNeedsNone,
	// "none" among token_endpoint_auth_methods_supported); otherwise DCR
	// at registration_endpoint. CIMDClientID is the document's URL, ""
	// when the client uses CIMD but its URL is not public.
	CIMD          bool
	CIMDNeedsNone bool
	CIMDClientID  string

	// Registration metadata (RFC 7591) sent with DCR, or held in its CIMD
	// document. "{port}" in a redirect URI is a free loopback port chosen
	// at run time.
	RedirectURIs    []string
	ApplicationType string // "" when it sends none
	ClientName      string
	GrantTypes      []string
	AuthMethod      string // token_endpoint_auth_method

	// AuthorizeRedirect is the redirect_uri of its authorization request
	// (one of RedirectURIs, "{port}" the same port as registered).
	AuthorizeRedirect string
	// NewPortEachRun: a loopback client that keeps its registration but
	// listens on another port next time; the authorization server must
	// accept any port on a loopback redirect URI (RFC 8252 §7.3).
	NewPortEachRun bool

	// Scopes: the challenge's scope, else the resource metadata's
	// scopes_supported (the MCP spec's scope selection), plus offline_access
	// as Offline says; PromptConsent adds prompt=consent when
	// offline_access is asked for (OpenID Connect Core §11).
	Offline       OfflinePolicy
	PromptConsent bool

	// Resource is how it sends RFC 8707's resource parameter, at the
	// authorization and the token request alike.
	Resource ResourceMode

	// Browser: it discovers, registers and exchanges the code from a web
	// page on Origin, so those answers need CORS; BrowserMCP: it also
	// calls the MCP endpoint from the page.
	Browser    bool
	BrowserMCP bool
	Origin     string

	// SetUp is how a user adds a server, for the report.
	SetUp string
}

// OfflinePolicy says when a client asks for offline_access.
type OfflinePolicy int

// Offline policies.
const (
	OfflineNever        OfflinePolicy = iota
	OfflineIfAdvertised               // when the AS lists it in scopes_supported (SEP-2207)
	OfflineAlways
)

// ResourceMode is how a client sends the resource parameter.
type ResourceMode int

// Resource modes. The value is the resource metadata's resource (the MCP
// URL when there is none), except ResourceURL.
const (
	ResourceOnce  ResourceMode = iota
	ResourceTwice              // the same value twice
	ResourceNone
	ResourceURL // the URL the user typed, as a URL parser writes it: https://host/ for a bare host
)

// acceptBoth is the Accept header the Streamable HTTP transport requires.
const acceptBoth = "application/json, text/event-stream"

// ClientProfiles returns the table of client behaviours, in the order of
// the report (a function, so that no caller can change the table).
func ClientProfiles() []ClientProfile {
	// tsGrantTypes are the grants of the TypeScript SDK's client metadata.
	tsGrantTypes := []string{"authorization_code", "refresh_token"}
	return []ClientProfile{
		{
			Name: "claude-code", Title: "Claude Code",
			// assumed: Claude Code's client follows the TypeScript SDK (both
			// types); vectorize-io/hindsight#571 reported an older version
			// sending none.
			Accept: acceptBoth, ProtocolVersion: "2025-11-25", VersionOnMetadata: true,
			// CIMD since 2.1.81, falling back to DCR when the AS does not
			// advertise it (anthropics/claude-code#36861, Flagsmith/flagsmith#8141).
			CIMD: true, CIMDClientID: "https://claude.ai/oauth/claude-code-client-metadata",
			// http://localhost:PORT/callback, a random port unless --callback-port
			// (code.claude.com/docs/en/mcp, quoted in mastra-ai/mastra#19467);
			// application_type native (elmohq/elmo#684, captured registration).
			RedirectURIs: []string{"http://localhost:{port}/callback"}, AuthorizeRedirect: "http://localhost:{port}/callback", NewPortEachRun: true,
			ApplicationType: "native", ClientName: "Claude Code", GrantTypes: tsGrantTypes, AuthMethod: "none",
			// offline_access is appended when the AS advertises it; the scope
			// comes from WWW-Authenticate or the resource metadata
			// (basicmachines-co/basic-memory#1283 quoting the maintainers;
			// before that, always: anthropics/claude-code#41610).
			Offline: OfflineIfAdvertised, PromptConsent: true, // prompt=consent: assumed, TypeScript SDK (anomalyco/opencode#50519)
			// resource sent at authorize (getsentry/sentry-mcp#836).
			Resource: ResourceOnce,
			SetUp:    "claude mcp add --transport http atoms URL",
		},
		{
			Name: "claude-ai", Title: "claude.ai / Claude Desktop connectors",
			// Anthropic's connector proxy sends Accept: text/event-stream
			// without application/json (modelcontextprotocol/python-sdk#2349;
			// "does not send both": trycua/cua#1898, NateBJones-Projects/OB1#33).
			Accept: "text/event-stream", ProtocolVersion: "2025-11-25", // version: assumed
			// CIMD only when the AS advertises it and "none" among
			// token_endpoint_auth_methods_supported, else DCR
			// (brendanlong/lion-reader#1519 and dropseed/plain#108 citing
			// Anthropic's connector docs; document URL: anthropics/claude-ai-mcp#518).
			CIMD: true, CIMDNeedsNone: true, CIMDClientID: "https://claude.ai/oauth/mcp-oauth-client-metadata",
			// https://claude.ai/api/mcp/auth_callback (anthropics/claude-ai-mcp#313,
			// #124); no application_type (elmohq/elmo#684); auth method none: assumed.
			RedirectURIs: []string{"https://claude.ai/api/mcp/auth_callback"}, AuthorizeRedirect: "https://claude.ai/api/mcp/auth_callback",
			ClientName: "Claude", GrantTypes: tsGrantTypes, AuthMethod: "none",
			// scope=offline_access with prompt=consent, and resource with the
			// URL parser's trailing slash for a bare host
			// (modelcontextprotocol/mcpb#188: resource=https://mymcp.mydomain.com/);
			// offline_access only when advertised: assumed after
			// anthropics/claude-ai-mcp#42 (not requested at all, 2026-02, fix in progress).
			Offline: OfflineIfAdvertised, PromptConsent: true, Resource: ResourceURL,
			// The OAuth exchange runs in Anthropic's backend, not the page
			// (anthropics/claude-ai-mcp#480: "claude.ai backend never calls /token").
			SetUp: "Settings → Connectors → Add custom connector → URL",
		},
		{
			Name: "cursor", Title: "Cursor",
			// both types (harlan-zw/nuxt-seo#543 shows Cursor's standard Accept).
			Accept: acceptBoth, ProtocolVersion: "2025-06-18", // version: assumed
			// DCR; Cursor does not use CIMD (Altinity/altinity-mcp#169).
			// Three redirect URIs in one registration, token_endpoint_auth_method
			// none (erp-mafia/accounted#2225, soflyy/agent-connector-for-wp#111,
			// different-ai/openwork#3059); no application_type: assumed. Older
			// versions used cursor://anysphere.cursor-retrieval/oauth/user-auth
			// (modelcontextprotocol/python-sdk#895). The authorization request
			// uses the custom scheme (makeplane/plane-mcp-server#159).
			RedirectURIs:      []string{"cursor://anysphere.cursor-mcp/oauth/callback", "https://www.cursor.com/agents/mcp/oauth/callback", "http://localhost:8787/callback"},
			AuthorizeRedirect: "cursor://anysphere.cursor-mcp/oauth/callback",
			ClientName:        "Cursor", GrantTypes: tsGrantTypes, AuthMethod: "none",
			// scope from the resource metadata, no offline_access, resource
			// once: assumed (the MCP spec's behaviour).
			Offline: OfflineNever, Resource: ResourceOnce,
			SetUp: `~/.cursor/mcp.json: {"mcpServers": {"atoms": {"url": "URL"}}}`,
		},
		{
			Name: "vscode", Title: "VS Code (GitHub Copilot)",
			Accept: acceptBoth, ProtocolVersion: "2025-11-25", // assumed
			// CIMD on 1.106+, else DCR with application_type native
			// (elmohq/elmo#684); the CIMD document's URL is not public here,
			// so the replay registers with DCR.
			CIMD: true,
			// Redirect URIs of its DCR; it authorizes on 33418, or on a random
			// port when 33418 is taken (microsoft/vscode#278512).
			RedirectURIs:      []string{"https://insiders.vscode.dev/redirect", "https://vscode.dev/redirect", "http://127.0.0.1/", "http://127.0.0.1:33418/"},
			AuthorizeRedirect: "http://127.0.0.1:33418/", NewPortEachRun: true,
			ApplicationType: "native", ClientName: "Visual Studio Code", GrantTypes: tsGrantTypes, AuthMethod: "none",
			// scope and resource in the authorization request
			// (microsoft/vscode#252892, #278512); offline_access: assumed never.
			Offline: OfflineNever, Resource: ResourceOnce,
			SetUp: `.vscode/mcp.json: {"servers": {"atoms": {"type": "http", "url": "URL"}}}`,
		},
		{
			Name: "chatgpt", Title: "ChatGPT connectors (apps)",
			// Accept: application/json only, as OpenAI's MCP connector sends it
			// (arabold/docs-mcp-server#349, OpenAI Responses; assumed the same
			// connector platform for ChatGPT).
			Accept: "application/json", ProtocolVersion: "2025-06-18", // version: assumed
			// DCR (erp-mafia/accounted#1866, 2026-08: "the register endpoint
			// remains for clients that still use DCR (ChatGPT)"); CIMD not
			// confirmed.
			// The legacy fixed callback and the per-connector one
			// (danielealbano/android-remote-control-mcp#166, BasedHardware/omi#8824).
			RedirectURIs:      []string{"https://chatgpt.com/connector_platform_oauth_redirect", "https://chatgpt.com/connector/oauth/{id}"},
			AuthorizeRedirect: "https://chatgpt.com/connector/oauth/{id}",
			ClientName:        "ChatGPT", GrantTypes: tsGrantTypes, AuthMethod: "none", // auth method: BasedHardware/omi#8824 (public client)
			// offline_access when advertised: assumed (servers advertise it for
			// ChatGPT: danielealbano/android-remote-control-mcp#166, lowdefy/lowdefy#2337).
			Offline: OfflineIfAdvertised, Resource: ResourceOnce,
			SetUp: "Settings → Apps → Advanced → Developer mode → Create app → MCP server URL",
		},
		{
			Name: "codex", Title: "OpenAI Codex CLI",
			Accept: acceptBoth, ProtocolVersion: "2025-06-18", // rmcp's streamable HTTP client: assumed
			// CIMD when advertised (erp-mafia/accounted#1866), document URL not
			// public here: the replay registers with DCR.
			CIMD: true,
			// http://127.0.0.1:PORT/callback/<callback_id>, an ephemeral port,
			// application_type native (elmohq/elmo#684, openai/codex#30460).
			// openai/codex#31038 reports localhost at authorize after 127.0.0.1
			// at registration (0.142.5, open): not replayed.
			RedirectURIs: []string{"http://127.0.0.1:{port}/callback/{id}"}, AuthorizeRedirect: "http://127.0.0.1:{port}/callback/{id}", NewPortEachRun: true,
			ApplicationType: "native", ClientName: "Codex", GrantTypes: tsGrantTypes, AuthMethod: "none",
			// resource twice with the same value when oauth_resource is set in
			// config.toml, which users add for servers that need resource
			// (openai/codex#34467, #28830); offline_access: assumed never.
			Offline: OfflineNever, Resource: ResourceTwice,
			SetUp: "codex mcp add atoms --url URL",
		},
		{
			Name: "mcp-remote", Title: "mcp-remote (the stdio bridge of Claude Desktop and others)",
			// TypeScript SDK client: both types, MCP-Protocol-Version on
			// metadata, offline_access when advertised with prompt=consent
			// (SEP-2207; anomalyco/opencode#50519 describes the SDK).
			Accept: acceptBoth, ProtocolVersion: "2025-11-25", VersionOnMetadata: true,
			// DCR with http://localhost:3334/oauth/callback, another port when
			// 3334 is taken, keeping the stored client (punkpeye/mcp-remote#72).
			RedirectURIs: []string{"http://localhost:{port}/oauth/callback"}, AuthorizeRedirect: "http://localhost:{port}/oauth/callback", NewPortEachRun: true,
			ClientName: "MCP CLI Client", GrantTypes: tsGrantTypes, AuthMethod: "none", // client name: assumed
			Offline: OfflineIfAdvertised, PromptConsent: true, Resource: ResourceOnce,
			SetUp: `claude_desktop_config.json: {"mcpServers": {"atoms": {"command": "npx", "args": ["mcp-remote", "URL"]}}}`,
		},
		{
			Name: "inspector", Title: "MCP Inspector",
			Accept: acceptBoth, ProtocolVersion: "2025-11-25", VersionOnMetadata: true,
			// DCR by default; CIMD only with --client-metadata-url
			// (modelcontextprotocol/modelcontextprotocol#3143).
			// Redirect URIs on its own origin (modelcontextprotocol/inspector#556,
			// better-auth/better-auth#3411: redirect_uri …/oauth/callback/debug,
			// scope "openid profile email offline_access").
			RedirectURIs: []string{"http://localhost:6274/oauth/callback", "http://localhost:6274/oauth/callback/debug"}, AuthorizeRedirect: "http://localhost:6274/oauth/callback",
			ClientName: "MCP Inspector", GrantTypes: tsGrantTypes, AuthMethod: "none",
			Offline: OfflineIfAdvertised, PromptConsent: true, Resource: ResourceOnce,
			// Discovery, registration and the token exchange run in the page
			// at http://localhost:6274 (modelcontextprotocol/inspector#817, #571);
			// MCP requests go through its local proxy by default (assumed: the
			// "direct" connection type calls the endpoint from the page).
			Browser: true, Origin: "http://localhost:6274",
			SetUp: "npx @modelcontextprotocol/inspector, transport Streamable HTTP, URL",
		},
	}
}

// ClientNames lists the --client values, "all" included.
func ClientNames() []string {
	all := ClientProfiles()
	names := make([]string, 0, len(all)+1)
	for _, c := range all {
		names = append(names, c.Name)
	}
	return append(names, "all")
}

// lookupClients resolves --client values (comma-separated, "all").
func lookupClients(names []string) ([]ClientProfile, error) {
	all := ClientProfiles()
	var out []ClientProfile
	seen := map[string]bool{}
	for _, raw := range names {
		for _, n := range strings.Split(raw, ",") {
			n = strings.ToLower(strings.TrimSpace(n))
			switch {
			case n == "":
				continue
			case n == "all":
				for _, c := range all {
					if !seen[c.Name] {
						seen[c.Name] = true
						out = append(out, c)
					}
				}
				continue
			}
			i := slices.IndexFunc(all, func(c ClientProfile) bool { return c.Name == n })
			if i < 0 {
				return nil, fmt.Errorf("unknown client %q; known: %s", n, strings.Join(ClientNames(), ", "))
			}
			if !seen[n] {
				seen[n] = true
				out = append(out, all[i])
			}
		}
	}
	return out, nil
}
