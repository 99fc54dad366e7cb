package oauthclient

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStoreRoundTripAndModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg", "atomcp")
	s, err := OpenStore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := &TokenRecord{ServerURL: "https://mcp.example.com/api/mcp", Issuer: "https://as.example.com", AccessToken: "a", RefreshToken: "r", Expiry: time.Unix(2e9, 0).UTC(), Scopes: []string{"x"}}
	client := &ClientRecord{Issuer: "https://as.example.com", ClientID: "c", ClientSecret: "s", Method: "dynamic"}
	if err := s.SaveToken(tok); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveClient(client); err != nil {
		t.Fatal(err)
	}
	got := s.Token(tok.ServerURL)
	if got == nil || got.AccessToken != "a" || got.RefreshToken != "r" || !got.Expiry.Equal(tok.Expiry) || got.Scopes[0] != "x" {
		t.Fatalf("token round trip: %+v", got)
	}
	if c := s.Client(client.Issuer); c == nil || c.ClientSecret != "s" {
		t.Fatalf("client round trip: %+v", c)
	}
	for _, d := range []string{dir, filepath.Join(dir, "clients"), filepath.Join(dir, "tokens")} {
		assertMode(t, d, 0o700)
	}
	// Different URLs never share a file, even when their readable parts do.
	if fileName("https://a.example/x?y") == fileName("https://a.example/x_y") {
		t.Fatal("file names collide")
	}
	if err := s.DeleteToken(tok.ServerURL); err != nil || s.Token(tok.ServerURL) != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := s.DeleteToken(tok.ServerURL); err != nil {
		t.Fatalf("deleting nothing: %v", err)
	}
}

func TestStoreReportsAndIgnoresBadFiles(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string // in the warning
		usable  bool
	}{
		{"invalid JSON", `{"server_url": "https://mcp.example.com/mcp", "access_token": "SECRETVALUE`, 0o600, "corrupt token cache file", false},
		{"wrong types", `{"server_url": 5}`, 0o600, "wrong type", false},
		{"another server's file", `{"server_url": "https://else.example.com/mcp", "access_token": "t"}`, 0o600, "it is for", false},
		{"readable by others", `{"server_url": "https://mcp.example.com/mcp", "access_token": "t"}`, 0o644, "readable by others", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warns []string
			s, err := OpenStore(filepath.Join(t.TempDir(), "atomcp"), func(err error) { warns = append(warns, err.Error()) })
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(s.Dir(), "tokens", fileName("https://mcp.example.com/mcp"))
			if err := os.WriteFile(path, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(path, tt.mode)
			got := s.Token("https://mcp.example.com/mcp")
			if (got != nil) != tt.usable {
				t.Fatalf("usable = %v; want %v", got != nil, tt.usable)
			}
			if len(warns) != 1 || !strings.Contains(warns[0], tt.want) || !strings.Contains(warns[0], path) {
				t.Fatalf("warnings %q; want one naming %s and saying %q", warns, path, tt.want)
			}
			if strings.Contains(warns[0], "SECRETVALUE") {
				t.Errorf("the warning quotes the file's content: %s", warns[0])
			}
			if tt.usable {
				assertMode(t, path, 0o600)
			}
			// A save replaces the bad file.
			if err := s.SaveToken(&TokenRecord{ServerURL: "https://mcp.example.com/mcp", AccessToken: "new"}); err != nil {
				t.Fatal(err)
			}
			if got := s.Token("https://mcp.example.com/mcp"); got == nil || got.AccessToken != "new" {
				t.Fatalf("after save: %+v", got)
			}
			assertMode(t, path, 0o600)
		})
	}
}

func TestStoreTightensDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var warns []error
	if _, err := OpenStore(dir, func(err error) { warns = append(warns, err) }); err != nil {
		t.Fatal(err)
	}
	assertMode(t, dir, 0o700)
	if len(warns) != 1 {
		t.Fatalf("warnings %v; want one", warns)
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/x/cfg")
	if d, _ := DefaultDir(); d != "/x/cfg/atomcp" {
		t.Fatalf("with XDG_CONFIG_HOME: %s", d)
	}
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("HOME", "/home/u")
	if d, _ := DefaultDir(); d != "/home/u/.config/atomcp" {
		t.Fatalf("without XDG_CONFIG_HOME: %s", d)
	}
}
