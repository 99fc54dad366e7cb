package auth

import (
	"cmp"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/atomcp/atomcp/internal/domain"
)

// DefaultLeeway is the clock skew tolerated on exp, nbf and iat.
const DefaultLeeway = 30 * time.Second

// DefaultAlgorithms is the signing-algorithm allow-list when none is
// configured: what AuthKit and most identity providers sign with.
var DefaultAlgorithms = []string{"RS256"}

// AsymmetricAlgorithms are the algorithms that may be allowed at all. HMAC
// algorithms are never among them: with a public JWKS, an HS256 "signature"
// keyed with the public key is a forgery anyone can make.
var AsymmetricAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// JWTConfig configures a JWTVerifier.
type JWTConfig struct {
	// Issuer is the exact "iss" tokens must carry.
	Issuer string
	// Keys finds the verification key (RemoteKeys or LocalKeys).
	Keys KeySource
	// Audience decides the accepted "aud" values.
	Audience Audience
	// Algorithms is the "alg" allow-list; empty means DefaultAlgorithms.
	Algorithms []string
	// Leeway is the tolerated clock skew; zero means DefaultLeeway.
	Leeway time.Duration
	// AudienceHint is added to the refusal and the log line of an
	// audience mismatch: what the operator must change at the identity
	// provider.
	AudienceHint string
	// IssuerAlias, when set, is the issuer of the identities this
	// verifier emits instead of Issuer: the embedded authorization
	// server's issuer is its public URL, which changes when the server
	// moves, while its users must stay the same users.
	IssuerAlias string
	// Revoked, when set, is asked about every token that passed every
	// other check, by its "jti" (then required) and its "sub"; true
	// refuses the token as revoked, and an error that is
	// ErrAccountDisabled refuses it because its account was disabled.
	Revoked func(ctx context.Context, jti, subject string) (bool, error)
	// CacheSize bounds the verified-token cache (tokencache.go): zero
	// means DefaultTokenCacheSize, a negative size turns it off.
	CacheSize int
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// JWTVerifier verifies signed JWT access tokens completely: signature with
// a key of the issuer, "alg" from the allow-list, "iss", "aud", "exp"
// (required), "nbf", "iat", "sub" (required) and, with a Revoked hook,
// "jti" (required) against the revocations.
//
// A verified token is kept (by its SHA-256) until its exp, so that the
// next request with it skips the parse and the signature; a hit still
// checks exp, nbf and iat against the clock, the audience against the
// request, that the key which verified the signature is still one of
// the issuer's, and the Revoked hook.
type JWTVerifier struct {
	cfg    JWTConfig
	parser *jwt.Parser
	cache  *tokenCache // nil when JWTConfig.CacheSize < 0
}

// NewJWTVerifier checks cfg and returns the verifier.
func NewJWTVerifier(cfg JWTConfig) (*JWTVerifier, error) {
	if cfg.Issuer == "" || cfg.Keys == nil || cfg.Audience == nil {
		return nil, errors.New("JWT verifier needs an issuer, keys and an audience")
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = DefaultAlgorithms
	}
	for _, a := range cfg.Algorithms {
		if !slices.Contains(AsymmetricAlgorithms, a) {
			return nil, fmt.Errorf("signing algorithm %q is not accepted; accepted: %s", a, strings.Join(AsymmetricAlgorithms, ", "))
		}
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	v := &JWTVerifier{
		cfg: cfg,
		parser: jwt.NewParser(
			jwt.WithValidMethods(cfg.Algorithms),
			jwt.WithLeeway(cfg.Leeway),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithTimeFunc(cfg.Now),
		),
	}
	switch {
	case cfg.CacheSize == 0:
		v.cache = newTokenCache(DefaultTokenCacheSize)
	case cfg.CacheSize > 0:
		v.cache = newTokenCache(cfg.CacheSize)
	}
	return v, nil
}

// accessClaims are the claims read from an access token. Scopes come as
// RFC 9068 "scope" (a space-separated string) or "scp" (a list, or a
// string, depending on the provider).
type accessClaims struct {
	jwt.RegisteredClaims
	Scope         json.RawMessage `json:"scope,omitempty"`
	Scp           json.RawMessage `json:"scp,omitempty"`
	Email         string          `json:"email,omitempty"`
	EmailVerified json.RawMessage `json:"email_verified,omitempty"`
	Name          string          `json:"name,omitempty"`
	ClientID      string          `json:"client_id,omitempty"`
	AZP           string          `json:"azp,omitempty"`
}

// Verify implements Verifier.
func (v *JWTVerifier) Verify(ctx context.Context, token string, r *http.Request) (*sdkauth.TokenInfo, error) {
	switch strings.Count(token, ".") {
	case 2:
	case 4:
		return nil, invalidToken(nil, "the token is encrypted (JWE); this server accepts only signed JWT access tokens").because(ReasonMalformed)
	default:
		return nil, invalidToken(nil, "the token is not a JWT; this server accepts signed JWT access tokens from %s", v.cfg.Issuer).because(ReasonMalformed)
	}
	var key tokenKey
	if v.cache != nil {
		key = tokenKeyOf(token)
		if info, e, ok := v.verifyCached(ctx, key, r); ok {
			if e != nil {
				return nil, e
			}
			return info, nil
		}
	}
	if e := v.checkHeader(token); e != nil {
		return nil, e
	}
	var claims accessClaims
	var usedKey any
	keyfunc := v.cfg.Keys.KeyfuncCtx(ctx)
	parsed, err := v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		k, err := keyfunc(t)
		usedKey = k
		return k, err
	})
	if err != nil {
		return nil, v.parseError(err, &claims)
	}
	if claims.Issuer != v.cfg.Issuer {
		return nil, invalidToken(nil, "the token was issued by %q, not by this server's authorization server %q", claims.Issuer, v.cfg.Issuer).because(ReasonWrongIssuer)
	}
	if !v.audienceOK(r, claims.Audience) {
		return nil, v.audienceError(r, claims.Audience)
	}
	if claims.Subject == "" {
		return nil, invalidToken(nil, "the token has no subject (sub)").because(ReasonMalformed)
	}
	scopes, err := parseScopes(claims.Scope, claims.Scp)
	if err != nil {
		return nil, invalidToken(err, "the token's scope claim is malformed").because(ReasonMalformed)
	}
	if e := v.checkRevoked(ctx, claims.ID, claims.Subject); e != nil {
		return nil, e
	}
	id := domain.Identity{
		Issuer:  cmp.Or(v.cfg.IssuerAlias, claims.Issuer),
		Subject: claims.Subject,
		Email:   claims.Email,
		Name:    claims.Name,
	}
	if claims.Email != "" {
		id.EmailVerified = parseBoolClaim(claims.EmailVerified)
	}
	extra := map[string]any{ExtraIdentity: id, ExtraKind: KindJWT}
	if c := cmp.Or(claims.ClientID, claims.AZP); c != "" {
		extra[ExtraClientID] = c
	}
	info := &sdkauth.TokenInfo{
		Scopes:     slices.Clip(scopes),
		Expiration: claims.ExpiresAt.Time,
		UserID:     UserKey(id.Issuer, id.Subject),
		Extra:      extra,
	}
	if v.cache != nil {
		v.remember(key, parsed, usedKey, &claims, info)
	}
	return info, nil
}

