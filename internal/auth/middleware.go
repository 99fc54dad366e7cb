package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
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
	// tools/call names (only when Tools is enabled).
	MaxBodyBytes int64
	// Leeway is passed to go-sdk, which checks expiry once more.
	Leeway time.Duration
	Logger *slog.Logger
}

// Middleware is the bearer check in front of the MCP endpoint. Unlike
// go-sdk's auth.RequireBearerToken, whose TokenInfo it still installs, it
// sends RFC 6750 error codes and descriptions, never answers 500 for a bad
// token, and answers 403 insufficient_scope both for missing required
// scopes and for a tools/call whose tool needs a scope the token lacks.
type Middleware struct {
	o MiddlewareOptions
	// install puts the verified TokenInfo where go-sdk's handler looks
	// for it; go-sdk offers no other way to set it.
	install func(http.Handler) http.Handler
}

type verifiedKey struct{}

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
		if info, ok := r.Context().Value(verifiedKey{}).(*sdkauth.TokenInfo); ok {
			return info, nil
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

// Wrap returns next behind the bearer check.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	installed := m.install(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			// Preflights are answered by the CORS layer before this;
			// anything else gets the MCP handler's 405.
			next.ServeHTTP(w, r)
			return
		}
		metaURL, err := m.o.Public.MetadataURL(r)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "base_url_required", "message": err.Error()})
			return
		}
		info, e := m.authenticate(r)
		if e == nil {
			e = m.checkScopes(w, r, info)
		}
		if e != nil {
			m.refuse(w, r, e, metaURL, info)
			return
		}
		ctx := context.WithValue(r.Context(), verifiedKey{}, info)
		installed.ServeHTTP(w, r.WithContext(ctx))
	})
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

// checkScopes applies the required scopes and, for tools/call, the tool's
// scope.
func (m *Middleware) checkScopes(w http.ResponseWriter, r *http.Request, info *sdkauth.TokenInfo) *Error {
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
	if !m.o.Tools.Enabled() || r.Method != http.MethodPost {
		return nil
	}
	calls, err := m.toolCalls(w, r)
	if err != nil {
		return err
	}
	var need []string
	var what []string
	for _, c := range calls {
		s := m.o.Tools.scopeFor(ToolAccess(c.tool, c.operation))
		if s != "" && !slices.Contains(info.Scopes, s) {
			if !slices.Contains(need, s) {
				need = append(need, s)
			}
			what = append(what, c.String())
		}
	}
	if len(need) == 0 {
		return nil
	}
	// RFC 6750 and the MCP spec's recommended approach: ask for what the
	// call needs plus what the token already has that this server uses,
	// so that stepping up does not lose earlier grants.
	scopes := slices.Clone(m.o.RequiredScopes)
	for _, s := range []string{m.o.Tools.Read, m.o.Tools.Write} {
		if s != "" && (slices.Contains(info.Scopes, s) || slices.Contains(need, s)) && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	return &Error{Status: http.StatusForbidden, Code: CodeInsufficientScope, Scopes: scopes,
		Description: strings.Join(what, ", ") + " needs the scope " + strings.Join(need, " ")}
}

type toolCall struct{ tool, operation string }

func (c toolCall) String() string {
	if c.operation == "" {
		return c.tool
	}
	return c.tool + " " + c.operation
}

// toolCalls reads the body (putting it back for the MCP handler) and
// returns the tools/call requests in it. A body that is not JSON-RPC is
// left to the MCP handler to refuse.
func (m *Middleware) toolCalls(w http.ResponseWriter, r *http.Request) ([]toolCall, *Error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, m.o.MaxBodyBytes))
	r.Body = io.NopCloser(bytes.NewReader(body))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeInvalidRequest, Description: "the request body is larger than ATOMCP_MAX_BODY_BYTES"}
	}
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: "the request body could not be read"}
	}
	type message struct {
		Method string `json:"method"`
		Params struct {
			Name      string `json:"name"`
			Arguments struct {
				Operation any `json:"operation"`
			} `json:"arguments"`
		} `json:"params"`
	}
	var msgs []message
	body = bytes.TrimSpace(body)
	if bytes.HasPrefix(body, []byte("[")) {
		if json.Unmarshal(body, &msgs) != nil {
			return nil, nil
		}
	} else {
		var one message
		if json.Unmarshal(body, &one) != nil {
			return nil, nil
		}
		msgs = []message{one}
	}
	var out []toolCall
	for _, msg := range msgs {
		if msg.Method == "tools/call" {
			op, _ := msg.Params.Arguments.Operation.(string)
			out = append(out, toolCall{tool: msg.Params.Name, operation: op})
		}
	}
	return out, nil
}

// refuse writes the challenge and logs the refusal (never the token).
func (m *Middleware) refuse(w http.ResponseWriter, r *http.Request, e *Error, metaURL string, info *sdkauth.TokenInfo) {
	scopes := e.Scopes
	if scopes == nil && e.Status != http.StatusForbidden {
		scopes = m.ChallengeScopes()
	}
	attrs := []any{"status", e.Status, "error", e.Code, "reason", e.Description, "path", r.URL.Path, "remote", r.RemoteAddr}
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
	writeChallenge(w, e, metaURL, scopes)
}
