package postgres_test

import (
	"database/sql"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

// TestImportSQLite fills a SQLite store through the store interfaces,
// copies it, and reads everything back from PostgreSQL.
func TestImportSQLite(t *testing.T) {
	requireServer(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "atomcp.db")
	src, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	at := time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)
	next := func() time.Time { at = at.Add(time.Second); return at }
	mk := func(typ domain.EntityType, id, orgID string, fields map[string]any) *domain.Entity {
		ts := next()
		e := &domain.Entity{Type: typ, ID: id, OrganizationID: orgID, Fields: fields, CreatedAt: ts, UpdatedAt: ts, CreatedBy: "u1", UpdatedBy: "u1"}
		if err := src.CreateEntity(ctx, e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	org := mk(domain.Organization, "org", "org", map[string]any{"name": "Acme", "slug": "acme", "type": "team"})
	proj := mk(domain.Project, "proj", "org", map[string]any{"organization_id": "org", "name": "Rocket", "slug": "rocket"})
	doc := mk(domain.Document, "doc", "org", map[string]any{"project_id": "proj", "name": "Spec", "version": int64(2)})
	blk := mk(domain.Block, "blk", "org", map[string]any{"document_id": "doc", "content": "intro", "position": int64(0)})
	req := mk(domain.Requirement, "req", "org", map[string]any{"document_id": "doc", "project_id": "proj", "block_id": "blk",
		"name": "Battery thermal limits", "external_id": "REQ-1", "description": "keep the battery cool",
		"properties": map[string]any{"tags": []any{"a"}, "weight": 1.5}})
	tst := mk(domain.Test, "tst", "org", map[string]any{"project_id": "proj", "title": "Cold soak", "is_active": false})
	gone := mk(domain.Requirement, "gone", "org", map[string]any{"document_id": "doc", "project_id": "proj", "name": "Battery recycling"})
	gone.IsDeleted, gone.DeletedAt = true, &at
	if err := src.UpdateEntity(ctx, gone); err != nil {
		t.Fatal(err)
	}
	// The organization changed last: the rebuilt index has it newest,
	// though the rebuild writes organizations first.
	org.UpdatedAt = next()
	if err := src.UpdateEntity(ctx, org); err != nil {
		t.Fatal(err)
	}
	u := &domain.User{ID: "u1", Issuer: "https://issuer.example", Subject: "s1", Email: "dana@example.com", CreatedAt: next(), UpdatedAt: at}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(src.CreateUser(ctx, u))
	must(src.PutMember(ctx, &domain.Membership{OrganizationID: "org", UserID: "u1", Role: domain.RoleOwner, Status: "active", CreatedAt: next()}))
	must(src.CreateInvitation(ctx, &domain.Invitation{ID: "inv", OrganizationID: "org", Email: "eve@example.com", Role: domain.RoleMember, Status: "pending", CreatedAt: next()}))
	must(src.PutWorkspace(ctx, &domain.WorkspaceContext{UserID: "u1", OrganizationID: "org", ProjectID: "proj", UpdatedAt: next()}))
	for range 3 {
		must(src.AppendAudit(ctx, &domain.AuditEntry{At: next(), ActorID: "u1", Action: "create", EntityType: domain.Project, EntityID: "proj", OrganizationID: "org", After: `{"a":1}`}))
	}
	link := &domain.Link{Kind: domain.RequirementTest, ID: "rt", OrganizationID: "org", SourceType: domain.Requirement, SourceID: "req",
		TargetType: domain.Test, TargetID: "tst", LinkType: "full", CreatedAt: next(), UpdatedAt: at}
	must(src.CreateLink(ctx, link))
	client := &store.OAuthClient{ID: "c1", Name: "Claude", RedirectURIs: []string{"http://127.0.0.1/cb"}, GrantTypes: []string{"authorization_code"},
		ResponseTypes: []string{"code"}, TokenEndpointAuthMethod: "none", Source: "dcr", CreatedAt: next()}
	must(src.CreateOAuthClient(ctx, client))
	must(src.CreateLocalAccount(ctx, &store.LocalAccount{ID: "a1", Email: "dana@example.com", PasswordHash: "$argon2id$x", Role: "owner", CreatedAt: next(), UpdatedAt: at}))
	must(src.CreateTokenFamily(ctx, &store.TokenFamily{ID: "f1", ClientID: "c1", AccountID: "a1", CreatedAt: next()}))
	must(src.CreateRefreshToken(ctx, &store.RefreshToken{Hash: "r1", FamilyID: "f1", ClientID: "c1", AccountID: "a1", CreatedAt: next(), ExpiresAt: at.Add(time.Hour)}))
	must(src.RecordAccessToken(ctx, &store.AccessToken{JTI: "j1", FamilyID: "f1", ExpiresAt: at.Add(time.Hour)}))
	key := &store.SigningKey{ID: "k1", Algorithm: "ES256", PrivateKey: []byte{0x30, 0x00, 0xff}, CreatedAt: next()}
	must(src.CreateSigningKey(ctx, key))
	emb := &store.Embedding{EntityType: domain.Requirement, EntityID: "req", OrganizationID: "org", ProjectID: "proj", Model: "m:3",
		ContentHash: "h", Vector: []float32{-1.5, 0.25, 3.4e38}, UpdatedAt: next()}
	must(src.PutEmbedding(ctx, emb))

	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	dst := openMigrated(t)
	report, err := dst.ImportSQLite(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, c := range report.Tables {
		counts[c.Table] = c.Rows
	}
	for table, want := range map[string]int{"organizations": 1, "requirements": 2, "audit_log": 3, "oauth_clients": 1, "embeddings": 1, "embedding_queue": 7} {
		if counts[table] != want {
			t.Errorf("copied %d rows of %s; want %d", counts[table], table, want)
		}
	}
	if report.Indexed != 6 {
		t.Errorf("indexed %d entities; want the 6 live ones", report.Indexed)
	}

	for _, want := range []*domain.Entity{org, proj, doc, blk, req, tst, gone} {
		got, err := dst.GetEntity(ctx, want.Type, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Fields, want.Fields) || !got.CreatedAt.Equal(want.CreatedAt) || got.IsDeleted != want.IsDeleted {
			t.Errorf("%s after the copy = %+v; want %+v", want.ID, got, want)
		}
	}
	hits, total, err := dst.SearchText(ctx, store.SearchQuery{OrganizationIDs: []string{"org"}, Text: "battery"})
	if err != nil || total != 1 || hits[0].ID != "req" || hits[0].Snippet != "keep the **battery** cool" {
		t.Errorf("search after the copy = %+v (%d), %v; want the live requirement", hits, total, err)
	}
	if ids, err := dst.SearchRecency(ctx); err != nil || !slices.Equal(ids, []string{"proj", "doc", "blk", "req", "tst", "org"}) {
		t.Errorf("search index after the copy, oldest first = %v, %v; want by updated_at", ids, err)
	}
	req.UpdatedAt = next()
	must(dst.UpdateEntity(ctx, req))
	if ids, err := dst.SearchRecency(ctx); err != nil || !slices.Equal(ids, []string{"proj", "doc", "blk", "tst", "org", "req"}) {
		t.Errorf("search index after an update, oldest first = %v, %v; want the update newest", ids, err)
	}
	if got, err := dst.GetEmbedding(ctx, "req"); err != nil || !reflect.DeepEqual(got.Vector, emb.Vector) || got.Seq != emb.Seq {
		t.Errorf("embedding after the copy = %+v, %v; want %+v", got, err, emb)
	}
	// New rows get ids and seqs after the copied ones.
	e2 := &domain.AuditEntry{At: next(), Action: "update", EntityID: "proj"}
	must(dst.AppendAudit(ctx, e2))
	if e2.ID <= 3 {
		t.Errorf("audit id after the copy = %d; want more than the 3 copied", e2.ID)
	}
	emb2 := *emb
	must(dst.PutEmbedding(ctx, &emb2))
	if emb2.Seq <= emb.Seq {
		t.Errorf("seq after the copy = %d; want more than %d", emb2.Seq, emb.Seq)
	}
	if c, err := dst.GetOAuthClient(ctx, "c1"); err != nil || !reflect.DeepEqual(c.RedirectURIs, client.RedirectURIs) {
		t.Errorf("client after the copy = %+v, %v", c, err)
	}
	if denied, _ := dst.AccessTokenDenied(ctx, "j1"); denied {
		t.Error("j1 denied after the copy")
	}
	if keys, err := dst.ListSigningKeys(ctx); err != nil || len(keys) != 1 || !reflect.DeepEqual(keys[0].PrivateKey, key.PrivateKey) {
		t.Errorf("signing keys after the copy = %+v, %v", keys, err)
	}
	if w, err := dst.GetWorkspace(ctx, "u1"); err != nil || w.ProjectID != "proj" {
		t.Errorf("workspace after the copy = %+v, %v", w, err)
	}

	// A second copy into the same database is refused, and changes nothing.
	_, err = dst.ImportSQLite(ctx, raw)
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("second copy = %v; want a refusal naming a table that is not empty", err)
	}
}

// A SQLite table the importer does not know (a newer atomcp's) stops the
// copy before anything is written.
func TestImportSQLiteRefusesUnknownTables(t *testing.T) {
	requireServer(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "atomcp.db")
	src, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	src.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `CREATE TABLE future_things (id TEXT)`); err != nil {
		t.Fatal(err)
	}
	_, err = openMigrated(t).ImportSQLite(ctx, raw)
	if err == nil || !strings.Contains(err.Error(), "future_things") {
		t.Fatalf("ImportSQLite = %v; want a refusal naming future_things", err)
	}
}
