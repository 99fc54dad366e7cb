package authserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/atomcp/atomcp/internal/store"
)

// maxRegistrationBytes bounds a registration request body; real ones are
// well under a kilobyte.
const maxRegistrationBytes = 64 << 10

// registrationRequest is the client metadata of RFC 7591 §2 that this
// server reads; other members are ignored, as the RFC allows.
type registrationRequest struct {
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod *string  `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	ClientName              string   `json:"client_name"`
	ClientURI               string   `json:"client_uri"`
	LogoURI                 string   `json:"logo_uri"`
	Scope                   string   `json:"scope"`
	ApplicationType         string   `json:"application_type"`
}

// registrationResponse is RFC 7591 §3.2.1's answer.
type registrationResponse struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	ClientName              string   `json:"client_name,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	LogoURI                 string   `json:"logo_uri,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
	ApplicationType         string   `json:"application_type,omitempty"`
}

func errClientMetadata(desc string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_client_metadata", desc}
}

func errRedirectURI(desc string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_redirect_uri", desc}
}

// handleRegister is Dynamic Client Registration (RFC 7591).
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	if ok, wait := s.dcr.allow(r); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		writeError(w, r, &oauthError{http.StatusTooManyRequests, "too_many_requests",
			fmt.Sprintf("too many client registrations from your address; try again in %d seconds", int(wait.Seconds())+1)})
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, r, errInvalidRequest(fmt.Sprintf("the registration request must have Content-Type application/json (got %q)", r.Header.Get("Content-Type"))))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRegistrationBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, r, &oauthError{http.StatusRequestEntityTooLarge, "invalid_client_metadata",
				fmt.Sprintf("the registration request is larger than %d KiB", maxRegistrationBytes>>10)})
			return
		}
		writeError(w, r, errInvalidRequest("the registration request body could not be read"))
		return
	}
	var req registrationRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, r, errClientMetadata("the registration request is not a valid JSON object of client metadata (RFC 7591 §2): "+err.Error()))
		return
	}
	c, secret, oerr := s.newRegisteredClient(&req)
	if oerr != nil {
		writeError(w, r, oerr)
		return
	}
	if err := s.st.CreateOAuthClient(r.Context(), c); err != nil {
		s.log.Error("register client", "err", err)
		writeError(w, r, errServer())
		return
	}
	s.event(EventClientRegistered)
	s.log.Info("client registered", "client_id", c.ID, "client_name", c.Name, "confidential", secret != "")
	writeJSON(w, http.StatusCreated, registrationResponseFor(c, secret))
}

func registrationResponseFor(c *store.OAuthClient, secret string) *registrationResponse {
	resp := &registrationResponse{
		ClientID: c.ID, ClientSecret: secret, ClientIDIssuedAt: c.CreatedAt.Unix(),
		RedirectURIs: c.RedirectURIs, TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		GrantTypes: c.GrantTypes, ResponseTypes: c.ResponseTypes, ClientName: c.Name,
		ClientURI: c.ClientURI, LogoURI: c.LogoURI, Scope: c.Scope, ApplicationType: c.ApplicationType,
	}
	if secret != "" {
		never := int64(0) // the secret does not expire
		resp.ClientSecretExpiresAt = &never
	}
	return resp
}

