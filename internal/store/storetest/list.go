package storetest

import (
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

var listTests = []test{
	{"Scope", testListScope},
	{"Equals", testListEquals},
	{"EqualsInvalid", testListEqualsInvalid},
	{"Compare", testListCompare},
	{"Deleted", testListDeleted},
	{"Text", testListText},
	{"Paging", testListPaging},
	{"OrderBy", testListOrderBy},
}

func testListScope(t *testing.T, f *fixture) {
	a, b := f.org("a"), f.org("b")
	pa, pb := f.project(a, "p"), f.project(b, "p")
	ta := f.test(pa, "login", nil)
	tb := f.test(pb, "login", nil)

	tests := []struct {
		name  string
		q     store.EntityQuery
		want  []*domain.Entity
		total int
	}{
		{"own organization", store.EntityQuery{Type: domain.Test, OrganizationIDs: []string{a.ID}}, []*domain.Entity{ta}, 1},
		{"both", store.EntityQuery{Type: domain.Test, OrganizationIDs: []string{a.ID, b.ID}}, []*domain.Entity{ta, tb}, 2},
		{"unknown organization", store.EntityQuery{Type: domain.Test, OrganizationIDs: []string{"nope"}}, nil, 0},
		// Filters never reach past the scope, not even by id or by text.
		{"other's id", store.EntityQuery{Type: domain.Test, OrganizationIDs: []string{a.ID}, Equals: map[string]any{"id": tb.ID}}, nil, 0},
		{"other's parent", store.EntityQuery{Type: domain.Test, OrganizationIDs: []string{a.ID}, Equals: map[string]any{"project_id": pb.ID}}, nil, 0},
		{"text", store.EntityQuery{Type: domain.Test, OrganizationIDs: []string{b.ID}, Text: "login"}, []*domain.Entity{tb}, 1},
		{"organizations", store.EntityQuery{Type: domain.Organization, OrganizationIDs: []string{b.ID}}, []*domain.Entity{b}, 1},
		{"organization_id filter", store.EntityQuery{Type: domain.Project, OrganizationIDs: []string{a.ID, b.ID}, Equals: map[string]any{"organization_id": b.ID}}, []*domain.Entity{pb}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := f.sub(t)
			page := f.list(tc.q)
			sameIDs(t, "items", page.Items, tc.want...)
			if page.Total != tc.total {
				t.Errorf("Total = %d; want %d", page.Total, tc.total)
			}
		})
	}

	t.Run("empty scope", func(t *testing.T) {
		_, err := f.s.ListEntities(f.ctx, store.EntityQuery{Type: domain.Test})
		wantErr(t, err, domain.ErrInvalid)
	})
	t.Run("all organizations", func(t *testing.T) {
		f := f.sub(t)
		for _, deleted := range []store.Deleted{store.ExcludeDeleted, store.IncludeDeleted} {
			page := f.list(store.EntityQuery{Type: domain.Organization, AllOrganizations: true, Deleted: deleted})
			sameIDs(t, "organizations", page.Items, a, b)
		}
		page := f.list(store.EntityQuery{Type: domain.Test, AllOrganizations: true, Equals: map[string]any{"title": "login"}})
		sameIDs(t, "tests", page.Items, ta, tb)
	})
	t.Run("all organizations and a scope", func(t *testing.T) {
		_, err := f.s.ListEntities(f.ctx, store.EntityQuery{Type: domain.Test, AllOrganizations: true, OrganizationIDs: []string{a.ID}})
		wantErr(t, err, domain.ErrInvalid)
	})
}

