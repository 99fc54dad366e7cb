package authserver

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// No secret that crosses the server reaches its log.
func TestSecretsNotLogged(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	id, secret := h.register(map[string]any{"redirect_uris": []string{testRedirect}})
	code := h.code(id, "alice@example.com", nil)
	verifier, _ := pkce("v")
	r := h.postForm(PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect}, "code_verifier": {verifier}}, id, secret)
	tok := r.json(t)
	page := h.get(h.authorizeURL(id, url.Values{"prompt": {"login"}}))
	h.signIn(page, "alice@example.com", "a wrong password")

	logs := h.logs.String()
	if !strings.Contains(logs, "tokens issued") {
		t.Fatalf("the log is not captured:\n%s", logs)
	}
	for name, s := range map[string]string{
		"client secret": secret, "code": code, "verifier": verifier, "password": testPassword, "wrong password": "a wrong password",
		"access token": tok["access_token"].(string), "refresh token": tok["refresh_token"].(string),
	} {
		if strings.Contains(logs, s) {
			t.Errorf("the %s is in the log", name)
		}
	}
}
