package oauthclient

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// The non-interactive grants of the MCP authorization extensions: client
// credentials (SEP-1046) with a client secret or a private-key JWT,
// JWT-bearer assertions for workload identity (SEP-1933, RFC 7523), and
// enterprise-managed authorization (SEP-990: an IdP's ID token exchanged
// for an ID-JAG, then a JWT-bearer grant).
//
// go-sdk's auth/extauth has handlers for client credentials and
// enterprise-managed authorization; they are not used because they send no
// resource parameter, report discovery failures only as "no metadata", and
// (enterprise) authenticate with client_secret_post even where the
// authorization server lists only client_secret_basic. These handlers use
// [Discover] and share its one-sentence errors.

// GrantType names the grant of a [GrantConfig].
type GrantType string

const (
	// GrantClientCredentials is the client credentials grant (RFC 6749 §4.4).
	GrantClientCredentials GrantType = "client_credentials"
	// GrantJWTBearer is the JWT bearer assertion grant (RFC 7523 §2.1).
	GrantJWTBearer GrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer" // #nosec G101 -- a grant type URN (RFC 7523), not a credential
	// GrantEnterprise is enterprise-managed authorization (SEP-990).
	GrantEnterprise GrantType = "enterprise"
)

const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// GrantConfig configures [NewGrantHandler].
type GrantConfig struct {
	Grant GrantType
	// ClientID is the client at the MCP server's authorization server.
	ClientID string
	// ClientSecret authenticates the client (client_secret_basic or
	// client_secret_post, as the authorization server lists).
	ClientSecret string
	// PrivateKeyPEM authenticates the client with a private_key_jwt
	// assertion (RFC 7523 §2.2) signed with this PKCS #8 key; SigningAlg
	// defaults to ES256 for EC keys and RS256 for RSA keys.
	PrivateKeyPEM string
	SigningAlg    string
	// Assertion is the JWT of a JWT-bearer grant (a workload identity
	// token).
	Assertion string
	// Scopes, when set, replace those the server names.
	Scopes []string

	// Enterprise-managed authorization: the ID token from the enterprise
	// IdP, the IdP's token endpoint (or its issuer, for discovery) and the
	// client registered at the IdP.
	IDToken          string
	IdPIssuer        string
	IdPTokenEndpoint string
	IdPClientID      string
	IdPClientSecret  string

	// HTTPClient makes the OAuth requests (default [NewHTTPClient]).
	HTTPClient *http.Client
	// Now is the clock (tests).
	Now func() time.Time
}

// GrantHandler is an [auth.OAuthHandler] that gets tokens without a user:
// on a 401 it discovers the authorization server and runs the configured
// grant once. A failed grant is not retried (SEP-1933), and the grant type
// is never switched.
type GrantHandler struct {
	cfg GrantConfig

	mu     sync.Mutex
	ts     oauth2.TokenSource
	failed error
	last   *Discovery
}

var _ auth.OAuthHandler = (*GrantHandler)(nil)