func testListEquals(t *testing.T, f *fixture) {
	org := f.org("o")
	p1, p2 := f.project(org, "p1"), f.project(org, "p2")
	passed := f.test(p1, "one", map[string]any{"status": "passed", "priority": "high", "is_active": true, "description": "d"})
	failed := f.test(p1, "two", map[string]any{"status": "failed", "priority": "high", "is_active": false})
	other := f.test(p2, "three", map[string]any{"status": "passed", "priority": "low", "is_active": true})
	doc := f.document(p1, "d")
	withBlock := f.requirementOf(doc, "with block", "")
	withBlock.Fields["block_id"] = f.block(doc, 0).ID
	f.create(withBlock)
	noBlock := f.requirement(doc, "no block", "")

	scope := []string{org.ID}
	tests := []struct {
		name   string
		typ    domain.EntityType
		equals map[string]any
		want   []*domain.Entity
	}{
		{"string", domain.Test, map[string]any{"status": "passed"}, []*domain.Entity{passed, other}},
		{"reference", domain.Test, map[string]any{"project_id": p2.ID}, []*domain.Entity{other}},
		{"bool false", domain.Test, map[string]any{"is_active": false}, []*domain.Entity{failed}},
		{"bool true", domain.Test, map[string]any{"is_active": true}, []*domain.Entity{passed, other}},
		{"two keys", domain.Test, map[string]any{"status": "passed", "priority": "high"}, []*domain.Entity{passed}},
		{"nil matches NULL", domain.Test, map[string]any{"description": nil}, []*domain.Entity{failed, other}},
		{"id", domain.Test, map[string]any{"id": failed.ID}, []*domain.Entity{failed}},
		{"int", domain.Document, map[string]any{"version": int64(1)}, []*domain.Entity{doc}},
		{"int no match", domain.Document, map[string]any{"version": int64(2)}, nil},
		{"nil reference", domain.Requirement, map[string]any{"block_id": nil}, []*domain.Entity{noBlock}},
		{"reference set", domain.Requirement, map[string]any{"block_id": withBlock.Fields["block_id"]}, []*domain.Entity{withBlock}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := f.sub(t)
			page := f.list(store.EntityQuery{Type: tc.typ, OrganizationIDs: scope, Equals: tc.equals})
			sameIDs(t, "items", page.Items, tc.want...)
			if page.Total != len(tc.want) {
				t.Errorf("Total = %d; want %d", page.Total, len(tc.want))
			}
		})
	}
}

func testListEqualsInvalid(t *testing.T, f *fixture) {
	org := f.org("o")
	tests := []struct {
		name  string
		q     store.EntityQuery
		words []string
	}{
		{"unknown key", store.EntityQuery{Type: domain.Test, Equals: map[string]any{"colour": "red"}}, []string{"colour", "title"}},
		{"wrong value type", store.EntityQuery{Type: domain.Test, Equals: map[string]any{"is_active": "yes"}}, []string{"is_active"}},
		{"unknown type", store.EntityQuery{Type: "spaceship"}, []string{"spaceship"}},
		{"unknown order", store.EntityQuery{Type: domain.Test, OrderBy: "colour"}, []string{"colour"}},
		{"negative limit", store.EntityQuery{Type: domain.Test, Limit: -1}, nil},
		{"negative offset", store.EntityQuery{Type: domain.Test, Offset: -1}, nil},
		// SQL in a key is refused like any other unknown key.
		{"injection", store.EntityQuery{Type: domain.Test, Equals: map[string]any{"1=1 OR title": "x"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.OrganizationIDs = []string{org.ID}
			_, err := f.s.ListEntities(f.ctx, q)
			wantErr(t, err, domain.ErrInvalid, tc.words...)
		})
	}
}

func testListDeleted(t *testing.T, f *fixture) {
	org := f.org("o")
	project := f.project(org, "p")
	live := f.test(project, "live", nil)
	gone := f.test(project, "gone", nil)
	deleted := gone.Clone()
	at := f.now()
	deleted.IsDeleted, deleted.DeletedAt = true, &at
	if err := f.s.UpdateEntity(f.ctx, deleted); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		deleted store.Deleted
		want    []*domain.Entity
	}{
		{"exclude (default)", store.ExcludeDeleted, []*domain.Entity{live}},
		{"only", store.OnlyDeleted, []*domain.Entity{gone}},
		{"include", store.IncludeDeleted, []*domain.Entity{live, gone}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := f.sub(t)
			page := f.list(store.EntityQuery{Type: domain.Test, OrganizationIDs: []string{org.ID}, Deleted: tc.deleted})
			sameIDs(t, "items", page.Items, tc.want...)
			if page.Total != len(tc.want) {
				t.Errorf("Total = %d; want %d", page.Total, len(tc.want))
			}
		})
	}
}