// verifyCached answers for a token verified before: ok is false when
// the token is not in the cache (or its key changed), and the full
// verification must run.
func (v *JWTVerifier) verifyCached(ctx context.Context, key tokenKey, r *http.Request) (_ *sdkauth.TokenInfo, _ *Error, ok bool) {
	now := v.cfg.Now()
	t := v.cache.get(key, now)
	if t == nil {
		return nil, nil, false
	}
	// The cache drops an entry at its exp; nbf and iat were in the past
	// (within the leeway) when it was verified, and are checked again so
	// that a clock that moved back cannot make them otherwise.
	if (t.notBefore != nil && now.Before(t.notBefore.Add(-v.cfg.Leeway))) ||
		(t.issuedAt != nil && now.Before(t.issuedAt.Add(-v.cfg.Leeway))) {
		v.cache.remove(key)
		return nil, nil, false
	}
	// A key the issuer no longer publishes must stop verifying at once,
	// as it would without the cache.
	k, err := v.cfg.Keys.KeyfuncCtx(ctx)(t.keyToken)
	if err != nil || !sameKey(k, t.key) {
		v.cache.remove(key)
		return nil, nil, false
	}
	if !v.audienceOK(r, t.audience) {
		return nil, v.audienceError(r, t.audience), true
	}
	if e := v.checkRevoked(ctx, t.jti, cachedSubject(t.info)); e != nil {
		return nil, e, true
	}
	return t.info, nil, true
}

