package mcpserver

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RequestStates seals and opens the requestState of multi-round requests
// (SEP-2322, protocol 2026-07-28): a handler that needs input from the
// client returns inputRequests with a requestState, and the client sends
// that state back with its answers. The state travels through the client,
// so it is signed (HMAC-SHA256) and a changed one is refused. It is not
// encrypted: put nothing secret in it.
//
// Servers behind a load balancer must share the key, or a retry that
// reaches another replica is refused: LoadRequestStates keeps it in the
// database they share.
type RequestStates struct {
	key []byte
}

// ErrBadRequestState is returned by Open for a state this server did not
// seal, or one that was changed on the way.
var ErrBadRequestState = errors.New("requestState failed its integrity check")

// NewRequestStates returns a sealer with the given key; with a nil or empty
// key it draws a random 32-byte key (good for one process).
func NewRequestStates(key []byte) *RequestStates {
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			panic("crypto/rand: " + err.Error())
		}
	}
	return &RequestStates{key: append([]byte(nil), key...)}
}

// requestStateSecret is the name of the requestState key in the store.
const requestStateSecret = "mcp.request-state-hmac" // #nosec G101 -- the label of a derived key, not a key

// SecretStore keeps secrets shared by every process serving one database
// (store.ServerSecrets).
type SecretStore interface {
	EnsureServerSecret(ctx context.Context, name string, value []byte, at time.Time) ([]byte, error)
}

// LoadRequestStates returns a sealer with the key kept in st, which the
// first process to start stores, so that a state sealed by one replica
// opens on any other.
func LoadRequestStates(ctx context.Context, st SecretStore) (*RequestStates, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("requestState key: %w", err)
	}
	key, err := st.EnsureServerSecret(ctx, requestStateSecret, fresh, time.Now())
	if err != nil {
		return nil, fmt.Errorf("requestState key: %w", err)
	}
	return NewRequestStates(key), nil
}

// Seal returns payload with its signature, as one opaque string.
func (r *RequestStates) Seal(payload []byte) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(r.mac(payload))
}

// Open checks a sealed state and returns its payload.
func (r *RequestStates) Open(state string) ([]byte, error) {
	enc := base64.RawURLEncoding
	p, s, ok := strings.Cut(state, ".")
	if !ok {
		return nil, ErrBadRequestState
	}
	payload, err1 := enc.DecodeString(p)
	sig, err2 := enc.DecodeString(s)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, r.mac(payload)) {
		return nil, ErrBadRequestState
	}
	return payload, nil
}

func (r *RequestStates) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte("atomcp requestState v1\x00"))
	m.Write(payload)
	return m.Sum(nil)
}
