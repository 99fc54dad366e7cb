package auth

// The bearer check verifies the token itself, then hands the TokenInfo to
// go-sdk's RequireBearerToken through the request context (verifiedKey),
// whose verifier only reads it back: go-sdk keeps its TokenInfo context key
// unexported, so its own middleware is the only way to set what
// req.Extra.TokenInfo of a tool call shows.

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
)

// maxTokenBytes bounds a bearer token. Real access tokens are a few KiB;
// anything this long is refused before any parsing.
const maxTokenBytes = 16 << 10

// MiddlewareOptions configures a Middleware.
type MiddlewareOptions struct {
	Verifier Verifier
	Public   *PublicURL
	// RequiredScopes must all be in every token.
	RequiredScopes []string
	// Tools maps tool calls to scopes; a zero policy checks none.
	Tools ScopePolicy
	// MaxBodyBytes bounds the request body read to find which tool a
	// tools/call names (only when Tools is enabled; see peekMCP).
	MaxBodyBytes int64
	// Leeway is passed to go-sdk, which checks expiry once more.
	Leeway time.Duration
	Logger *slog.Logger
	// Observe, when set, is told the outcome of every bearer check:
	// ReasonOK or the refusal's Reason* constant (for metrics and the
	// trace). ctx is the request's.
	Observe func(ctx context.Context, reason string)
}

// Middleware is the bearer check in front of the MCP endpoint. Unlike
// go-sdk's auth.RequireBearerToken, whose TokenInfo it still installs, it
// sends RFC 6750 error codes and descriptions, never answers 500 for a bad
// token, and answers 403 insufficient_scope both for missing required
// scopes and for a tools/call whose tool needs a scope the token lacks.
type Middleware struct {
	o       MiddlewareOptions
	install func(http.Handler) http.Handler
}

// verified is what the bearer check learned about a request, kept in its
// context (under verifiedKey) for the stages after it: one value, so
// that the peek and the scope check add no allocation of their own.
type verified struct {
	// The challenge URL of a later refusal is not kept here: go-sdk
	// keeps the initialize request's context, and so this value, for
	// the session's life; refuse builds the URL from the request.
	info *sdkauth.TokenInfo
	// calls are the tools/call requests of the body, set by peekMCP;
	// one backs them for the usual body of a single call.
	calls []toolCall
	one   [1]toolCall
}

type verifiedKey struct{}

func verifiedOf(ctx context.Context) *verified {
	v, _ := ctx.Value(verifiedKey{}).(*verified)
	return v
}

// NewMiddleware returns the middleware.
func NewMiddleware(o MiddlewareOptions) *Middleware {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 4 << 20
	}
	if o.Leeway == 0 {
		o.Leeway = DefaultLeeway
	}
	m := &Middleware{o: o}
	m.install = sdkauth.RequireBearerToken(func(_ context.Context, _ string, r *http.Request) (*sdkauth.TokenInfo, error) {
		if v := verifiedOf(r.Context()); v != nil {
			return v.info, nil
		}
		return nil, sdkauth.ErrInvalidToken
	}, &sdkauth.RequireBearerTokenOptions{
		// Expiry was checked by the verifier; static tokens have none.
		AllowMissingExpiration: true,
		ClockSkew:              o.Leeway,
	})
	return m
}

// ChallengeScopes are the scopes a 401 asks for: the required ones and
// those of the tools, so that one login is enough for every tool.
func (m *Middleware) ChallengeScopes() []string {
	out := slices.Clone(m.o.RequiredScopes)
	for _, s := range []string{m.o.Tools.Read, m.o.Tools.Write} {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Wrap returns next behind the bearer check: authenticate and check the
// required scopes here; then, when tools have scopes, peek at the body
// (mcpparse.go) and check each tool call's scope (scopecheck.go); then
// hand go-sdk's handler the TokenInfo.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	unchecked := next
	if observe := m.o.Observe; observe != nil {
		// Counted as ok once every check, the tool scopes' too, passed.
		inner := next
		next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			observe(r.Context(), ReasonOK)
			inner.ServeHTTP(w, r)
		})
	}
	h := m.install(withoutToken(next))
	if m.o.Tools.Enabled() {
		h = m.peekMCP(m.requireToolScopes(h))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			// Preflights are answered by the CORS layer before this;
			// anything else gets the MCP handler's 405.
			unchecked.ServeHTTP(w, r)
			return
		}
		// The challenge's URL is built from the public base URL: a
		// request without one cannot be answered properly.
		if _, err := m.o.Public.Base(r); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "base_url_required", "message": err.Error()})
			return
		}
		info, e := m.authenticate(r)
		if e == nil {
			e = m.checkRequiredScopes(info)
		}
		if e != nil {
			m.refuse(w, r, e, info)
			return
		}
		ctx := context.WithValue(r.Context(), verifiedKey{}, &verified{info: info})
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withoutToken hands next the request without its Authorization header,
// which has no use past the bearer check: go-sdk keeps the headers of a
// session's initialize request for the session's life (the token was most
// of what they held: ~700 bytes per idle session) and shows every
// request's headers to tool handlers (RequestExtra.Header).
func withoutToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Header["Authorization"]; !ok {
			next.ServeHTTP(w, r)
			return
		}
		h := make(http.Header, len(r.Header)-1)
		for k, v := range r.Header {
			if k != "Authorization" {
				h[k] = v
			}
		}
		r = r.WithContext(r.Context()) // a shallow copy: the caller's request is not changed
		r.Header = h
		next.ServeHTTP(w, r)
	})
}

