package authserver

import (
	"strings"
	"testing"
)

func TestRedirectMatches(t *testing.T) {
	tests := []struct {
		registered []string
		requested  string
		want       bool
	}{
		{[]string{"https://app.example/cb"}, "https://app.example/cb", true},
		{[]string{"https://app.example/cb"}, "https://app.example/cb/", false},
		{[]string{"https://app.example/cb"}, "https://app.example:8443/cb", false},
		{[]string{"https://app.example/cb"}, "https://APP.example/cb", false},
		{[]string{"http://127.0.0.1/callback"}, "http://127.0.0.1:53124/callback", true},
		{[]string{"http://127.0.0.1:3000/callback"}, "http://127.0.0.1:53124/callback", true},
		{[]string{"http://[::1]/cb"}, "http://[::1]:9000/cb", true},
		{[]string{"http://localhost/cb"}, "http://localhost:9000/cb", true},
		{[]string{"http://127.0.0.1/callback"}, "http://localhost:53124/callback", false},
		{[]string{"http://127.0.0.1/callback"}, "http://127.0.0.1:53124/other", false},
		{[]string{"http://127.0.0.1/callback"}, "http://127.0.0.1:53124/callback?x=1", false},
		{[]string{"http://127.0.0.1/callback"}, "https://127.0.0.1:53124/callback", false},
		{[]string{"myapp:/cb"}, "myapp:/cb", true},
		{[]string{"myapp:/cb"}, "myapp:/cb2", false},
	}
	for _, tc := range tests {
		if got := redirectMatches(tc.registered, tc.requested); got != tc.want {
			t.Errorf("redirectMatches(%v, %q) = %v; want %v", tc.registered, tc.requested, got, tc.want)
		}
	}
}

func TestScopes(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"", "atoms:read atoms:write", ""},
		{"  ", "atoms:read atoms:write", ""},
		{"atoms:write atoms:read atoms:write", "atoms:read atoms:write", ""},
		{"atoms:read", "atoms:read", ""},
		{"atoms:read admin", "", "admin"},
	}
	for _, tc := range tests {
		got, err := parseScope(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseScope(%q) error %v; want one naming %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseScope(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