// NewGrantHandler validates cfg for serverURL.
func NewGrantHandler(serverURL string, cfg GrantConfig) (*GrantHandler, error) {
	switch cfg.Grant {
	case GrantClientCredentials:
		if cfg.ClientID == "" || (cfg.ClientSecret == "") == (cfg.PrivateKeyPEM == "") {
			return nil, &Error{Kind: KindNoRegistration, Msg: "the client credentials grant needs a client ID and either a client secret or a private key"}
		}
	case GrantJWTBearer:
		if cfg.Assertion == "" {
			return nil, &Error{Kind: KindNoRegistration, Msg: "the JWT-bearer grant needs an assertion (a JWT)"}
		}
	case GrantEnterprise:
		if cfg.IDToken == "" || cfg.IdPClientID == "" || cfg.ClientID == "" || (cfg.IdPIssuer == "" && cfg.IdPTokenEndpoint == "") {
			return nil, &Error{Kind: KindNoRegistration, Msg: "enterprise-managed authorization needs an ID token, the IdP (issuer or token endpoint), the client ID at the IdP and the client ID at the MCP server's authorization server"}
		}
	default:
		return nil, &Error{Kind: KindOther, Msg: fmt.Sprintf("unknown grant %q", cfg.Grant)}
	}
	if cfg.PrivateKeyPEM != "" {
		if _, _, err := parseSigningKey(cfg.PrivateKeyPEM, cfg.SigningAlg); err != nil {
			return nil, err
		}
	}
	if cfg.HTTPClient == nil {
		c, err := NewHTTPClient(serverURL)
		if err != nil {
			return nil, err
		}
		cfg.HTTPClient = c
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &GrantHandler{cfg: cfg}, nil
}

// TokenSource implements [auth.OAuthHandler].
func (g *GrantHandler) TokenSource(context.Context) (oauth2.TokenSource, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ts == nil {
		return nil, nil
	}
	return g.ts, nil
}

// LastDiscovery is the discovery of the latest Authorize, or nil.
func (g *GrantHandler) LastDiscovery() *Discovery {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.last
}

// Authorize implements [auth.OAuthHandler].
func (g *GrantHandler) Authorize(ctx context.Context, req *http.Request, resp *http.Response) error {
	www := resp.Header.Values("WWW-Authenticate")
	status := resp.StatusCode
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failed != nil {
		return g.failed
	}
	if status == http.StatusForbidden {
		chs, _ := oauthex.ParseWWWAuthenticate(www)
		if code, _ := challengeErrorAndScopes(chs); code != "insufficient_scope" {
			return nil
		}
	}
	d, err := Discover(ctx, g.cfg.HTTPClient, req.URL.String(), www)
	if err == nil {
		g.last = d
		var tok *oauth2.Token
		tok, err = g.grant(ctx, d)
		if err == nil {
			g.ts = oauth2.StaticTokenSource(tok)
			return nil
		}
	}
	g.failed = err
	return err
}

func (g *GrantHandler) scopes(d *Discovery) []string {
	if len(g.cfg.Scopes) > 0 {
		return g.cfg.Scopes
	}
	if len(d.ChallengeScopes) > 0 {
		return d.ChallengeScopes
	}
	if d.ResourceMetadata != nil {
		return d.ResourceMetadata.ScopesSupported
	}
	return nil
}

// grant runs the configured grant at d's token endpoint.
func (g *GrantHandler) grant(ctx context.Context, d *Discovery) (*oauth2.Token, error) {
	asm := d.AuthServerMetadata
	if !slices.Contains([]GrantType{GrantEnterprise}, g.cfg.Grant) && len(asm.GrantTypesSupported) > 0 && !slices.Contains(asm.GrantTypesSupported, string(g.cfg.Grant)) {
		return nil, errorf(KindTokenEndpoint, nil, "the authorization server %s does not list the %s grant (grant_types_supported: %s)", d.Issuer, g.cfg.Grant, strings.Join(asm.GrantTypesSupported, ", "))
	}
	params := map[string]string{}
	if d.Resource != "" {
		params["resource"] = d.Resource
	}
	if sc := g.scopes(d); len(sc) > 0 {
		params["scope"] = strings.Join(sc, " ")
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, g.cfg.HTTPClient)
	switch g.cfg.Grant {
	case GrantClientCredentials:
		params["grant_type"] = string(GrantClientCredentials)
		return g.tokenRequest(ctx, d, g.cfg.ClientID, g.cfg.ClientSecret, params)
	case GrantJWTBearer:
		params["grant_type"] = string(GrantJWTBearer)
		params["assertion"] = g.cfg.Assertion
		return g.tokenRequest(ctx, d, g.cfg.ClientID, g.cfg.ClientSecret, params)
	case GrantEnterprise:
		jag, err := g.exchangeIDToken(ctx, d)
		if err != nil {
			return nil, err
		}
		params["grant_type"] = string(GrantJWTBearer)
		params["assertion"] = jag
		return g.tokenRequest(ctx, d, g.cfg.ClientID, g.cfg.ClientSecret, params)
	}
	return nil, errors.New("unreachable")
}

// tokenRequest posts params to the token endpoint, authenticating the
// client as the authorization server lists (private_key_jwt, then
// client_secret_basic, then client_secret_post; a client without secret
// sends its client_id).
func (g *GrantHandler) tokenRequest(ctx context.Context, d *Discovery, clientID, secret string, params map[string]string) (*oauth2.Token, error) {
	asm := d.AuthServerMetadata
	conf := &oauth2.Config{ClientID: clientID, Endpoint: oauth2.Endpoint{TokenURL: asm.TokenEndpoint, AuthStyle: oauth2.AuthStyleInParams}}
	switch {
	case g.cfg.PrivateKeyPEM != "":
		assertion, err := g.clientAssertion(d)
		if err != nil {
			return nil, err
		}
		params["client_assertion_type"] = clientAssertionType
		params["client_assertion"] = assertion
	case secret != "":
		conf.ClientSecret = secret
		methods := asm.TokenEndpointAuthMethodsSupported
		if len(methods) == 0 || slices.Contains(methods, "client_secret_basic") {
			conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
		}
	}
	values := url.Values{}
	for k, v := range params {
		values.Set(k, v)
	}
	cc := &clientcredentials.Config{
		ClientID:       conf.ClientID,
		ClientSecret:   conf.ClientSecret,
		TokenURL:       conf.Endpoint.TokenURL,
		AuthStyle:      conf.Endpoint.AuthStyle,
		EndpointParams: values, // grant_type included: clientcredentials lets it be overridden
	}
	tok, err := cc.Token(ctx)
	if err != nil {
		return nil, describeTokenError(asm.TokenEndpoint, err)
	}
	return tok, nil
}

// exchangeIDToken trades the enterprise ID token for an ID-JAG at the IdP
// (RFC 8693 with go-sdk's oauthex.ExchangeToken).
func (g *GrantHandler) exchangeIDToken(ctx context.Context, d *Discovery) (string, error) {
	endpoint := g.cfg.IdPTokenEndpoint
	if endpoint == "" {
		var idp oauthex.AuthServerMeta
		found := false
		for _, u := range AuthServerMetadataURLs(g.cfg.IdPIssuer) {
			status, err := getJSON(ctx, g.cfg.HTTPClient, "the IdP's metadata", u, &idp)
			if err != nil {
				return "", err
			}
			if status == http.StatusOK {
				found = true
				break
			}
		}
		if !found || idp.TokenEndpoint == "" {
			return "", errorf(KindBadMetadata, nil, "the enterprise IdP %s publishes no metadata with a token_endpoint", g.cfg.IdPIssuer)
		}
		endpoint = idp.TokenEndpoint
	}
	creds := &oauthex.ClientCredentials{ClientID: g.cfg.IdPClientID}
	if g.cfg.IdPClientSecret != "" {
		creds.ClientSecretAuth = &oauthex.ClientSecretAuth{ClientSecret: g.cfg.IdPClientSecret}
	}
	tok, err := oauthex.ExchangeToken(ctx, endpoint, &oauthex.TokenExchangeRequest{
		RequestedTokenType: oauthex.TokenTypeIDJAG,
		Audience:           d.AuthServerMetadata.Issuer,
		Resource:           d.Resource,
		Scope:              g.scopes(d),
		SubjectToken:       g.cfg.IDToken,
		SubjectTokenType:   oauthex.TokenTypeIDToken,
	}, creds, g.cfg.HTTPClient)
	if err != nil {
		e := describeTokenError(endpoint, err)
		e.Msg = strings.Replace(e.Msg, "the token endpoint", "the IdP's token endpoint", 1)
		return "", e
	}
	return tok.AccessToken, nil
}

// clientAssertion is a private_key_jwt client assertion for d's
// authorization server: iss and sub the client ID, aud the issuer.
func (g *GrantHandler) clientAssertion(d *Discovery) (string, error) {
	key, method, err := parseSigningKey(g.cfg.PrivateKeyPEM, g.cfg.SigningAlg)
	if err != nil {
		return "", err
	}
	now := g.cfg.Now()
	jti := make([]byte, 16)
	rand.Read(jti)
	claims := jwt.RegisteredClaims{
		Issuer:    g.cfg.ClientID,
		Subject:   g.cfg.ClientID,
		Audience:  jwt.ClaimStrings{d.AuthServerMetadata.Issuer},
		ID:        hex.EncodeToString(jti),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(5 * time.Minute)),
	}
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		return "", errorf(KindOther, err, "cannot sign the client assertion: %v", err)
	}
	return s, nil
}