func testListText(t *testing.T, f *fixture) {
	org := f.org("o")
	project := f.project(org, "p")
	login := f.test(project, "Login works", nil)
	logout := f.test(project, "LOGOUT flow", nil)
	byDescription := f.test(project, "session", map[string]any{"description": "after LogIn, the session starts"})
	percent := f.test(project, "100% coverage", nil)
	f.test(project, "100 percent", nil)
	underscore := f.test(project, "snake_case name", nil)
	f.test(project, "snakeXcase name", nil)
	backslash := f.test(project, `back\slash`, nil)
	unicode := f.test(project, "Ünïcode Straße", nil)
	// status is not searchable.
	f.test(project, "plain", map[string]any{"status": "blocked"})

	tests := []struct {
		text string
		want []*domain.Entity
	}{
		{"login", []*domain.Entity{login, byDescription}},
		{"LOG", []*domain.Entity{login, logout, byDescription}},
		{"100%", []*domain.Entity{percent}},
		{"%", []*domain.Entity{percent}},
		{"_", []*domain.Entity{underscore}},
		{"e_c", []*domain.Entity{underscore}},
		{`k\s`, []*domain.Entity{backslash}},
		{"ünïCODE", []*domain.Entity{unicode}},
		{"blocked", nil},
		{"no such words", nil},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			f := f.sub(t)
			page := f.list(store.EntityQuery{Type: domain.Test, OrganizationIDs: []string{org.ID}, Text: tc.text})
			sameIDs(t, "items", page.Items, tc.want...)
			if page.Total != len(tc.want) {
				t.Errorf("Total = %d; want %d", page.Total, len(tc.want))
			}
		})
	}

	t.Run("with equals", func(t *testing.T) {
		f := f.sub(t)
		page := f.list(store.EntityQuery{Type: domain.Test, OrganizationIDs: []string{org.ID}, Text: "log",
			Equals: map[string]any{"title": "LOGOUT flow"}})
		sameIDs(t, "items", page.Items, logout)
	})
}

func testListPaging(t *testing.T, f *fixture) {
	org := f.org("o")
	project := f.project(org, "p")
	// Seven tests created at the same instant: only the id orders them, so
	// paging must break ties by id to be stable.
	at := f.now()
	for range 7 {
		e := f.newEntity(domain.Test, org.ID, map[string]any{"project_id": project.ID, "title": "same"})
		e.CreatedAt, e.UpdatedAt = at, at
		f.create(e)
	}
	q := store.EntityQuery{Type: domain.Test, OrganizationIDs: []string{org.ID}}

	for _, desc := range []bool{false, true} {
		q.Desc = desc
		q.Limit, q.Offset = 0, 0
		all := f.list(q)
		if len(all.Items) != 7 || all.Total != 7 {
			t.Fatalf("desc=%v: unlimited list has %d items, Total %d; want 7, 7", desc, len(all.Items), all.Total)
		}
		var paged []*domain.Entity
		for offset := 0; offset < 7; offset += 3 {
			q.Limit, q.Offset = 3, offset
			page := f.list(q)
			if page.Total != 7 {
				t.Errorf("desc=%v offset %d: Total = %d; want 7", desc, offset, page.Total)
			}
			if want := min(3, 7-offset); len(page.Items) != want {
				t.Errorf("desc=%v offset %d: %d items; want %d", desc, offset, len(page.Items), want)
			}
			paged = append(paged, page.Items...)
		}
		sameIDs(t, "pages joined", paged, all.Items...)

		q.Limit, q.Offset = 3, 10
		past := f.list(q)
		if len(past.Items) != 0 || past.Total != 7 {
			t.Errorf("desc=%v: past the end: %d items, Total %d; want 0, 7", desc, len(past.Items), past.Total)
		}
		q.Limit, q.Offset = 0, 5
		if rest := f.list(q); len(rest.Items) != 2 {
			t.Errorf("desc=%v: offset without limit: %d items; want 2", desc, len(rest.Items))
		}
	}

	// Descending is the reverse of ascending: ties break the other way too.
	q.Limit, q.Offset = 0, 0
	q.Desc = false
	asc := f.list(q).Items
	q.Desc = true
	desc := f.list(q).Items
	for i := range asc {
		if asc[i].ID != desc[len(desc)-1-i].ID {
			t.Fatalf("descending order is not the reverse of ascending: %v vs %v", ids(asc), ids(desc))
		}
	}
}

