package mcpserver

import (
	"errors"
	"testing"

	"github.com/atomcp/atomcp/internal/pgtest"
	"github.com/atomcp/atomcp/internal/store/postgres"
)

// Two replicas on one PostgreSQL database (each its own pool) share the
// requestState key: a state sealed by one opens on the other, and a
// server with a key of its own refuses it.
func TestRequestStatesSharedAcrossReplicas(t *testing.T) {
	u := pgtest.NewDB(t)
	var replicas [2]*RequestStates
	for i := range replicas {
		st, err := postgres.Open(t.Context(), u.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if i == 0 {
			if _, err := st.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		if replicas[i], err = LoadRequestStates(t.Context(), st); err != nil {
			t.Fatal(err)
		}
	}
	sealed := replicas[0].Seal([]byte(`{"step":"confirm"}`))
	got, err := replicas[1].Open(sealed)
	if err != nil || string(got) != `{"step":"confirm"}` {
		t.Fatalf("Open on the other replica = %q, %v; want the payload", got, err)
	}
	if _, err := NewRequestStates(nil).Open(sealed); !errors.Is(err, ErrBadRequestState) {
		t.Fatalf("Open with another key = %v; want ErrBadRequestState", err)
	}
}
