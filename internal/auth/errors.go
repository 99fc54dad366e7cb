package auth

import (
	"fmt"
	"net/http"
	"strings"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
)

// RFC 6750 error codes.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
	// CodeTemporarilyUnavailable (RFC 6749 section 4.1.2.1's name) is a
	// 503: the token could not be checked because the database is down.
	CodeTemporarilyUnavailable = "temporarily_unavailable"
)

// Reasons of a bearer check, as the metrics count them
// (atomcp_auth_requests_total{reason}): ReasonOK, or why the request was
// refused. They are a fixed list, never text from the token.
const (
	ReasonOK                = "ok"
	ReasonMissingToken      = "missing_token"      // no Authorization header, or not Bearer
	ReasonInvalidRequest    = "invalid_request"    // token in the URL, two headers, unreadable body
	ReasonMalformed         = "malformed"          // not a JWT, bad encoding, missing claims
	ReasonAlgorithm         = "algorithm"          // alg none, HMAC or not accepted
	ReasonUnknownKey        = "unknown_key"        // kid not among the issuer's keys
	ReasonKeysUnavailable   = "keys_unavailable"   // the issuer's keys could not be fetched
	ReasonBadSignature      = "bad_signature"      // signature does not verify
	ReasonExpired           = "expired"            // exp passed
	ReasonNotYetValid       = "not_yet_valid"      // nbf or iat in the future
	ReasonWrongIssuer       = "wrong_issuer"       // iss is another server
	ReasonWrongAudience     = "wrong_audience"     // aud is not this server
	ReasonRevoked           = "revoked"            // on the deny-list, or the check failed
	ReasonInsufficientScope = "insufficient_scope" // a required or tool scope is missing
	ReasonInvalidToken      = "invalid_token"      // any other refused token
)

// Reasons lists every Reason* value, for the metrics' fixed label list.
func Reasons() []string {
	return []string{ReasonOK, ReasonMissingToken, ReasonInvalidRequest, ReasonMalformed, ReasonAlgorithm,
		ReasonUnknownKey, ReasonKeysUnavailable, ReasonBadSignature, ReasonExpired, ReasonNotYetValid,
		ReasonWrongIssuer, ReasonWrongAudience, ReasonRevoked, ReasonInsufficientScope, ReasonInvalidToken}
}

// Error is a refused request: what the client is told (status, RFC 6750
// error code and a description that never contains the token) and what
// only the log sees (Log and the wrapped cause).
type Error struct {
	Status      int    // 400, 401, 403, or 503 when the token could not be checked
	Code        string // one of the Code* constants
	Description string // shown to the client in error_description
	// Scopes are the scopes the client should ask for, for a 403
	// insufficient_scope.
	Scopes []string
	// Log is extra detail for the server log only, such as the fix an
	// operator must make at the identity provider.
	Log string
	Err error // cause, for the log only
	// Reason is one of the Reason* constants; empty means the one
	// Status and Code imply (see reason).
	Reason string
}

// reason is e's Reason, or the one its status and code imply.
func (e *Error) reason() string {
	switch {
	case e.Reason != "":
		return e.Reason
	case e.Code == CodeInsufficientScope:
		return ReasonInsufficientScope
	case e.Code == CodeInvalidRequest:
		return ReasonInvalidRequest
	case e.Code == "":
		return ReasonMissingToken
	}
	return ReasonInvalidToken
}

// because sets the reason of a refusal and returns it.
func (e *Error) because(reason string) *Error {
	e.Reason = reason
	return e
}

func (e *Error) Error() string {
	s := e.Code + ": " + e.Description
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes a 401 match go-sdk's auth.ErrInvalidToken, so that a Verifier
// handed to go-sdk's own RequireBearerToken answers 401 rather than 500.
func (e *Error) Is(target error) bool {
	return target == sdkauth.ErrInvalidToken && e.Status == http.StatusUnauthorized
}

// invalidToken is the 401 for a token that cannot be accepted.
func invalidToken(cause error, format string, args ...any) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: fmt.Sprintf(format, args...), Err: cause}
}

// sanitizeDescription keeps only what RFC 6750 section 3 allows in
// error_description (printable ASCII without '"' and '\'), so that a
// value taken from a token cannot break the header.
func sanitizeDescription(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteByte('\'')
		case r == '\\':
			b.WriteByte('/')
		case r >= 0x20 && r <= 0x7e:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	const max = 400
	if b.Len() > max {
		return b.String()[:max] + "..."
	}
	return b.String()
}