func testListOrderBy(t *testing.T, f *fixture) {
	org := f.org("o")
	project := f.project(org, "p")
	b := f.test(project, "bravo", map[string]any{"priority": "low"})
	c := f.test(project, "charlie", map[string]any{"priority": "high"})
	a := f.test(project, "alpha", map[string]any{"priority": "low"})
	// Touch b last, so updated_at orders differently from created_at.
	touched := b.Clone()
	touched.UpdatedAt = f.now()
	if err := f.s.UpdateEntity(f.ctx, touched); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		orderBy string
		desc    bool
		want    []*domain.Entity
	}{
		{"", false, []*domain.Entity{b, c, a}},
		{"created_at", true, []*domain.Entity{a, c, b}},
		{"updated_at", false, []*domain.Entity{c, a, b}},
		{"title", false, []*domain.Entity{a, b, c}},
		{"title", true, []*domain.Entity{c, b, a}},
	}
	for _, tc := range tests {
		t.Run(tc.orderBy, func(t *testing.T) {
			f := f.sub(t)
			page := f.list(store.EntityQuery{Type: domain.Test, OrganizationIDs: []string{org.ID}, OrderBy: tc.orderBy, Desc: tc.desc})
			sameIDs(t, "items", page.Items, tc.want...)
		})
	}

	t.Run("priority then id", func(t *testing.T) {
		f := f.sub(t)
		page := f.list(store.EntityQuery{Type: domain.Test, OrganizationIDs: []string{org.ID}, OrderBy: "priority"})
		if got := ids(page.Items); got[0] != c.ID {
			t.Errorf("order by priority = %v; want %s (high) first", got, c.ID)
		}
		lows := ids(page.Items[1:])
		if lows[0] > lows[1] {
			t.Errorf("equal priorities are not ordered by id: %v", lows)
		}
	})
}

// testListCompare: the operator filters, each a parameter of the query
// (a value with quotes and wildcards in it matches only itself).
func testListCompare(t *testing.T, f *fixture) {
	org := f.org("o")
	p := f.project(org, "p")
	high := f.test(p, "Battery High", map[string]any{"priority": "high", "status": "passed"})
	crit := f.test(p, "battery critical", map[string]any{"priority": "critical", "status": "failed"})
	low := f.test(p, "Motor low", map[string]any{"priority": "low"})
	odd := f.test(p, "it's 100% _odd_", map[string]any{"priority": "medium"})
	q := func(cs ...store.Comparison) store.EntityQuery {
		return store.EntityQuery{Type: domain.Test, OrganizationIDs: []string{org.ID}, Compare: cs}
	}
	c := func(field string, op store.CompareOp, v any) store.Comparison {
		return store.Comparison{Field: field, Op: op, Value: v}
	}
	for _, tc := range []struct {
		name string
		q    store.EntityQuery
		want []*domain.Entity
	}{
		{"eq", q(c("priority", store.OpEq, "high")), []*domain.Entity{high}},
		{"neq", q(c("priority", store.OpNeq, "high")), []*domain.Entity{crit, low, odd}},
		{"in", q(c("priority", store.OpIn, []any{"high", "critical"})), []*domain.Entity{high, crit}},
		{"in nothing", q(c("priority", store.OpIn, []any{})), nil},
		{"ilike", q(c("title", store.OpILike, "battery%")), []*domain.Entity{high, crit}},
		{"like", q(c("title", store.OpLike, "%low")), []*domain.Entity{low}},
		{"contains", q(c("title", store.OpContains, "HIGH")), []*domain.Entity{high}},
		{"contains quotes and wildcards", q(c("title", store.OpContains, "'s 100% _")), []*domain.Entity{odd}},
		{"gte and lte", q(c("title", store.OpGte, "b"), c("title", store.OpLt, "c")), []*domain.Entity{crit}},
		{"eq id", q(c("id", store.OpEq, high.ID)), []*domain.Entity{high}},
		{"eq null", q(c("status", store.OpEq, nil), c("priority", store.OpIn, []any{"low", "high"})), []*domain.Entity{low}},
		{"neq null", q(c("status", store.OpNeq, nil)), []*domain.Entity{high, crit}},
		{"with equals", store.EntityQuery{Type: domain.Test, OrganizationIDs: []string{org.ID}, Equals: map[string]any{"status": "passed"},
			Compare: []store.Comparison{c("priority", store.OpIn, []any{"high", "critical"})}}, []*domain.Entity{high}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := f.sub(t)
			sameIDs(t, "items", f.list(tc.q).Items, tc.want...)
		})
	}
	for _, bad := range []store.EntityQuery{
		q(c("colour", store.OpEq, "red")),
		q(c("priority", store.OpGt, nil)),
		q(c("priority", store.OpIn, "high")),
		q(c("priority", "between", "a")),
	} {
		_, err := f.s.ListEntities(f.ctx, bad)
		wantErr(t, err, domain.ErrInvalid)
	}
}
