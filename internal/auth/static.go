package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
	"sort"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/atomcp/atomcp/internal/domain"
)

// StaticIssuer is the issuer of the users behind static tokens: the Atoms
// user of token "ci" is (StaticIssuer, "ci").
const StaticIssuer = "atomcp:static"

// InternalTokenName is the name under which ATOMS_INTERNAL_TOKEN (the old
// server's single internal token) is known.
const InternalTokenName = "internal"

// StaticVerifier accepts the configured bearer tokens of trusted internal
// callers. Tokens are compared as SHA-256 digests in constant time and
// every entry is compared on every call, so neither a token's content nor
// its position leaks through timing.
type StaticVerifier struct {
	entries []staticEntry
	scopes  []string
}

type staticEntry struct {
	name string
	sum  [sha256.Size]byte
}

// NewStatic returns a verifier for tokens (name -> token). Its callers are
// trusted: they are granted scopes, which should be every scope the server
// checks.
func NewStatic(tokens map[string]string, scopes []string) *StaticVerifier {
	names := make([]string, 0, len(tokens))
	for n := range tokens {
		names = append(names, n)
	}
	sort.Strings(names)
	v := &StaticVerifier{scopes: slices.Clone(scopes)}
	for _, n := range names {
		v.entries = append(v.entries, staticEntry{name: n, sum: sha256.Sum256([]byte(tokens[n]))})
	}
	return v
}

// Len is the number of configured tokens.
func (v *StaticVerifier) Len() int { return len(v.entries) }

// Verify implements Verifier. A token that is not configured is
// ErrUnrecognized, so that a Chain goes on to the JWT verifier.
func (v *StaticVerifier) Verify(_ context.Context, token string, _ *http.Request) (*sdkauth.TokenInfo, error) {
	sum := sha256.Sum256([]byte(token))
	match := -1
	for i, e := range v.entries {
		if subtle.ConstantTimeCompare(sum[:], e.sum[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return nil, ErrUnrecognized
	}
	name := v.entries[match].name
	return &sdkauth.TokenInfo{
		Scopes: slices.Clone(v.scopes),
		UserID: UserKey(StaticIssuer, name),
		Extra: map[string]any{
			ExtraIdentity: domain.Identity{Issuer: StaticIssuer, Subject: name, Name: name},
			ExtraKind:     KindStatic,
		},
	}, nil
}
