package auth

import (
	"encoding/json"
	"net/http"
	"strings"
)

// writeChallenge answers a refused request: the RFC 6750 WWW-Authenticate
// challenge (with RFC 9728's resource_metadata and the scopes to ask for)
// and the same facts as a JSON body for people reading it with curl.
func writeChallenge(w http.ResponseWriter, e *Error, metadataURL string, scopes []string) {
	var params []string
	if e.Code != "" {
		params = append(params, `error="`+e.Code+`"`)
		if e.Description != "" {
			params = append(params, `error_description="`+sanitizeDescription(e.Description)+`"`)
		}
	}
	if metadataURL != "" {
		params = append(params, `resource_metadata="`+quoteValue(metadataURL)+`"`)
	}
	if len(scopes) > 0 {
		params = append(params, `scope="`+quoteValue(strings.Join(scopes, " "))+`"`)
	}
	h := w.Header()
	switch {
	case e.Status == http.StatusServiceUnavailable:
		// Not the token's fault: no challenge, and a hint when to retry.
		h.Set("Retry-After", "5")
	case e.Status != http.StatusBadRequest && e.Status != http.StatusUnauthorized && e.Status != http.StatusForbidden:
		// Not a bearer-token problem (413): no challenge.
	case len(params) > 0:
		h.Set("WWW-Authenticate", "Bearer "+strings.Join(params, ", "))
	default:
		h.Set("WWW-Authenticate", "Bearer")
	}
	body := map[string]any{"error": e.Code, "error_description": e.Description}
	if e.Code == "" {
		body["error"] = "unauthorized"
	}
	if len(scopes) > 0 {
		body["scope"] = strings.Join(scopes, " ")
	}
	if metadataURL != "" {
		body["resource_metadata"] = metadataURL
	}
	writeJSON(w, e.Status, body)
}

// quoteValue escapes a quoted-string (RFC 9110 section 5.6.4).
func quoteValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "").Replace(s)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
