package doctor

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestDiscoveryOrder: the places of the metadata documents, in the order
// of RFC 9728 and of the MCP authorization spec (2025-11-25).
func TestDiscoveryOrder(t *testing.T) {
	for issuer, want := range map[string][]string{
		"https://a.authkit.app":   {"https://a.authkit.app/.well-known/oauth-authorization-server", "https://a.authkit.app/.well-known/openid-configuration"},
		"https://t.eu.auth0.com/": {"https://t.eu.auth0.com/.well-known/oauth-authorization-server", "https://t.eu.auth0.com/.well-known/openid-configuration"},
		"https://sso.example.com/realms/atoms": {
			"https://sso.example.com/.well-known/oauth-authorization-server/realms/atoms",
			"https://sso.example.com/.well-known/openid-configuration/realms/atoms",
			"https://sso.example.com/realms/atoms/.well-known/openid-configuration",
		},
	} {
		if got := asMetadataURLs(issuer); !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", issuer, got, want)
		}
	}
	for raw, want := range map[string][]string{
		"https://mcp.example.com/api/mcp":  {"https://mcp.example.com/.well-known/oauth-protected-resource/api/mcp", "https://mcp.example.com/.well-known/oauth-protected-resource"},
		"https://mcp.example.com/mcp/":     {"https://mcp.example.com/.well-known/oauth-protected-resource/mcp", "https://mcp.example.com/.well-known/oauth-protected-resource"},
		"http://127.0.0.1:8000/":           {"http://127.0.0.1:8000/.well-known/oauth-protected-resource"},
		"https://mcp.example.com:8443/a/b": {"https://mcp.example.com:8443/.well-known/oauth-protected-resource/a/b", "https://mcp.example.com:8443/.well-known/oauth-protected-resource"},
	} {
		u, _ := url.Parse(raw)
		if got := prmURLs(u); !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", raw, got, want)
		}
	}
}

// TestResourceMismatch names each way resource can differ.
func TestResourceMismatch(t *testing.T) {
	mcp, _ := url.Parse("https://mcp.example.com/api/mcp")
	for res, want := range map[string]string{
		"":                                     "no resource",
		"/api/mcp":                             "not an absolute URL",
		"http://mcp.example.com/api/mcp":       "http:// but the server is reached over https://",
		"https://internal:8000/api/mcp":        "another host",
		"https://mcp.example.com:8443/api/mcp": "another port",
		"https://MCP.example.com/api/mcp":      "case of the host",
		"https://mcp.example.com/api/mcp/":     "trailing slash",
		"https://mcp.example.com":              "the path is missing",
		"https://mcp.example.com/mcp":          "another path",
	} {
		title, fix := resourceMismatch(res, mcp)
		if !strings.Contains(title, want) || !strings.Contains(fix, "RFC 9728") {
			t.Errorf("%q: %q / %q; want %q", res, title, fix, want)
		}
	}
}

func TestReadEvents(t *testing.T) {
	stream := "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n" +
		"id: 7\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":2,\n" + "data: \"result\":{}}\n\n" +
		"data: never read\n\n"
	data, tooLarge, err := readEvents(strings.NewReader(stream), 1<<20)
	if err != nil || tooLarge || string(data) != "{\"jsonrpc\":\"2.0\",\"id\":2,\n\"result\":{}}" {
		t.Errorf("%q %v %v", data, tooLarge, err)
	}
	_, tooLarge, _ = readEvents(strings.NewReader("data: "+strings.Repeat("x", 5000)+"\n\n"), 1000)
	if !tooLarge {
		t.Error("an oversized stream is not reported")
	}
}

func TestRedaction(t *testing.T) {
	for in, want := range map[string]string{
		"Bearer eyJhbGciOiJSUzI1NiJ9.payload.signature": "Bearer eyJhbG… (38 chars)",
		"Bearer short":               "Bearer [5 chars]",
		"Basic dXNlcjpwYXNzd29yZA==": "Basic dXNlcj… (20 chars)",
		"tokenwithoutscheme-1234567": "tokenw… (26 chars)",
	} {
		if got := RedactAuthorization(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	h := flatten(map[string][]string{"Authorization": {"Bearer abcdefghijklmnopqrstuvwxyz"}, "Cookie": {"session=secret"}})
	if h["Authorization"] != "Bearer abcdef… (26 chars)" || h["Cookie"] != "[not shown]" {
		t.Errorf("%v", h)
	}
}

func TestWrap(t *testing.T) {
	got := wrap("fix: "+strings.Repeat("word ", 40), "      ", "        ")
	for i, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		if len(line) > 100 || (i == 0 && !strings.HasPrefix(line, "      fix: ")) || (i > 0 && !strings.HasPrefix(line, "        word")) {
			t.Errorf("line %d: %q", i, line)
		}
	}
}
