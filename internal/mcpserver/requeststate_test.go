package mcpserver

import (
	"errors"
	"strings"
	"testing"
)

func TestRequestStatesRoundTrip(t *testing.T) {
	r := NewRequestStates([]byte("k"))
	sealed := r.Seal([]byte(`{"step":"confirm"}`))
	got, err := r.Open(sealed)
	if err != nil || string(got) != `{"step":"confirm"}` {
		t.Fatalf("Open(Seal(x)) = %q, %v", got, err)
	}
}

func TestRequestStatesRefuseChangedState(t *testing.T) {
	r := NewRequestStates(nil)
	sealed := r.Seal([]byte(`{"step":"confirm"}`))
	payload, sig, _ := strings.Cut(sealed, ".")
	other := NewRequestStates(nil).Seal([]byte(`{"step":"done"}`))
	otherPayload, _, _ := strings.Cut(other, ".")
	for name, s := range map[string]string{
		"suffix appended":     sealed + "-TAMPERED",
		"payload swapped":     otherPayload + "." + sig,
		"signature dropped":   payload,
		"empty":               "",
		"another server's":    other,
		"signature truncated": sealed[:len(sealed)-2],
	} {
		if _, err := r.Open(s); !errors.Is(err, ErrBadRequestState) {
			t.Errorf("%s: Open = %v, want ErrBadRequestState", name, err)
		}
	}
}
