package oauthclient

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"
)

// Store is the token cache: client registrations per authorization-server
// issuer and tokens per MCP server, as JSON files under one directory
// (by default $XDG_CONFIG_HOME/atomcp, see [DefaultDir]). The directory is
// created 0700 and every file 0600; files are replaced atomically. A file
// that cannot be read or decoded is reported through the warn function and
// treated as absent, so a corrupt cache never stops a login.
type Store struct {
	dir  string
	warn func(error)
}

// ClientRecord is a client registered with (or configured for) one
// authorization server.
type ClientRecord struct {
	Issuer       string `json:"issuer"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	// Method is how the client came to be: "dynamic" (RFC 7591
	// registration), "preregistered" or "metadata-document" (CIMD).
	Method string `json:"method"`
	// RedirectURI is the loopback redirect URI the client was registered
	// with; its port is reused on the next login when none is given.
	RedirectURI string `json:"redirect_uri,omitempty"`
	// AuthStyle is how the client authenticates at the token endpoint
	// (golang.org/x/oauth2 AuthStyle: 0 auto-detect, 1 in the body, 2 HTTP Basic).
	AuthStyle    oauth2.AuthStyle `json:"auth_style"`
	RegisteredAt time.Time        `json:"registered_at"`
}

// TokenRecord is the token of one MCP server, with what is needed to
// refresh it without discovery.
type TokenRecord struct {
	ServerURL     string    `json:"server_url"`
	Resource      string    `json:"resource"`
	Issuer        string    `json:"issuer"`
	TokenEndpoint string    `json:"token_endpoint"`
	ClientID      string    `json:"client_id"`
	Scopes        []string  `json:"scopes,omitempty"`
	AccessToken   string    `json:"access_token"`
	TokenType     string    `json:"token_type,omitempty"`
	RefreshToken  string    `json:"refresh_token,omitempty"`
	Expiry        time.Time `json:"expiry,omitzero"`
	SavedAt       time.Time `json:"saved_at"`
	// DPoPKey is the PKCS #8 PEM private key a DPoP-bound token is bound to.
	DPoPKey string `json:"dpop_key,omitempty"`
}

// Token returns the record's token as an oauth2.Token.
func (r *TokenRecord) Token() *oauth2.Token {
	return &oauth2.Token{AccessToken: r.AccessToken, TokenType: r.TokenType, RefreshToken: r.RefreshToken, Expiry: r.Expiry}
}

// DefaultDir is $XDG_CONFIG_HOME/atomcp, or ~/.config/atomcp when
// XDG_CONFIG_HOME is not set (os.UserConfigDir elsewhere than Linux).
func DefaultDir() (string, error) {
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "atomcp"), nil
	}
	home, err := os.UserHomeDir()
	if err == nil && home != "" && (isUnixLike()) {
		return filepath.Join(home, ".config", "atomcp"), nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the configuration directory for the token cache: %w", err)
	}
	return filepath.Join(dir, "atomcp"), nil
}

func isUnixLike() bool { return filepath.Separator == '/' }

// OpenStore opens (creating it if needed) the token cache in dir. warn,
// if not nil, is told about files that were ignored or repaired.
func OpenStore(dir string, warn func(error)) (*Store, error) {
	if warn == nil {
		warn = func(error) {}
	}
	s := &Store{dir: dir, warn: warn}
	for _, d := range []string{dir, s.sub("clients"), s.sub("tokens")} {
		if err := ensurePrivateDir(d, warn); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Dir is the cache directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) sub(name string) string { return filepath.Join(s.dir, name) }

func ensurePrivateDir(dir string, warn func(error)) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the token cache directory %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("create the token cache directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("the token cache path %s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil { // #nosec G302 -- a directory needs its x bit; 0700 is owner-only
			return fmt.Errorf("make the token cache directory %s private: %w", dir, err)
		}
		warn(fmt.Errorf("the token cache directory %s was readable by others (mode %o); it is now 0700", dir, fi.Mode().Perm()))
	}
	return nil
}

// fileName maps a URL to a readable file name that cannot collide:
// host, port and path characters, then a hash of the whole key.
func fileName(key string) string {
	sum := sha256.Sum256([]byte(key))
	readable := key
	if i := strings.Index(readable, "://"); i >= 0 {
		readable = readable[i+3:]
	}
	var b strings.Builder
	for _, r := range readable {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= 60 {
			break
		}
	}
	return strings.Trim(b.String(), "_") + "-" + hex.EncodeToString(sum[:6]) + ".json"
}

// Client returns the client registered for issuer, or nil.
func (s *Store) Client(issuer string) *ClientRecord {
	var rec ClientRecord
	path := filepath.Join(s.sub("clients"), fileName(issuer))
	if !s.read(path, &rec) {
		return nil
	}
	if rec.Issuer != issuer || rec.ClientID == "" {
		s.warn(fmt.Errorf("ignoring the client registration file %s: it is for issuer %q, not %q, or names no client", path, rec.Issuer, issuer))
		return nil
	}
	return &rec
}

// SaveClient stores rec as the client of rec.Issuer.
func (s *Store) SaveClient(rec *ClientRecord) error {
	return s.write(filepath.Join(s.sub("clients"), fileName(rec.Issuer)), rec)
}

// DeleteClient forgets the client of issuer. Deleting nothing is not an error.
func (s *Store) DeleteClient(issuer string) error {
	return remove(filepath.Join(s.sub("clients"), fileName(issuer)))
}

// Token returns the token stored for the MCP server at serverURL, or nil.
func (s *Store) Token(serverURL string) *TokenRecord {
	var rec TokenRecord
	path := filepath.Join(s.sub("tokens"), fileName(serverURL))
	if !s.read(path, &rec) {
		return nil
	}
	if rec.ServerURL != serverURL || rec.AccessToken == "" {
		s.warn(fmt.Errorf("ignoring the token file %s: it is for %q, not %q, or holds no access token", path, rec.ServerURL, serverURL))
		return nil
	}
	return &rec
}

// SaveToken stores rec as the token of rec.ServerURL.
func (s *Store) SaveToken(rec *TokenRecord) error {
	return s.write(filepath.Join(s.sub("tokens"), fileName(rec.ServerURL)), rec)
}

// DeleteToken forgets the token of serverURL. Deleting nothing is not an error.
func (s *Store) DeleteToken(serverURL string) error {
	return remove(filepath.Join(s.sub("tokens"), fileName(serverURL)))
}

func remove(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// read decodes path into v. It reports false for a missing file, and
// warns and reports false for one it cannot use.
func (s *Store) read(path string, v any) bool {
	data, err := os.ReadFile(path) // #nosec G304 G703 -- the token cache file in the user's own config directory
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil {
		s.warn(fmt.Errorf("ignoring the token cache file %s: %v", path, err))
		return false
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 { // #nosec G703 -- the token cache file in the user's own config directory
		if err := os.Chmod(path, 0o600); err == nil { // #nosec G703 -- the token cache file in the user's own config directory
			s.warn(fmt.Errorf("the token cache file %s was readable by others (mode %o); it is now 0600", path, fi.Mode().Perm()))
		}
	}
	if err := json.Unmarshal(data, v); err != nil {
		s.warn(fmt.Errorf("ignoring the corrupt token cache file %s (%v); logging in again replaces it", path, jsonProblem(err)))
		return false
	}
	return true
}

// jsonProblem describes a decoding error without quoting the file's
// content, which may hold a token.
func jsonProblem(err error) string {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	}
	return "not a cache file"
}

// write replaces path atomically with v as JSON, mode 0600.
func (s *Store) write(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := ensurePrivateDir(dir, s.warn); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("write the token cache in %s: %w", dir, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
