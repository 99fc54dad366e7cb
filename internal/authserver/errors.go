package authserver

import (
	"encoding/json"
	"net/http"
)

// oauthError is an error response of RFC 6749 §5.2 (and of RFC 7591
// §3.2.2 for registration): a code a client can branch on and a
// description a person can act on.
type oauthError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func errInvalidRequest(desc string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", desc}
}

func errInvalidClient(desc string) *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", desc}
}

func errInvalidGrant(desc string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_grant", desc}
}

func errInvalidScope(desc string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_scope", desc}
}

func errInvalidTarget(desc string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_target", desc}
}

func errServer() *oauthError {
	return &oauthError{http.StatusInternalServerError, "server_error", "the authorization server failed; try again, and see its log if it persists"}
}

// writeJSON answers with a JSON body that no cache may keep: every
// response of the token, registration and revocation endpoints carries
// credentials or is about them.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with an OAuth error. An invalid_client answer to a
// request that tried HTTP Basic authentication carries the challenge RFC
// 6749 §5.2 asks for.
func writeError(w http.ResponseWriter, r *http.Request, e *oauthError) {
	if e.Status == http.StatusUnauthorized {
		if _, _, ok := r.BasicAuth(); ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="atomcp", charset="UTF-8"`)
		}
	}
	writeJSON(w, e.Status, e)
}
