package storetest

import (
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

var oauthClientTests = []test{
	{"OAuthClientRoundTrip", testOAuthClientRoundTrip},
	{"OAuthClientRevoke", testOAuthClientRevoke},
}

func testOAuthClientRoundTrip(t *testing.T, f *fixture) {
	public := &store.OAuthClient{
		ID: "c-public", Name: "Claude Code", RedirectURIs: []string{"http://127.0.0.1/callback", "http://[::1]/callback"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		TokenEndpointAuthMethod: "none", ApplicationType: "native", Scope: "atoms:read",
		ClientURI: "https://claude.ai", LogoURI: "https://claude.ai/logo.png", Source: "dcr", CreatedAt: f.now(),
	}
	confidential := &store.OAuthClient{
		ID: "c-conf", SecretHash: "abc123", Name: "CI", RedirectURIs: []string{"https://ci.example/cb"},
		GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"},
		TokenEndpointAuthMethod: "client_secret_basic", ApplicationType: "web", Source: "cli", CreatedAt: f.now(),
	}
	for _, c := range []*store.OAuthClient{public, confidential} {
		if err := f.s.CreateOAuthClient(f.ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.GetOAuthClient(f.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameRecord(t, "client "+c.ID, got, c)
	}
	list, err := f.s.ListOAuthClients(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != public.ID || list[1].ID != confidential.ID {
		t.Fatalf("ListOAuthClients = %d clients; want c-public then c-conf", len(list))
	}

	dup := *public
	wantErr(t, f.s.CreateOAuthClient(f.ctx, &dup), domain.ErrConflict)
	_, err = f.s.GetOAuthClient(f.ctx, "nobody")
	wantErr(t, err, domain.ErrNotFound)
	wantErr(t, f.s.CreateOAuthClient(f.ctx, &store.OAuthClient{ID: "x", CreatedAt: f.now()}), domain.ErrInvalid)
}

func testOAuthClientRevoke(t *testing.T, f *fixture) {
	c := &store.OAuthClient{ID: "c1", RedirectURIs: []string{"https://a.example/cb"}, GrantTypes: []string{"authorization_code"},
		ResponseTypes: []string{"code"}, TokenEndpointAuthMethod: "none", Source: "dcr", CreatedAt: f.now()}
	if err := f.s.CreateOAuthClient(f.ctx, c); err != nil {
		t.Fatal(err)
	}
	mine := f.family("fam-mine", "c1", "acct")
	other := f.family("fam-other", "c2", "acct")
	exp := f.now().Add(time.Hour)
	for _, a := range []*store.AccessToken{{JTI: "j-mine", FamilyID: mine.ID, ExpiresAt: exp}, {JTI: "j-other", FamilyID: other.ID, ExpiresAt: exp}} {
		if err := f.s.RecordAccessToken(f.ctx, a); err != nil {
			t.Fatal(err)
		}
	}

	at := f.now()
	if err := f.s.RevokeOAuthClient(f.ctx, "c1", at); err != nil {
		t.Fatal(err)
	}
	got, err := f.s.GetOAuthClient(f.ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if got.RevokedAt == nil || !got.RevokedAt.Equal(at) {
		t.Errorf("RevokedAt = %v; want %v", got.RevokedAt, at)
	}
	// Revoking again keeps the first time.
	if err := f.s.RevokeOAuthClient(f.ctx, "c1", f.now()); err != nil {
		t.Fatal(err)
	}
	if got, _ = f.s.GetOAuthClient(f.ctx, "c1"); !got.RevokedAt.Equal(at) {
		t.Errorf("second revoke moved RevokedAt to %v", got.RevokedAt)
	}
	wantErr(t, f.s.RevokeOAuthClient(f.ctx, "nobody", at), domain.ErrNotFound)

	if fam, _ := f.s.GetTokenFamily(f.ctx, mine.ID); fam.RevokedAt == nil {
		t.Error("the client's token family was not revoked")
	}
	if fam, _ := f.s.GetTokenFamily(f.ctx, other.ID); fam.RevokedAt != nil {
		t.Error("another client's token family was revoked")
	}
	for jti, want := range map[string]bool{"j-mine": true, "j-other": false} {
		denied, err := f.s.AccessTokenDenied(f.ctx, jti)
		if err != nil {
			t.Fatal(err)
		}
		if denied != want {
			t.Errorf("AccessTokenDenied(%s) = %v; want %v", jti, denied, want)
		}
	}
}
