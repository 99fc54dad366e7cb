package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

var searchTests = []test{
	{"ranked, scoped, live entities only, with highlights", func(t *testing.T, f *fixture) {
		org := f.org("search")
		p := f.project(org, "p")
		doc := f.document(p, "d")
		inName := f.requirement(doc, "Battery thermal limits", "REQ-1")
		inBody := f.requirementOf(doc, "Charging", "")
		inBody.Fields["description"] = "keep the battery cool"
		f.create(inBody)
		gone := f.requirement(doc, "Battery recycling", "")
		gone.IsDeleted = true
		gone.UpdatedAt = f.now()
		if err := f.s.UpdateEntity(f.ctx, gone); err != nil {
			t.Fatal(err)
		}
		otherDoc := f.document(f.project(f.org("elsewhere"), "p"), "d")
		f.requirement(otherDoc, "Battery elsewhere", "")

		hits, total, err := f.s.SearchText(f.ctx, store.SearchQuery{OrganizationIDs: []string{org.ID}, Text: "batt", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if total != 2 || len(hits) != 2 || hits[0].ID != inName.ID || hits[1].ID != inBody.ID {
			t.Fatalf("hits = %+v (total %d); want the name match first, then the body match", hits, total)
		}
		if hits[0].Name != "**Battery** thermal limits REQ-1" || hits[0].Score <= hits[1].Score || hits[0].ProjectID != p.ID {
			t.Fatalf("first hit = %+v", hits[0])
		}
		if hits[1].Snippet != "keep the **battery** cool" {
			t.Fatalf("snippet = %q", hits[1].Snippet)
		}
		typed, _, err := f.s.SearchText(f.ctx, store.SearchQuery{OrganizationIDs: []string{org.ID}, Text: "battery", Types: []domain.EntityType{domain.Test}})
		if err != nil || len(typed) != 0 {
			t.Fatalf("tests matching battery = %v, %v", typed, err)
		}
		// Query syntax in the text is just words.
		if _, _, err := f.s.SearchText(f.ctx, store.SearchQuery{OrganizationIDs: []string{org.ID}, Text: `"battery* OR NEAR(x AND`}); err != nil {
			t.Fatalf("syntax characters broke the query: %v", err)
		}
		_, _, err = f.s.SearchText(f.ctx, store.SearchQuery{OrganizationIDs: []string{org.ID}, Text: "  ***  "})
		wantErr(t, err, domain.ErrInvalid)
		// An update re-indexes; a hard delete removes.
		inName.Fields["name"] = "Thermal limits"
		delete(inName.Fields, "external_id")
		inName.UpdatedAt = f.now()
		if err := f.s.UpdateEntity(f.ctx, inName); err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeleteEntity(f.ctx, domain.Requirement, inBody.ID); err != nil {
			t.Fatal(err)
		}
		if hits, _, _ := f.s.SearchText(f.ctx, store.SearchQuery{OrganizationIDs: []string{org.ID}, Text: "battery"}); len(hits) != 0 {
			t.Fatalf("stale hits after update and delete: %+v", hits)
		}
	}},
	{"the count stops past SearchCountLimit, or past the page", func(t *testing.T, f *fixture) {
		org := f.org("capped")
		doc := f.document(f.project(org, "p"), "d")
		n := store.SearchCountLimit + 5
		err := f.s.InTx(f.ctx, func(tx store.Ops) error {
			for i := range n {
				if err := tx.CreateEntity(f.ctx, f.requirementOf(doc, fmt.Sprintf("Valve %d", i), "")); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		q := store.SearchQuery{OrganizationIDs: []string{org.ID}, Text: "valve", Limit: 20}
		hits, total, err := f.s.SearchText(f.ctx, q)
		if err != nil || len(hits) != 20 || total != store.SearchCountLimit+1 {
			t.Fatalf("%d hits, total %d, %v; want 20 and %d (more than the limit)", len(hits), total, err, store.SearchCountLimit+1)
		}
		// Past the limit, the count reaches the end of the page.
		q.Offset = store.SearchCountLimit - 10
		hits, total, err = f.s.SearchText(f.ctx, q)
		if err != nil || len(hits) != 15 || total != n {
			t.Fatalf("%d hits, total %d, %v at offset %d; want 15 and the exact %d", len(hits), total, err, q.Offset, n)
		}
		q.Text, q.Offset = "valve 7", 0 // "7" matches as a prefix: 7, 70-79, 700-799
		if _, total, err = f.s.SearchText(f.ctx, q); err != nil || total != 111 {
			t.Fatalf("total %d, %v; want the exact 111 below the limit", total, err)
		}
	}},
	{"pages of tied hits are in entity id order, whole and without overlap", func(t *testing.T, f *fixture) {
		// 30 equal names (the same score) and 5 better ones: every page
		// must be the slice of the full order, score then entity id, also
		// where a page boundary falls inside the ties.
		org := f.org("ties")
		doc := f.document(f.project(org, "p"), "d")
		var tied, better []string
		for i := range 35 {
			name := "Pump housing"
			if i >= 30 {
				name = "Pump pump pump"
			}
			r := f.requirement(doc, name, "")
			if i >= 30 {
				better = append(better, r.ID)
			} else {
				tied = append(tied, r.ID)
			}
		}
		slices.Sort(tied)
		slices.Sort(better)
		want := append(better, tied...)
		q := store.SearchQuery{OrganizationIDs: []string{org.ID}, Text: "pump"}
		all, total, err := f.s.SearchText(f.ctx, q)
		if err != nil || total != 35 || len(all) != 35 {
			t.Fatalf("%d hits, total %d, %v; want 35", len(all), total, err)
		}
		ids := func(hs []store.SearchHit) []string {
			out := make([]string, len(hs))
			for i, h := range hs {
				out[i] = h.ID
			}
			return out
		}
		if got := ids(all); !slices.Equal(got, want) {
			t.Fatalf("order = %v; want the better names, then the tied ones by id: %v", got, want)
		}
		for _, page := range []struct{ offset, limit int }{{0, 7}, {3, 4}, {7, 7}, {28, 7}, {30, 10}, {34, 1}, {35, 5}} {
			q.Offset, q.Limit = page.offset, page.limit
			hits, _, err := f.s.SearchText(f.ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			end := min(page.offset+page.limit, len(want))
			if got := ids(hits); !slices.Equal(got, want[min(page.offset, end):end]) {
				t.Errorf("page offset %d limit %d = %v; want %v", page.offset, page.limit, got, want[min(page.offset, end):end])
			}
		}
	}},
	{"past SearchRankWindow hits, windows newest first, each ranked", func(t *testing.T, f *fixture) {
		// 2W+37 hits written one after the other, every 7th a better
		// match: the order is the newest W ranked (better ones first,
		// ties by id), then the next W ranked, then the oldest 37; pages
		// across a window boundary are slices of that order. Better
		// matches of another organization, written in between, are in
		// the key ranges of the windows but never in the hits.
		const w = store.SearchRankWindow
		org := f.org("windows")
		doc := f.document(f.project(org, "p"), "d")
		otherDoc := f.document(f.project(f.org("windows-other"), "p"), "d")
		var written []*domain.Entity // oldest first
		err := f.s.InTx(f.ctx, func(tx store.Ops) error {
			for i := range 2*w + 37 {
				name := "Gear housing"
				if i%7 == 0 {
					name = "Gear gear gear"
				}
				e := f.requirementOf(doc, name, "")
				if err := tx.CreateEntity(f.ctx, e); err != nil {
					return err
				}
				written = append(written, e)
				if i%5 == 0 {
					if err := tx.CreateEntity(f.ctx, f.requirementOf(otherDoc, "Gear gear gear gear", "")); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		order := func() []string { // the expected order of written
			var out []string
			for end := len(written); end > 0; end -= w {
				var better, tied []string
				for _, e := range written[max(end-w, 0):end] {
					if e.Str("name") == "Gear housing" {
						tied = append(tied, e.ID)
					} else {
						better = append(better, e.ID)
					}
				}
				slices.Sort(better)
				slices.Sort(tied)
				out = append(append(out, better...), tied...)
			}
			return out
		}
		ids := func(hs []store.SearchHit) []string {
			out := make([]string, len(hs))
			for i, h := range hs {
				out[i] = h.ID
			}
			return out
		}
		check := func(want []string) {
			t.Helper()
			q := store.SearchQuery{OrganizationIDs: []string{org.ID}, Text: "gear"}
			var paged []string
			for q.Offset = 0; ; q.Offset += 500 {
				q.Limit = 500
				hits, _, err := f.s.SearchText(f.ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if len(hits) == 0 {
					break
				}
				paged = append(paged, ids(hits)...)
			}
			if !slices.Equal(paged, want) {
				i := 0
				for i < min(len(paged), len(want)) && paged[i] == want[i] {
					i++
				}
				t.Fatalf("paged by 500: %d hits, %v from %d on; want %d, %v", len(paged), paged[i:min(i+3, len(paged))], i, len(want), want[i:min(i+3, len(want))])
			}
			for _, page := range []struct{ offset, limit int }{{0, 20}, {w - 10, 20}, {w - 1, 2}, {2*w - 5, 50}, {len(want) - 3, 10}, {len(want) + 5, 10}, {w + 3, 0}} {
				q.Offset, q.Limit = page.offset, page.limit
				hits, total, err := f.s.SearchText(f.ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				end := len(want)
				if page.limit > 0 {
					end = min(page.offset+page.limit, end)
				}
				if got, want := ids(hits), want[min(page.offset, end):end]; !slices.Equal(got, want) {
					t.Errorf("page offset %d limit %d = %d hits %.3v…; want %d %.3v…", page.offset, page.limit, len(got), got, len(want), want)
				}
				if wantTotal := min(len(want), max(store.SearchCountLimit, page.offset+page.limit)+1); page.limit > 0 && total != wantTotal {
					t.Errorf("page offset %d limit %d: total %d; want %d", page.offset, page.limit, total, wantTotal)
				}
			}
		}
		check(order())
		// A write makes an entity the newest: the oldest one moves to the
		// newest window, and every window shifts by one. (The status is
		// not searched, so the score stays.)
		oldest := written[0]
		oldest.Fields["status"] = "draft"
		oldest.UpdatedAt = f.now()
		if err := f.s.UpdateEntity(f.ctx, oldest); err != nil {
			t.Fatal(err)
		}
		written = append(written[1:], oldest)
		check(order())
	}},
	{"count by a field", func(t *testing.T, f *fixture) {
		org := f.org("agg")
		p := f.project(org, "p")
		for _, s := range []string{"passed", "failed", "passed"} {
			f.test(p, "t "+s, map[string]any{"status": s})
		}
		counts, err := f.s.CountBy(f.ctx, store.EntityQuery{Type: domain.Test, OrganizationIDs: []string{org.ID}}, "status")
		if err != nil || len(counts) != 2 || counts[0] != (store.Count{Value: "passed", N: 2}) || counts[1] != (store.Count{Value: "failed", N: 1}) {
			t.Fatalf("CountBy = %v, %v", counts, err)
		}
		_, err = f.s.CountBy(f.ctx, store.EntityQuery{Type: domain.Test, OrganizationIDs: []string{org.ID}}, "shoe_size")
		wantErr(t, err, domain.ErrInvalid, "shoe_size")
	}},
	{"writes queue embeddings; a stale dequeue keeps the newer entry", func(t *testing.T, f *fixture) {
		org := f.org("emb")
		q, err := f.s.EmbeddingQueue(f.ctx, 10)
		if err != nil || len(q) != 1 || q[0].ID != org.ID {
			t.Fatalf("queue = %v, %v", q, err)
		}
		org.UpdatedAt = f.now()
		if err := f.s.UpdateEntity(f.ctx, org); err != nil {
			t.Fatal(err)
		}
		if err := f.s.DequeueEmbedding(f.ctx, q[0]); err != nil { // stale: read before the update
			t.Fatal(err)
		}
		q2, _ := f.s.EmbeddingQueue(f.ctx, 10)
		if len(q2) != 1 || !q2[0].EnqueuedAt.Equal(org.UpdatedAt) {
			t.Fatalf("after a stale dequeue, queue = %v", q2)
		}
		if err := f.s.DequeueEmbedding(f.ctx, q2[0]); err != nil {
			t.Fatal(err)
		}
		if q3, _ := f.s.EmbeddingQueue(f.ctx, 10); len(q3) != 0 {
			t.Fatalf("queue not empty: %v", q3)
		}
	}},
}