// newRegisteredClient validates registration metadata and builds the
// client to store, with its secret (empty for a public client). Defaults
// follow RFC 7591 §2, except that grant_types defaults to both grants:
// MCP clients refresh, and many omit it.
func (s *Server) newRegisteredClient(req *registrationRequest) (*store.OAuthClient, string, *oauthError) {
	if len(req.RedirectURIs) == 0 {
		return nil, "", errRedirectURI("redirect_uris is required: list the URIs the authorization response may be sent to")
	}
	private := false
	for _, u := range req.RedirectURIs {
		kind, err := validateRedirectURI(u)
		if err != nil {
			return nil, "", errRedirectURI(err.Error())
		}
		private = private || kind != redirectHTTPS
	}
	method := "client_secret_basic"
	if req.TokenEndpointAuthMethod != nil {
		method = *req.TokenEndpointAuthMethod
	}
	if !slices.Contains(authMethodsSupported, method) {
		return nil, "", errClientMetadata(fmt.Sprintf("token_endpoint_auth_method %q is not supported; supported: %s", method, strings.Join(authMethodsSupported, ", ")))
	}
	grants := req.GrantTypes
	if len(grants) == 0 {
		grants = grantTypesSupported
	}
	for _, g := range grants {
		if !slices.Contains(grantTypesSupported, g) {
			return nil, "", errClientMetadata(fmt.Sprintf("grant type %q is not supported; supported: %s", g, strings.Join(grantTypesSupported, ", ")))
		}
	}
	if !slices.Contains(grants, "authorization_code") {
		return nil, "", errClientMetadata("grant_types must include authorization_code: it is the only way to obtain tokens here")
	}
	responses := req.ResponseTypes
	if len(responses) == 0 {
		responses = []string{"code"}
	}
	if !slices.Equal(responses, []string{"code"}) {
		return nil, "", errClientMetadata(fmt.Sprintf("response_types %v are not supported; only [\"code\"] is", responses))
	}
	// A registered scope is the client's default; offline_access in it
	// (some clients register what they will ask for) is accepted and
	// dropped, as in authorization requests.
	scope := ""
	if atoms := withoutOfflineAccess(req.Scope); atoms != "" {
		var err error
		if scope, err = parseScope(atoms); err != nil {
			return nil, "", errClientMetadata(err.Error())
		}
	}
	appType, oerr := applicationType(req.ApplicationType, req.RedirectURIs, private)
	if oerr != nil {
		return nil, "", oerr
	}
	if len(req.ClientName) > 200 {
		return nil, "", errClientMetadata("client_name is longer than 200 characters")
	}
	for name, v := range map[string]string{"client_uri": req.ClientURI, "logo_uri": req.LogoURI} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, "", errClientMetadata(fmt.Sprintf("%s %q must be an https URL", name, v))
		}
	}
	c := &store.OAuthClient{
		ID: uuid.NewString(), Name: req.ClientName, RedirectURIs: req.RedirectURIs, GrantTypes: grants,
		ResponseTypes: responses, TokenEndpointAuthMethod: method, ApplicationType: appType, Scope: scope,
		ClientURI: req.ClientURI, LogoURI: req.LogoURI, Source: "dcr", CreatedAt: s.opts.Now().UTC().Truncate(time.Second),
	}
	secret := ""
	if method != "none" {
		secret = newSecret()
		c.SecretHash = hashSecret(secret)
	}
	return c, secret, nil
}

// applicationType decides a client's application_type (OpenID Connect
// DCR §2, which MCP's authorization spec adopts). Omitted, it is native
// when some redirect URI is loopback or private-use (the MCP SDKs, Claude
// Code and others omit it) and web otherwise. A web client may register
// https and loopback http redirects (a browser app served from localhost
// during development, such as the MCP Inspector), matched exactly, port
// included; not private-use schemes, which only an installed app can
// receive. A native client may register all three kinds; its loopback
// redirects match on any port (RFC 8252 §7.3).
func applicationType(declared string, redirectURIs []string, private bool) (string, *oauthError) {
	switch declared {
	case "":
		if private {
			return "native", nil
		}
		return "web", nil
	case "web":
		for _, u := range redirectURIs {
			if kind, _ := validateRedirectURI(u); kind == redirectPrivateUse {
				return "", errRedirectURI(fmt.Sprintf("redirect URI %q uses a private-use scheme, which only a native application may register; set application_type to native", u))
			}
		}
		return "web", nil
	case "native":
		return "native", nil
	}
	return "", errClientMetadata(fmt.Sprintf("application_type %q is not web or native", declared))
}