// parseSigningKey reads a PEM private key (PKCS #8, or EC/RSA PEM) and the
// JWS method for it.
func parseSigningKey(pemKey, alg string) (any, jwt.SigningMethod, error) {
	if k, err := jwt.ParseECPrivateKeyFromPEM([]byte(pemKey)); err == nil {
		if alg == "" {
			alg = map[int]string{256: "ES256", 384: "ES384", 521: "ES512"}[k.Curve.Params().BitSize]
		}
		m := jwt.GetSigningMethod(alg)
		if _, ok := m.(*jwt.SigningMethodECDSA); !ok {
			return nil, nil, &Error{Kind: KindOther, Msg: fmt.Sprintf("the private key is an EC key, which cannot sign with %q", alg)}
		}
		return k, m, nil
	}
	if k, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(pemKey)); err == nil {
		if alg == "" {
			alg = "RS256"
		}
		m := jwt.GetSigningMethod(alg)
		switch m.(type) {
		case *jwt.SigningMethodRSA, *jwt.SigningMethodRSAPSS:
			return k, m, nil
		}
		return nil, nil, &Error{Kind: KindOther, Msg: fmt.Sprintf("the private key is an RSA key, which cannot sign with %q", alg)}
	}
	return nil, nil, &Error{Kind: KindOther, Msg: "the private key is not a PEM-encoded EC or RSA private key"}
}
