package main

import (
	"testing"

	"github.com/atomcp/atomcp/internal/config"
)

func TestResourceMatcher(t *testing.T) {
	def := &config.Config{BaseURL: "http://127.0.0.1:8000", MCPPath: "/api/mcp", Sources: map[string]string{config.KeyBaseURL: "default"}}
	set := &config.Config{BaseURL: "https://atoms.example.com", MCPPath: "/api/mcp", Sources: map[string]string{config.KeyBaseURL: "ATOMCP_BASE_URL"}}
	tests := []struct {
		cfg  *config.Config
		res  string
		want bool
	}{
		{def, "http://127.0.0.1:8000/api/mcp", true},
		{def, "http://127.0.0.1:8000/api/mcp/", true},
		{def, "http://localhost:8000/api/mcp", true},
		{def, "http://[::1]:8000/api/mcp", true},
		{def, "http://localhost:8001/api/mcp", false},
		{def, "http://localhost:8000/other", false},
		{def, "https://localhost:8000/api/mcp", false},
		{def, "http://evil.example:8000/api/mcp", false},
		// the same loopback names the resource server's audience check
		// accepts (netaddr.IsLoopbackHost)
		{def, "http://LOCALHOST:8000/api/mcp", true},
		{def, "http://app.localhost:8000/api/mcp", true},
		{def, "http://localhost.:8000/api/mcp", true},
		{def, "http://localhost.example:8000/api/mcp", false},
		{def, "http://0.0.0.0:8000/api/mcp", false},
		{set, "https://atoms.example.com/api/mcp", true},
		{set, "http://localhost:8000/api/mcp", false},
		{set, "https://atoms.example.com/api/mcp?x=1", false},
	}
	for _, tc := range tests {
		if got := resourceMatcher(tc.cfg)(tc.res); got != tc.want {
			t.Errorf("base %s: resource %q accepted = %v; want %v", tc.cfg.BaseURL, tc.res, got, tc.want)
		}
	}
}
