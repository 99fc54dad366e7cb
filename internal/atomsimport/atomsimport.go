// Package atomsimport copies an Atoms (Supabase) database — the Python
// Atoms server's tables — into atomcp's store, keeping every id, so that
// re-running it updates what it copied before and never duplicates.
package atomsimport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// Options configure an import.
type Options struct {
	// Issuer is the issuer of the identities in profiles.workos_id: a user
	// signs in to atomcp with that (issuer, subject) and finds their data.
	Issuer string
	// DryRun reads and checks everything and writes nothing.
	DryRun bool
}

// Counts are the rows read per source table and what was done with them.
type Counts struct {
	Tables  []TableCount
	Skipped []string // rows left out, each with the reason
}

// TableCount is one source table's rows: created in atomcp, updated (they
// were imported before), or skipped.
type TableCount struct {
	Table                  string
	Read, Created, Updated int
}

// sourceTables are the Atoms tables read, parents before children, with
// the atomcp entity kind they become ("" for users, members and links).
var sourceTables = []struct {
	table string
	kind  domain.EntityType
}{
	{"profiles", ""},
	{"organizations", domain.Organization},
	{"organization_members", ""},
	{"projects", domain.Project},
	{"project_members", ""},
	{"documents", domain.Document},
	{"blocks", domain.Block},
	{"requirements", domain.Requirement},
	{"test_req", domain.Test},
	{"requirement_tests", ""},
	{"trace_links", ""},
}

// columnAliases are Atoms column names that atomcp spells differently.
var columnAliases = map[string]string{
	"enchanced_requirement": "enhanced_requirement",
	"org_id":                "organization_id",
}

// statusMap maps the Atoms statuses atomcp has no state for.
var statusMap = map[domain.EntityType]map[string]string{
	domain.Requirement: {"deleted": "archived"},
	domain.Project:     {"deleted": "archived"},
}

