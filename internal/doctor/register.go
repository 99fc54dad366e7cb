package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// dcrFixAuthKit is where AuthKit's registration switches are.
const dcrFixAuthKit = "In the WorkOS dashboard open Connect → Configuration and, under MCP Auth, switch on Dynamic Client Registration (DCR), which older clients need, and Client ID Metadata Document (CIMD), which 2025-11-25 clients prefer."

// checkRegistration checks how clients can obtain a client ID at each
// authorization server, and with --register makes a real registration.
func (r *run) checkRegistration(ctx context.Context) {
	found := false
	for _, is := range r.issuers {
		if is.meta == nil {
			continue
		}
		found = true
		f := checkRegistrationOptions(is)
		r.add(f)
		if is.meta.RegistrationEndpoint == "" {
			continue
		}
		if !r.opts.Register {
			r.add(skip(IDRegisterDCR, AreaRegister, "not tried: run with --register to make a real test registration at "+is.meta.RegistrationEndpoint))
			continue
		}
		f, resp := r.checkDCR(ctx, is)
		r.add(f)
		if resp != nil {
			r.add(checkAuthMethod(is, resp))
		}
	}
	if !found {
		r.add(skip(IDRegisterOptions, AreaRegister, "no authorization-server metadata, so nothing to register with"))
	}
}

// checkRegistrationOptions checks that clients have a way to get a
// client ID without the user pasting one: CIMD or DCR.
func checkRegistrationOptions(is *issuer) Finding {
	f := Finding{ID: IDRegisterOptions, Area: AreaRegister}
	cimd, dcr := is.meta.ClientIDMetadataDocumentSupported, is.meta.RegistrationEndpoint != ""
	switch {
	case cimd && dcr:
		f.Status, f.Title = Pass, "clients can register: Client ID Metadata Documents and Dynamic Client Registration"
	case dcr:
		f.Status, f.Title = Pass, "clients can register: Dynamic Client Registration (no Client ID Metadata Documents)"
	case cimd:
		f.Status, f.Title = Pass, "clients can register: Client ID Metadata Documents (no Dynamic Client Registration: older clients need a pre-registered client ID)"
	default:
		f.Status, f.Title = Fail, "neither client_id_metadata_document_supported nor registration_endpoint: clients cannot register"
		f.Observed = &Observed{URL: is.metaURL, Detail: "client_id_metadata_document_supported: false; registration_endpoint: none"}
		f.Fix = "MCP clients that were not pre-registered stop here (Claude and the MCP Inspector say \"Cannot transition from step: client_registration\" or \"does not support dynamic client registration\"). Enable Dynamic Client Registration (RFC 7591) or Client ID Metadata Documents at the authorization server."
		if isAuthKit(is.url) {
			f.Fix += " " + dcrFixAuthKit
		}
	}
	return f
}

// registrationAnswer is the part of an RFC 7591/7592 answer doctor needs
// beyond oauthex.ClientRegistrationResponse: how to delete the client.
type registrationAnswer struct {
	RegistrationClientURI   string `json:"registration_client_uri"`
	RegistrationAccessToken string `json:"registration_access_token"`
}

