// Package storetest is the conformance suite that every store.Store backend
// must pass: one Run call from the backend's tests holds it to the behaviour
// the store interfaces document.
package storetest

import (
	"testing"

	"github.com/atomcp/atomcp/internal/store"
)

// Run runs the suite. open must return a new, empty, migrated store each
// time it is called, and arrange (with t.Cleanup) for it to be closed. The
// subtests run in parallel, each on its own store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Entities", entityTests},
		{"SoftDelete", softDeleteTests},
		{"List", listTests},
		{"Unique", uniqueTests},
		{"InTx", txTests},
		{"Users", userTests},
		{"Members", memberTests},
		{"Caller", callerTests},
		{"Invitations", invitationTests},
		{"Workspaces", workspaceTests},
		{"Audit", auditTests},
		{"Auth", authTests},
		{"Relations", relationTests},
		{"Lookups", lookupTests},
		{"Search", searchTests},
		{"RateLimits", rateLimitTests},
		{"Tasks", taskTests},
		{"Embeddings", embeddingTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, newFixture(t, open(t)))
				})
			}
		})
	}
}

// test is one subtest of the suite.
type test struct {
	name string
	fn   func(t *testing.T, f *fixture)
}
