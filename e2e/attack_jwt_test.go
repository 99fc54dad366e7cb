//go:build attack

package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/atomcp/atomcp/internal/auth/authtest"
	"github.com/atomcp/atomcp/internal/secretkey"
)

// signingKey reads the server's signing key for kid from its database
// and opens it with the key file beside it: what only the server has,
// so that a forged token fails for the one reason each case names.
func (a *attackServer) signingKey(t *testing.T, kid string) *ecdsa.PrivateKey {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+a.db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var sealed []byte
	if err := db.QueryRowContext(t.Context(), `SELECT private_key FROM oauth_signing_keys WHERE id = ?`, kid).Scan(&sealed); err != nil {
		t.Fatalf("signing key %s: %v", kid, err)
	}
	kek, _, err := secretkey.Load("", "", a.db, false)
	if err != nil {
		t.Fatal(err)
	}
	der, err := kek.Open(sealed, []byte(kid))
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*ecdsa.PrivateKey)
}

// jwtParts decodes a JWT's header and claims.
func jwtParts(t *testing.T, tok string) (map[string]any, jwt.MapClaims) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.10q…", tok)
	}
	var h map[string]any
	var c jwt.MapClaims
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(hb, &h) != nil || json.Unmarshal(cb, &c) != nil {
		t.Fatal("cannot decode the token")
	}
	return h, c
}

var patID = regexp.MustCompile(`(?m)^created personal access token (\S+) for`)
var patToken = regexp.MustCompile(`(?m)^token: (\S+)$`)