// remember caches a token that passed every check.
func (v *JWTVerifier) remember(key tokenKey, parsed *jwt.Token, usedKey any, c *accessClaims, info *sdkauth.TokenInfo) {
	if parsed == nil || usedKey == nil || c.ExpiresAt == nil {
		return
	}
	if _, isSet := usedKey.(jwt.VerificationKeySet); isSet {
		return // which key of the set verified is unknown
	}
	t := &verifiedToken{
		expires:  c.ExpiresAt.Time,
		audience: c.Audience,
		jti:      c.ID,
		keyToken: &jwt.Token{Header: parsed.Header, Method: parsed.Method},
		key:      usedKey,
		info:     info,
	}
	if c.NotBefore != nil {
		t.notBefore = &c.NotBefore.Time
	}
	if c.IssuedAt != nil {
		t.issuedAt = &c.IssuedAt.Time
	}
	v.cache.put(key, t, v.cfg.Now())
}

// sameKey reports whether a and b are the same public key.
func sameKey(a, b any) bool {
	if eq, ok := a.(interface{ Equal(crypto.PublicKey) bool }); ok {
		return eq.Equal(b)
	}
	return false
}

// ErrAccountDisabled is what a Revoked hook returns (wrapped or not)
// for a token whose account is disabled: it is refused at once, with a
// description that says so.
var ErrAccountDisabled = errors.New("the account is disabled")

// cachedSubject is the subject of a cached token's identity.
func cachedSubject(info *sdkauth.TokenInfo) string {
	id, _ := info.Extra[ExtraIdentity].(domain.Identity)
	return id.Subject
}

// checkRevoked asks the Revoked hook, if any, about the token with id jti
// and subject sub.
func (v *JWTVerifier) checkRevoked(ctx context.Context, jti, subject string) *Error {
	if v.cfg.Revoked == nil {
		return nil
	}
	if jti == "" {
		return invalidToken(nil, "the token has no id (jti), so whether it was revoked cannot be checked").because(ReasonMalformed)
	}
	revoked, err := v.cfg.Revoked(ctx, jti, subject)
	if errors.Is(err, ErrAccountDisabled) {
		return invalidToken(nil, "the account is disabled")
	}
	if errors.Is(err, domain.ErrUnavailable) {
		// The token may well be good: refusing it as invalid would send
		// the client to sign in again over a database restart.
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeTemporarilyUnavailable, Err: err, Reason: ReasonRevoked,
			Description: "the database is unavailable, so the token cannot be checked now; retry in a few seconds"}
	}
	if err != nil {
		return invalidToken(err, "whether the token was revoked could not be checked").because(ReasonRevoked)
	}
	if revoked {
		return invalidToken(nil, "the token was revoked").because(ReasonRevoked)
	}
	return nil
}

