package mcpserver

import (
	"context"
	"testing"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/domain"
)

func TestTokenIdentity(t *testing.T) {
	want := atoms.Caller{Issuer: "https://x.authkit.app", Subject: "user_1", Email: "ada@example.com", EmailVerified: true, Name: "Ada"}
	info := &sdkauth.TokenInfo{UserID: "https://x.authkit.app#user_1", Extra: map[string]any{auth.ExtraIdentity: want}}
	got, err := TokenIdentity(context.Background(), &mcp.CallToolRequest{Extra: &mcp.RequestExtra{TokenInfo: info}})
	if err != nil || got != want {
		t.Fatalf("TokenIdentity = %+v, %v; want %+v", got, err, want)
	}
	for _, req := range []*mcp.CallToolRequest{
		{},
		{Extra: &mcp.RequestExtra{}},
		{Extra: &mcp.RequestExtra{TokenInfo: &sdkauth.TokenInfo{Extra: map[string]any{auth.ExtraIdentity: domain.Identity{Subject: "no issuer"}}}}},
	} {
		if _, err := TokenIdentity(context.Background(), req); err == nil {
			t.Errorf("TokenIdentity accepted %+v", req.Extra)
		}
	}
}
