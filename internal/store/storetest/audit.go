package storetest

import (
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

var auditTests = []test{
	{"AppendList", testAuditAppendList},
}

func testAuditAppendList(t *testing.T, f *fixture) {
	entries := []*domain.AuditEntry{
		{ActorID: "alice", Action: "create", EntityType: domain.Project, EntityID: "p1", OrganizationID: "o1", After: `{"name":"p1"}`},
		{ActorID: "alice", Action: "update", EntityType: domain.Project, EntityID: "p1", OrganizationID: "o1", Before: `{"name":"p1"}`, After: `{"name":"P1"}`},
		{ActorID: "bob", Action: "create", EntityType: domain.Test, EntityID: "t1", OrganizationID: "o1", After: `{}`},
		{ActorID: "bob", Action: "create", EntityType: domain.Project, EntityID: "p2", OrganizationID: "o2", After: `{}`},
		{ActorID: "alice", Action: "delete", EntityType: domain.Project, EntityID: "p1", OrganizationID: "o1", Before: `{"name":"P1"}`},
	}
	var lastID int64
	for i, e := range entries {
		e.At = f.now()
		if err := f.s.AppendAudit(f.ctx, e); err != nil {
			t.Fatal(err)
		}
		if e.ID <= lastID {
			t.Errorf("entry %d got id %d after %d; want increasing ids", i, e.ID, lastID)
		}
		lastID = e.ID
	}
	newest := func(idx ...int) []*domain.AuditEntry {
		out := make([]*domain.AuditEntry, len(idx))
		for i, j := range idx {
			out[i] = entries[j]
		}
		return out
	}

	tests := []struct {
		name string
		q    store.AuditQuery
		want []*domain.AuditEntry
	}{
		{"all", store.AuditQuery{}, newest(4, 3, 2, 1, 0)},
		{"entity", store.AuditQuery{EntityID: "p1"}, newest(4, 1, 0)},
		{"organization", store.AuditQuery{OrganizationID: "o1"}, newest(4, 2, 1, 0)},
		{"both", store.AuditQuery{EntityID: "p1", OrganizationID: "o2"}, nil},
		{"limit", store.AuditQuery{Limit: 2}, newest(4, 3)},
		{"entity with limit", store.AuditQuery{EntityID: "p1", Limit: 1}, newest(4)},
		{"organizations", store.AuditQuery{OrganizationIDs: []string{"o2", "o9"}}, newest(3)},
		{"no organizations", store.AuditQuery{OrganizationIDs: []string{}}, nil},
		{"actor", store.AuditQuery{ActorID: "bob"}, newest(3, 2)},
		{"action", store.AuditQuery{Action: "create", OrganizationID: "o1"}, newest(2, 0)},
		{"since", store.AuditQuery{Since: entries[3].At}, newest(4, 3)},
		{"until", store.AuditQuery{Until: entries[1].At}, newest(0)},
		{"range", store.AuditQuery{Since: entries[1].At, Until: entries[3].At, ActorID: "alice"}, newest(1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.s.ListAudit(f.ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d entries; want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				g := *got[i]
				if !g.At.Equal(w.At) {
					t.Errorf("[%d] At = %v; want %v", i, g.At, w.At)
				}
				g.At = w.At
				if g != *w {
					t.Errorf("[%d] = %+v; want %+v", i, g, *w)
				}
			}
		})
	}
}