// checkDCR registers a public client with a loopback redirect URI, the
// way a desktop or command-line MCP client does, and deletes it again
// where the server supports RFC 7592.
func (r *run) checkDCR(ctx context.Context, is *issuer) (Finding, *oauthex.ClientRegistrationResponse) {
	f := Finding{ID: IDRegisterDCR, Area: AreaRegister}
	body, _ := json.Marshal(&oauthex.ClientRegistrationMetadata{
		RedirectURIs:            []string{loopbackRedirectURI()},
		TokenEndpointAuthMethod: "none",
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		ClientName:              "atomcp doctor test registration (safe to delete)",
	})
	h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	p, err := r.do(ctx, request{Method: http.MethodPost, URL: is.meta.RegistrationEndpoint, Header: h, Body: body, HideBody: true})
	if err != nil {
		f.Status, f.Title = Fail, "the registration request failed: "+r.describe(err)
		f.Observed = &Observed{Method: http.MethodPost, URL: is.meta.RegistrationEndpoint}
		f.Fix = "Check that the registration endpoint in the metadata is reachable from clients."
		return f, nil
	}
	f.Observed = p.observed("Content-Type")
	if p.Status == http.StatusCreated || p.Status == http.StatusOK {
		var resp oauthex.ClientRegistrationResponse
		var extra registrationAnswer
		if err := json.Unmarshal(p.Body, &resp); err != nil || resp.ClientID == "" {
			f.Status, f.Title = Fail, fmt.Sprintf("HTTP %d, but the answer has no client_id", p.Status)
			f.Fix = "A successful registration answers 201 with a JSON object containing client_id (RFC 7591 section 3.2.1)."
			return f, nil
		}
		_ = json.Unmarshal(p.Body, &extra)
		f.Status, f.Title = Pass, fmt.Sprintf("registered a test client (HTTP %d, client_id %s)", p.Status, RedactToken(resp.ClientID))
		f.Observed.Detail = r.deleteClient(ctx, extra)
		return f, &resp
	}
	var e oauthex.ClientRegistrationError
	_ = json.Unmarshal(p.Body, &e)
	if e.ErrorCode != "" {
		f.Observed.Detail = "error: " + e.ErrorCode
		if e.ErrorDescription != "" {
			f.Observed.Detail += ": " + e.ErrorDescription
		}
	}
	f.Status = Fail
	switch {
	case e.ErrorCode == "invalid_redirect_uri":
		f.Title = "the registration refuses the loopback redirect URI " + loopbackRedirectURI()
		f.Fix = "Desktop and command-line clients receive the login on http://127.0.0.1:<any port>/… (RFC 8252 section 7.3): allow loopback redirect URIs with any port at the authorization server."
		if isAuthKit(is.url) {
			f.Fix += " In the WorkOS dashboard, check the redirect URIs allowed for MCP clients (Connect → Configuration)."
		}
		return f, nil
	case p.Status == http.StatusNotFound || p.Status == http.StatusForbidden || p.Status == http.StatusUnauthorized || p.Status == http.StatusMethodNotAllowed || p.Status == http.StatusBadRequest:
		f.Title = fmt.Sprintf("registration refused (HTTP %d): Dynamic Client Registration is disabled", p.Status)
		f.Fix = "The metadata advertises registration_endpoint but registrations are refused, so clients fail with \"Cannot transition from step: client_registration\". "
		if isAuthKit(is.url) {
			f.Fix += dcrFixAuthKit
		} else {
			f.Fix += "Enable Dynamic Client Registration (RFC 7591) for public clients at the identity provider (without an initial access token), or Client ID Metadata Documents, the alternative 2025-11-25 clients prefer; otherwise every client needs a pre-registered client ID."
		}
		return f, nil
	}
	f.Title = fmt.Sprintf("registration failed with HTTP %d", p.Status)
	f.Fix = "The registration endpoint should answer 201 with the new client (RFC 7591). Read the answer with atomcp doctor -v --register."
	return f, nil
}

// loopbackRedirectURI is the redirect URI of the test registration: a
// free loopback port, as a command-line client would choose.
func loopbackRedirectURI() string {
	port := 33418
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	return fmt.Sprintf("http://127.0.0.1:%d/oauth/callback", port)
}

// deleteClient deletes the test client (RFC 7592) and says what happened.
func (r *run) deleteClient(ctx context.Context, a registrationAnswer) string {
	if a.RegistrationClientURI == "" || a.RegistrationAccessToken == "" {
		return "the test client stays registered (the server offers no RFC 7592 deletion); its name says it is safe to delete"
	}
	p, err := r.do(ctx, request{Method: http.MethodDelete, URL: a.RegistrationClientURI, Header: http.Header{"Authorization": {"Bearer " + a.RegistrationAccessToken}}})
	if err != nil || p.Status/100 != 2 {
		return "deleting the test client failed; it stays registered, and its name says it is safe to delete"
	}
	return "the test client was deleted again"
}

// checkAuthMethod reports the token endpoint authentication method the
// server chose for a client that asked for none (a public client).
func checkAuthMethod(is *issuer, resp *oauthex.ClientRegistrationResponse) Finding {
	f := Finding{ID: IDRegisterAuthMethod, Area: AreaRegister}
	m := resp.TokenEndpointAuthMethod
	if m == "none" {
		f.Status, f.Title = Pass, "the test client is public (token_endpoint_auth_method none), as asked"
		return f
	}
	shown := m
	if m == "" {
		shown = "not stated (RFC 7591's default: client_secret_basic)"
	}
	f.Status = Warn
	f.Title = "asked for a public client, got token_endpoint_auth_method " + shown
	f.Observed = &Observed{URL: is.meta.RegistrationEndpoint, Detail: fmt.Sprintf("token_endpoint_auth_method: %q; client secret issued: %t", m, resp.ClientSecret != "")}
	f.Fix = "Public clients (desktop apps, CLIs, browser apps) cannot keep a secret; those that ignore the one issued fail at the token endpoint with invalid_client. The server should honour token_endpoint_auth_method \"none\"."
	if isAuthKit(is.url) {
		f.Fix += " AuthKit registers clients with client_secret_basic by default: clients must send the returned secret with HTTP Basic, or use Client ID Metadata Documents instead (Connect → Configuration → MCP Auth)."
	}
	return f
}