// checkRequiredScopes refuses a token that lacks a required scope.
func (m *Middleware) checkRequiredScopes(info *sdkauth.TokenInfo) *Error {
	var missing []string
	for _, s := range m.o.RequiredScopes {
		if !slices.Contains(info.Scopes, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return &Error{Status: http.StatusForbidden, Code: CodeInsufficientScope, Scopes: m.o.RequiredScopes,
			Description: "the token lacks the required scope " + strings.Join(missing, " ")}
	}
	return nil
}

// authenticate finds the bearer token and verifies it.
func (m *Middleware) authenticate(r *http.Request) (*sdkauth.TokenInfo, *Error) {
	if r.URL.Query().Has("access_token") {
		return nil, &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest,
			Description: "access tokens in the URL query are not accepted (URLs end up in logs); send the header Authorization: Bearer <token>"}
	}
	values := r.Header.Values("Authorization")
	switch {
	case len(values) == 0:
		return nil, &Error{Status: http.StatusUnauthorized, Description: "this endpoint needs an OAuth access token: Authorization: Bearer <token>"}
	case len(values) > 1:
		return nil, &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: "more than one Authorization header"}
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		// RFC 6750 section 3.1: no error code when the client did not try
		// the Bearer scheme at all.
		return nil, &Error{Status: http.StatusUnauthorized, Description: "only the Bearer scheme is accepted: Authorization: Bearer <token>"}
	}
	token = strings.TrimSpace(token)
	switch {
	case token == "":
		return nil, invalidToken(nil, "the Authorization header has the Bearer scheme but no token")
	case len(token) > maxTokenBytes:
		return nil, invalidToken(nil, "the token is longer than %d bytes", maxTokenBytes)
	case strings.ContainsAny(token, " \t"):
		return nil, invalidToken(nil, "the token contains spaces")
	}
	info, err := m.o.Verifier.Verify(r.Context(), token, r)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		// A verifier error that is not a refusal (a bug, or an
		// unexpected failure) is still no reason to accept the token,
		// nor to show internals in a 500.
		return nil, invalidToken(err, "the token could not be verified")
	}
	if info == nil {
		return nil, invalidToken(nil, "the token could not be verified")
	}
	return info, nil
}

// refuse writes the challenge and logs the refusal (never the token).
func (m *Middleware) refuse(w http.ResponseWriter, r *http.Request, e *Error, info *sdkauth.TokenInfo) {
	if m.o.Observe != nil {
		m.o.Observe(r.Context(), e.reason())
	}
	scopes := e.Scopes
	if scopes == nil && e.Status != http.StatusForbidden {
		scopes = m.ChallengeScopes()
	}
	attrs := []any{"status", e.Status, "error", e.Code, "reason", e.Description, "reason_code", e.reason(), "path", r.URL.Path, "remote", r.RemoteAddr}
	if e.Err != nil {
		attrs = append(attrs, "cause", e.Err.Error())
	}
	if e.Log != "" {
		attrs = append(attrs, "fix", e.Log)
	}
	if info != nil {
		attrs = append(attrs, "user", info.UserID)
	}
	if e.Code == "" {
		// A request without a token is how every OAuth flow starts.
		m.o.Logger.Debug("request without a bearer token", attrs...)
	} else {
		m.o.Logger.Info("request refused", attrs...)
	}
	metaURL, _ := m.o.Public.MetadataURL(r) // Wrap refused requests it cannot build it for
	writeChallenge(w, e, metaURL, scopes)
}