// checkHeader refuses, with a precise message, the algorithms that must
// never be accepted, before any key is looked up.
func (v *JWTVerifier) checkHeader(token string) *Error {
	var claims jwt.MapClaims
	t, _, err := jwt.NewParser().ParseUnverified(token, &claims)
	if err != nil {
		return invalidToken(err, "the token is malformed (not base64url-encoded JSON)").because(ReasonMalformed)
	}
	alg, _ := t.Header["alg"].(string)
	switch {
	case alg == "" || strings.EqualFold(alg, "none"):
		return invalidToken(nil, "unsigned tokens (alg none) are not accepted").because(ReasonAlgorithm)
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		return invalidToken(nil, "HMAC-signed tokens (alg %s) are not accepted; accepted: %s", alg, strings.Join(v.cfg.Algorithms, ", ")).because(ReasonAlgorithm)
	case !slices.Contains(v.cfg.Algorithms, alg):
		return invalidToken(nil, "signing algorithm %s is not accepted; accepted: %s", alg, strings.Join(v.cfg.Algorithms, ", ")).because(ReasonAlgorithm)
	}
	return nil
}

// parseError turns a jwt error into the refusal a client can act on.
func (v *JWTVerifier) parseError(err error, c *accessClaims) *Error {
	switch {
	case errors.Is(err, jwkset.ErrKeyNotFound):
		return invalidToken(err, "the token's signing key is not among %s's published keys", v.cfg.Issuer).because(ReasonUnknownKey)
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return invalidToken(err, "the token's signing key could not be obtained from %s", v.cfg.Issuer).because(ReasonKeysUnavailable)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return invalidToken(err, "the token's signature does not verify with %s's key", v.cfg.Issuer).because(ReasonBadSignature)
	case errors.Is(err, jwt.ErrTokenMalformed):
		return invalidToken(err, "the token is malformed").because(ReasonMalformed)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return invalidToken(err, "the token has no expiry (exp)").because(ReasonMalformed)
	case errors.Is(err, jwt.ErrTokenExpired):
		return invalidToken(err, "the token expired at %s", timeOf(c.ExpiresAt)).because(ReasonExpired)
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return invalidToken(err, "the token is not valid before %s", timeOf(c.NotBefore)).because(ReasonNotYetValid)
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return invalidToken(err, "the token is issued in the future (iat %s)", timeOf(c.IssuedAt)).because(ReasonNotYetValid)
	}
	return invalidToken(err, "the token is invalid")
}

// audienceError is the refusal of a token for another audience.
func (v *JWTVerifier) audienceError(r *http.Request, aud jwt.ClaimStrings) *Error {
	want := v.cfg.Audience.Expected(r)
	e := invalidToken(nil, "the token's audience %s is not this server (%s)", quoteList(aud), want).because(ReasonWrongAudience)
	if v.cfg.AudienceHint != "" {
		e.Description += "; " + v.cfg.AudienceHint
	}
	e.Log = v.cfg.AudienceHint
	v.cfg.Logger.Warn("token refused: audience mismatch", "got_audience", []string(aud), "expected_audience", want, "fix", v.cfg.AudienceHint)
	return e
}

func (v *JWTVerifier) audienceOK(r *http.Request, aud jwt.ClaimStrings) bool {
	for _, a := range aud {
		if v.cfg.Audience.Accepts(r, a) {
			return true
		}
	}
	return false
}

// parseScopes reads "scope" (space-separated string, or a list) and "scp"
// (list or string).
func parseScopes(claims ...json.RawMessage) ([]string, error) {
	var out []string
	for _, raw := range claims {
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			out = append(out, strings.Fields(s)...)
			continue
		}
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, errors.New("scope is neither a string nor a list of strings")
		}
		out = append(out, list...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// parseBoolClaim accepts true and "true": some providers send strings.
func parseBoolClaim(raw json.RawMessage) bool {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b
	}
	var s string
	return json.Unmarshal(raw, &s) == nil && strings.EqualFold(s, "true")
}

func timeOf(d *jwt.NumericDate) string {
	if d == nil {
		return "(unknown)"
	}
	return d.UTC().Format(time.RFC3339)
}

func quoteList(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = "'" + s + "'"
	}
	return strings.Join(q, ", ")
}