func TestAttackJWT(t *testing.T) {
	a := newAttackServer(t)
	header, claims := jwtParts(t, a.alicePAT)
	kid, _ := header["kid"].(string)
	key := a.signingKey(t, kid)
	now := time.Now()
	// sign signs the PAT's claims, changed by set (nil deletes), with a
	// new id, as the server would.
	sign := func(method jwt.SigningMethod, kid string, k any, set map[string]any) string {
		c := jwt.MapClaims{}
		for n, v := range claims {
			c[n] = v
		}
		c["jti"] = uuid.NewString()
		c["iat"] = now.Unix()
		c["exp"] = now.Add(time.Hour).Unix()
		for n, v := range set {
			if v == nil {
				delete(c, n)
			} else {
				c[n] = v
			}
		}
		tok := jwt.NewWithClaims(method, c)
		tok.Header["kid"] = kid
		tok.Header["typ"] = "at+jwt"
		s, err := tok.SignedString(k)
		if err != nil {
			t.Fatalf("sign %s: %v", method.Alg(), err)
		}
		a.secrets = append(a.secrets, s)
		return s
	}
	es := func(set map[string]any) string { return sign(jwt.SigningMethodES256, kid, key, set) }

	// The control: a forgery with the real key and the PAT's claims is
	// accepted, so each refusal below is for the one thing changed.
	if st, _, body := postJSONRPC(t, a.URL, es(nil), initializeBody); st != 200 {
		t.Fatalf("control forgery with the server's own key: %d %s", st, body)
	}

	// The public key of the JWKS, as PEM, for the HS256 confusion.
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	resp, err := http.Get(a.Base + "/oauth/jwks")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&jwks)
	resp.Body.Close()
	jwksJSON, _ := json.Marshal(jwks)
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	// Another instance: its own database and keys, but this server's URL
	// as issuer and resource.
	o := newAttackServer(t)
	otherOut := o.admin(t, "", "tokens", "create", "--user", "alice@example.com", "--base-url", a.Base, "--quiet")
	otherPAT := strings.TrimSpace(otherOut)
	a.secrets = append(a.secrets, otherPAT)

	// A PAT that is then revoked, and Bob's tokens before he is disabled.
	out := a.admin(t, "", "tokens", "create", "--user", "alice@example.com", "--name", "to revoke")
	revoked, id := patToken.FindStringSubmatch(out), patID.FindStringSubmatch(out)
	if revoked == nil || id == nil {
		t.Fatalf("tokens create printed:\n%s", out)
	}
	a.secrets = append(a.secrets, revoked[1])
	if st, _, _ := postJSONRPC(t, a.URL, revoked[1], initializeBody); st != 200 {
		t.Fatalf("the PAT before revocation: %d", st)
	}
	a.admin(t, "", "tokens", "revoke", id[1])
	bobHeader, bobClaims := jwtParts(t, a.bobPAT)
	if st, _, _ := postJSONRPC(t, a.URL, a.bobPAT, initializeBody); st != 200 {
		t.Fatalf("Bob's PAT before he is disabled: %d", st)
	}
	bobForged := func() string {
		c := jwt.MapClaims{}
		for n, v := range bobClaims {
			c[n] = v
		}
		c["jti"] = uuid.NewString()
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
		tok.Header["kid"], tok.Header["typ"] = bobHeader["kid"], "at+jwt"
		s, _ := tok.SignedString(a.signingKey(t, bobHeader["kid"].(string)))
		a.secrets = append(a.secrets, s)
		return s
	}()
	a.admin(t, "", "users", "disable", "bob@example.com")

	parts := strings.Split(a.alicePAT, ".")
	cases := []struct {
		name  string
		token string
		query string // instead of the header
		want  int
		desc  string // in the challenge's error_description, if set
	}{
		{"alg none", authtest.Sign(t, jwt.SigningMethodNone, kid, jwt.UnsafeAllowNoneSignatureType, claims), "", 401, ""},
		{"alg none, header edited", "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0." + parts[1] + ".", "", 401, ""},
		{"HS256 with the public key (PEM)", sign(jwt.SigningMethodHS256, kid, pubPEM, nil), "", 401, ""},
		{"HS256 with the JWKS document", sign(jwt.SigningMethodHS256, kid, jwksJSON, nil), "", 401, ""},
		{"expired", es(map[string]any{"exp": now.Add(-time.Hour).Unix(), "iat": now.Add(-2 * time.Hour).Unix()}), "", 401, "expired"},
		{"no exp", es(map[string]any{"exp": nil}), "", 401, ""},
		{"future nbf", es(map[string]any{"nbf": now.Add(time.Hour).Unix()}), "", 401, ""},
		{"wrong iss", es(map[string]any{"iss": "https://evil.example"}), "", 401, ""},
		{"wrong aud", es(map[string]any{"aud": "https://mcp.evil.example/api/mcp"}), "", 401, ""},
		{"no aud", es(map[string]any{"aud": nil}), "", 401, ""},
		{"unknown kid", sign(jwt.SigningMethodES256, "no-such-kid", key, nil), "", 401, ""},
		{"another key under the real kid", sign(jwt.SigningMethodES256, kid, other, nil), "", 401, ""},
		{"another instance's key", otherPAT, "", 401, ""},
		{"signature of another token", parts[0] + "." + strings.Split(es(map[string]any{"sub": "someone-else"}), ".")[1] + "." + parts[2], "", 401, ""},
		{"token in the query string", "", "?access_token=" + a.alicePAT, 401, ""},
		{"revoked PAT", revoked[1], "", 401, "revoked"},
		{"disabled user: PAT", a.bobPAT, "", 401, ""},
		{"disabled user: a token with a new id", bobForged, "", 401, "disabled"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state(t)
			u := a.URL + tc.query
			st, hdr, body := postJSONRPC(t, u, tc.token, initializeBody)
			if tc.query != "" && st == 400 {
				st = 401 // a 400 invalid_request is as good a refusal for a token in the query
			}
			if st != tc.want {
				t.Fatalf("status %d, want %d: %.300s", st, tc.want, body)
			}
			ch := hdr.Get("WWW-Authenticate")
			if tc.token != "" && !strings.Contains(ch, "invalid_token") {
				t.Errorf("challenge %q; want invalid_token", ch)
			}
			if tc.desc != "" && !strings.Contains(ch, tc.desc) {
				t.Errorf("challenge %q; want a description that says %q", ch, tc.desc)
			}
			if strings.Contains(ch, "signing key could not be obtained") {
				t.Errorf("challenge %q misleads", ch)
			}
			a.unchanged(t, before)
		})
	}
	t.Run("no secret in the log", func(t *testing.T) { a.logsClean(t) })
}
