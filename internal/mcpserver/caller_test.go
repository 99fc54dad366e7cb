package mcpserver

import (
	"context"
	"testing"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/auth"
)

func TestTokenCaller(t *testing.T) {
	info := &sdkauth.TokenInfo{UserID: "https://x.authkit.app#user_1", Extra: map[string]any{
		auth.ExtraIssuer: "https://x.authkit.app", auth.ExtraSubject: "user_1",
		auth.ExtraEmail: "ada@example.com", auth.ExtraEmailVerified: true, auth.ExtraName: "Ada",
	}}
	got, err := TokenCaller(context.Background(), &mcp.CallToolRequest{Extra: &mcp.RequestExtra{TokenInfo: info}})
	want := atoms.Caller{Issuer: "https://x.authkit.app", Subject: "user_1", Email: "ada@example.com", EmailVerified: true, Name: "Ada"}
	if err != nil || got != want {
		t.Fatalf("TokenCaller = %+v, %v; want %+v", got, err, want)
	}
	for _, req := range []*mcp.CallToolRequest{
		{},
		{Extra: &mcp.RequestExtra{}},
		{Extra: &mcp.RequestExtra{TokenInfo: &sdkauth.TokenInfo{Extra: map[string]any{auth.ExtraSubject: "no issuer"}}}},
	} {
		if _, err := TokenCaller(context.Background(), req); err == nil {
			t.Errorf("TokenCaller accepted %+v", req.Extra)
		}
	}
}

func TestStableIssuerKeepsEmbeddedUsersAcrossBaseURLs(t *testing.T) {
	for _, base := range []string{"http://127.0.0.1:8000", "https://atoms.example.com"} {
		inner := func(context.Context, *mcp.CallToolRequest) (atoms.Caller, error) {
			return atoms.Caller{Issuer: base, Subject: "acct-1"}, nil
		}
		c, err := StableIssuer(inner, base)(context.Background(), nil)
		if err != nil || c.Issuer != EmbeddedIssuer || c.Subject != "acct-1" {
			t.Fatalf("base %s: caller %+v, %v", base, c, err)
		}
	}
	other := func(context.Context, *mcp.CallToolRequest) (atoms.Caller, error) {
		return atoms.Caller{Issuer: "https://idp.example.com", Subject: "x"}, nil
	}
	if c, _ := StableIssuer(other, "http://127.0.0.1:8000")(context.Background(), nil); c.Issuer != "https://idp.example.com" {
		t.Fatalf("a foreign issuer was renamed: %+v", c)
	}
}
