package doctor

// Finding IDs. Every one is explained, with its cause and fix, in
// docs/troubleshooting.md; a test keeps the two in step.
const (
	// Reachability and TLS of the MCP URL.
	IDReachURL          = "reach.url"
	IDReachDNS          = "reach.dns"
	IDReachConnect      = "reach.connect"
	IDReachTLS          = "reach.tls"
	IDReachTimeout      = "reach.timeout"
	IDReachRedirect     = "reach.redirect"
	IDReachRedirectLoop = "reach.redirect_loop"
	IDReachHTTPS        = "reach.https"
	IDReachEndpoint     = "reach.endpoint"

	// The 401 challenge.
	IDChallengeStatus   = "challenge.status"
	IDChallengeHeader   = "challenge.header"
	IDChallengeMetadata = "challenge.resource_metadata"
	IDChallengeExpose   = "challenge.expose"

	// Protected-resource metadata (RFC 9728).
	IDPRMFetch    = "prm.fetch"
	IDPRMResource = "prm.resource"
	IDPRMServers  = "prm.authorization_servers"

	// Authorization-server discovery (RFC 8414, OpenID Connect Discovery).
	IDASIssuerURL = "as.issuer_url"
	IDASMetadata  = "as.metadata"
	IDASIssuer    = "as.issuer"
	IDASPKCE      = "as.pkce"
	IDASEndpoints = "as.endpoints"

	// Client registration (CIMD, RFC 7591).
	IDRegisterOptions    = "register.options"
	IDRegisterDCR        = "register.dcr"
	IDRegisterAuthMethod = "register.auth_method"

	// CORS, as a browser does it.
	IDCORSPreflight     = "cors.preflight"
	IDCORSAllowOrigin   = "cors.allow_origin"
	IDCORSAllowHeaders  = "cors.allow_headers"
	IDCORSExposeHeaders = "cors.expose_headers"

	// The authorization server's signing keys.
	IDJWKSFetch      = "jwks.fetch"
	IDJWKSKeys       = "jwks.keys"
	IDJWKSAlgorithms = "jwks.algorithms"

	// An access token given with --token.
	IDTokenFormat     = "token.format"
	IDTokenSignature  = "token.signature"
	IDTokenIssuer     = "token.issuer"
	IDTokenAudience   = "token.audience"
	IDTokenExpiry     = "token.expiry" // #nosec G101 -- a finding id, not a credential
	IDTokenScopes     = "token.scopes"
	IDTokenInitialize = "token.initialize"
	IDTokenToolsList  = "token.tools_list"

	// The replay of one client's behaviour (--client); cors.* findings of a
	// browser client's replay carry its name too.
	IDClientInitialize   = "client.initialize"
	IDClientAccept       = "client.accept"
	IDClientPRM          = "client.prm"
	IDClientASMetadata   = "client.as_metadata"
	IDClientPKCE         = "client.pkce"
	IDClientRegistration = "client.registration"
	IDClientScopes       = "client.scopes"
	IDClientRefresh      = "client.refresh"
	IDClientRegister     = "client.register"
	IDClientAuthorize    = "client.authorize"
	IDClientRedirectPort = "client.redirect_port"
	IDClientToken        = "client.token"

	// The end-to-end login of --login.
	IDLogin = "login.flow"

	// The local configuration of --config.
	IDConfigLoad           = "config.load"
	IDConfigAuthKitDomain  = "config.authkit_domain"
	IDConfigBaseURL        = "config.base_url"
	IDConfigURLMatch       = "config.url_match"
	IDConfigIssuer         = "config.issuer"
	IDConfigRequiredScopes = "config.required_scopes"
	IDConfigDotenvSecret   = "config.dotenv_secret" // #nosec G101 -- a finding id, not a credential
	IDConfigSignin         = "config.signin"
)