// Import reads the Atoms tables from src and writes them into dst in one
// transaction (nothing when opts.DryRun).
func Import(ctx context.Context, src *pgx.Conn, dst store.Store, opts Options) (*Counts, error) {
	if opts.Issuer == "" {
		return nil, errors.New("an issuer is needed for the profiles' workos_id identities")
	}
	rows := map[string][]map[string]any{}
	for _, t := range sourceTables {
		rs, err := readTable(ctx, src, t.table)
		if err != nil {
			return nil, err
		}
		rows[t.table] = rs
	}
	counts := &Counts{}
	errDryRun := errors.New("dry run")
	err := dst.InTx(ctx, func(tx store.Ops) error {
		im := &importer{ctx: ctx, tx: tx, opts: opts, counts: counts, users: map[string]string{}}
		for _, t := range sourceTables {
			c := TableCount{Table: t.table, Read: len(rows[t.table])}
			for _, r := range rows[t.table] {
				created, err := im.row(t.table, t.kind, r)
				switch {
				case errors.Is(err, errSkip):
					counts.Skipped = append(counts.Skipped, fmt.Sprintf("%s %v: %v", t.table, r["id"], err))
				case err != nil:
					return fmt.Errorf("%s %v: %w", t.table, r["id"], err)
				case created:
					c.Created++
				default:
					c.Updated++
				}
			}
			counts.Tables = append(counts.Tables, c)
		}
		if opts.DryRun {
			return errDryRun // roll back: a dry run counts what would change
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return nil, err
	}
	return counts, nil
}

// readTable reads every row of an Atoms table as JSON objects (so that a
// column this code does not know is ignored, and a missing one is absent).
// A table the database does not have is read as empty.
func readTable(ctx context.Context, src *pgx.Conn, table string) ([]map[string]any, error) {
	var exists bool
	if err := src.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists); err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	if !exists {
		return nil, nil
	}
	rs, err := src.Query(ctx, `SELECT to_jsonb(t) FROM `+pgx.Identifier{table}.Sanitize()+` t`)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	out, err := pgx.CollectRows(rs, func(row pgx.CollectableRow) (map[string]any, error) {
		var b []byte
		if err := row.Scan(&b); err != nil {
			return nil, err
		}
		var m map[string]any
		err := json.Unmarshal(b, &m)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	return out, nil
}

var errSkip = errors.New("not imported")

type importer struct {
	ctx    context.Context
	tx     store.Ops
	opts   Options
	counts *Counts
	users  map[string]string // Atoms profile id → atomcp user id
}

func (im *importer) row(table string, kind domain.EntityType, r map[string]any) (bool, error) {
	for old, repl := range columnAliases {
		if v, ok := r[old]; ok {
			if _, has := r[repl]; !has {
				r[repl] = v
			}
		}
	}
	switch table {
	case "profiles":
		return im.profile(r)
	case "organization_members":
		return im.member(r)
	case "project_members":
		return im.projectMember(r)
	case "requirement_tests":
		return im.link(domain.RequirementTest, r, domain.Requirement, "requirement_id", domain.Test, "test_id", firstString(r, "coverage_level"), firstString(r, "execution_status"))
	case "trace_links":
		return im.traceLink(r)
	}
	return im.entity(kind, r)
}

func (im *importer) profile(r map[string]any) (bool, error) {
	id, subject := str(r, "id"), str(r, "workos_id")
	if id == "" {
		return false, fmt.Errorf("%w: no id", errSkip)
	}
	if subject == "" {
		subject = id // a profile without a WorkOS identity keeps its own id
	}
	u := &domain.User{ID: id, Issuer: im.opts.Issuer, Subject: subject, Email: str(r, "email"), Name: firstString(r, "full_name", "name", "display_name"),
		CreatedAt: timeOf(r, "created_at"), UpdatedAt: timeOf(r, "updated_at")}
	im.users[id] = id
	existing, err := im.tx.GetUser(im.ctx, id)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		if other, err := im.tx.GetUserBySubject(im.ctx, u.Issuer, u.Subject); err == nil {
			// Signed in to atomcp before the import: their atomcp user is it.
			im.users[id] = other.ID
			return false, nil
		}
		return true, im.tx.CreateUser(im.ctx, u)
	case err != nil:
		return false, err
	}
	u.CreatedAt = existing.CreatedAt
	return false, im.tx.UpdateUser(im.ctx, u)
}

func (im *importer) user(atomsID string) string {
	if id, ok := im.users[atomsID]; ok {
		return id
	}
	return ""
}

func (im *importer) member(r map[string]any) (bool, error) {
	org, user := str(r, "organization_id"), im.user(str(r, "user_id"))
	if org == "" || user == "" {
		return false, fmt.Errorf("%w: unknown organization or user", errSkip)
	}
	role := mapRole(str(r, "role"))
	_, err := im.tx.GetMember(im.ctx, org, user)
	created := errors.Is(err, domain.ErrNotFound)
	if err != nil && !created {
		return false, err
	}
	return created, im.tx.PutMember(im.ctx, &domain.Membership{OrganizationID: org, UserID: user, Role: role, Status: activeOr(str(r, "status")), CreatedAt: timeOf(r, "created_at")})
}

func (im *importer) projectMember(r map[string]any) (bool, error) {
	projectID, user := str(r, "project_id"), im.user(str(r, "user_id"))
	p, err := im.tx.GetEntity(im.ctx, domain.Project, projectID)
	if err != nil || user == "" {
		return false, fmt.Errorf("%w: unknown project or user", errSkip)
	}
	ms, err := im.tx.ListProjectMembers(im.ctx, p.ID)
	if err != nil {
		return false, err
	}
	created := !slices.ContainsFunc(ms, func(m *domain.ProjectMembership) bool { return m.UserID == user })
	return created, im.tx.PutProjectMember(im.ctx, &domain.ProjectMembership{ProjectID: p.ID, OrganizationID: p.OrganizationID, UserID: user,
		Role: mapRole(str(r, "role")), Status: activeOr(str(r, "status")), CreatedAt: timeOf(r, "created_at")})
}

// mapRole maps the Atoms roles to atomcp's: super_admin is an owner;
// the project roles maintainer and editor are members.
func mapRole(role string) domain.Role {
	switch role {
	case "owner", "super_admin":
		return domain.RoleOwner
	case "admin":
		return domain.RoleAdmin
	case "viewer":
		return domain.RoleViewer
	}
	return domain.RoleMember
}

func activeOr(s string) string {
	if s == "" {
		return "active"
	}
	return s
}

// entity writes one row of an entity table with its own id.
func (im *importer) entity(t domain.EntityType, r map[string]any) (bool, error) {
	k, err := domain.KindOf(t)
	if err != nil {
		return false, err
	}
	id := str(r, "id")
	if id == "" {
		return false, fmt.Errorf("%w: no id", errSkip)
	}
	e := &domain.Entity{Type: t, ID: id, Fields: map[string]any{}, CreatedAt: timeOf(r, "created_at"), UpdatedAt: timeOf(r, "updated_at"),
		CreatedBy: im.user(str(r, "created_by")), UpdatedBy: im.user(str(r, "updated_by")), IsDeleted: r["is_deleted"] == true}
	if e.IsDeleted {
		d := timeOf(r, "deleted_at")
		e.DeletedAt = &d
	}
	for _, f := range k.Fields {
		v, ok := r[f.Name]
		if !ok || v == nil {
			if f.Default != nil {
				e.Fields[f.Name] = f.Default
			}
			continue
		}
		cv, ok := fieldValue(t, f, v)
		if !ok {
			im.counts.Skipped = append(im.counts.Skipped, fmt.Sprintf("%s %s: %s %v is not accepted; left unset", t, id, f.Name, v))
			continue
		}
		e.Fields[f.Name] = cv
	}
	if k.ParentField != "" {
		parentKind, _ := k.Field(k.ParentField)
		parent, err := im.tx.GetEntity(im.ctx, parentKind.Ref, e.Str(k.ParentField))
		if err != nil {
			return false, fmt.Errorf("%w: its %s %q is not there", errSkip, k.ParentField, e.Str(k.ParentField))
		}
		e.OrganizationID = parent.OrganizationID
		if t == domain.Requirement {
			e.Fields["project_id"] = parent.Str("project_id")
		}
	} else {
		e.OrganizationID = e.ID
	}
	if _, ok := k.Field("slug"); ok && e.Str("slug") == "" {
		e.Fields["slug"] = slugOf(e.Name(), e.ID)
	}
	if _, err := im.tx.GetEntity(im.ctx, t, id); errors.Is(err, domain.ErrNotFound) {
		return true, im.tx.CreateEntity(im.ctx, e)
	} else if err != nil {
		return false, err
	}
	return false, im.tx.UpdateEntity(im.ctx, e)
}

// fieldValue converts an Atoms column value to the field's type; false
// when it is not one atomcp accepts (an enum value it does not have).
func fieldValue(t domain.EntityType, f domain.Field, v any) (any, bool) {
	switch f.Kind {
	case domain.String, domain.Text, domain.Ref:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case map[string]any, []any:
			b, _ := json.Marshal(x) // a block's JSON content
			s = string(b)
		default:
			s = fmt.Sprint(x)
		}
		if f.Name == "status" {
			if m, ok := statusMap[t][s]; ok {
				s = m
			}
		}
		if len(f.Enum) > 0 && !slices.Contains(f.Enum, s) {
			return nil, false
		}
		return s, true
	case domain.Int:
		if n, ok := domain.ToInt64(v); ok {
			return n, true
		}
		return nil, false
	case domain.Bool:
		b, ok := v.(bool)
		return b, ok
	}
	return v, true // JSON
}

func (im *importer) traceLink(r map[string]any) (bool, error) {
	st, tt := domain.EntityType(str(r, "source_type")), domain.EntityType(str(r, "target_type"))
	lt := str(r, "link_type")
	src, tgt := "source_id", "target_id"
	switch lt {
	case "is_related_to", "":
		lt = "relates_to"
	case "child_of":
		lt = "derives_from"
	case "parent_of":
		lt, src, tgt, st, tt = "derives_from", tgt, src, tt, st
	}
	if !slices.Contains(domain.TraceLinkTypes, lt) {
		lt = "relates_to"
	}
	return im.link(domain.TraceLink, r, st, src, tt, tgt, lt, "")
}

// link writes one link with its own id.
func (im *importer) link(kind domain.LinkKind, r map[string]any, st domain.EntityType, srcCol string, tt domain.EntityType, tgtCol, linkType, status string) (bool, error) {
	if kind == domain.RequirementTest {
		switch linkType {
		case "full", "partial", "none":
		default:
			linkType = "full"
		}
	}
	source, err := im.tx.GetEntity(im.ctx, st, str(r, srcCol))
	if err != nil {
		return false, fmt.Errorf("%w: its %s %s is not there", errSkip, st, str(r, srcCol))
	}
	target, err := im.tx.GetEntity(im.ctx, tt, str(r, tgtCol))
	if err != nil {
		return false, fmt.Errorf("%w: its %s %s is not there", errSkip, tt, str(r, tgtCol))
	}
	id := str(r, "id")
	if id == "" {
		// requirement_tests may key by the pair: the same pair, the same id.
		id = uuid.NewSHA1(uuid.NameSpaceOID, []byte(string(kind)+" "+source.ID+" "+target.ID)).String()
	}
	l := &domain.Link{Kind: kind, ID: id, OrganizationID: source.OrganizationID, SourceType: st, SourceID: source.ID, TargetType: tt, TargetID: target.ID,
		LinkType: linkType, Status: status, Description: str(r, "description"), CreatedAt: timeOf(r, "created_at"), UpdatedAt: timeOf(r, "updated_at"),
		CreatedBy: im.user(str(r, "created_by")), UpdatedBy: im.user(str(r, "updated_by"))}
	if _, err := im.tx.GetLink(im.ctx, kind, id); err == nil {
		return false, im.tx.UpdateLink(im.ctx, l)
	} else if !errors.Is(err, domain.ErrNotFound) {
		return false, err
	}
	// The same ends and type under another id (imported by pair before):
	// the link is there already.
	existing, err := im.tx.ListLinks(im.ctx, store.LinkQuery{Kind: kind, OrganizationIDs: []string{source.OrganizationID}, SourceID: source.ID, TargetID: target.ID})
	if err != nil {
		return false, err
	}
	if len(existing) > 0 {
		return false, nil
	}
	return true, im.tx.CreateLink(im.ctx, l)
}

func str(r map[string]any, k string) string {
	s, _ := r[k].(string)
	return s
}

func firstString(r map[string]any, keys ...string) string {
	for _, k := range keys {
		if s := str(r, k); s != "" {
			return s
		}
	}
	return ""
}

// timeOf parses a Supabase timestamp (ISO 8601 with an offset); the
// import time when the row has none.
func timeOf(r map[string]any, k string) time.Time {
	s := str(r, k)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999", "2006-01-02 15:04:05.999999-07"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Now().UTC()
}

// slugOf makes a slug for a row that has none (a short id suffix keeps it
// unique).
func slugOf(name, id string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		b.WriteString("untitled")
	}
	return b.String() + "-" + strings.ReplaceAll(id, "-", "")[:min(8, len(strings.ReplaceAll(id, "-", "")))]
}
