package auth

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
)

// DefaultTokenCacheSize is how many verified tokens a JWTVerifier keeps
// when JWTConfig.CacheSize is zero. An entry is about 1 KiB (the claims
// a request needs, never the token), so the cache stays under ~10 MiB
// however many distinct tokens arrive; a server with more active tokens
// than this verifies the overflow's signatures again, nothing worse.
const DefaultTokenCacheSize = 10_000

// tokenKey is the SHA-256 of a token: the cache never holds the token
// itself, so a heap dump shows no usable credential.
type tokenKey [sha256.Size]byte

// verifiedToken is what a full verification established about a token,
// kept so that the next request with it skips the parse and the
// signature. Everything a request may change (the clock, the audience
// the request's host expects, the key still being published, the
// revocation) is checked again on every hit; what the token's signed
// bytes fix (issuer, subject, scopes, identity) is not.
type verifiedToken struct {
	expires   time.Time  // exp
	notBefore *time.Time // nbf, if any
	issuedAt  *time.Time // iat, if any
	audience  jwt.ClaimStrings
	jti       string
	// keyToken is the parsed header (alg, kid) without the token's
	// bytes, to ask the key source again whether the key that verified
	// the signature is still one of the issuer's keys.
	keyToken *jwt.Token
	key      any
	// info is what Verify returns for every request with the token: one
	// value, shared and never written to (TokenInfo is read-only to every
	// consumer: go-sdk's bearer check and session binding, IdentityOf).
	info *sdkauth.TokenInfo
}

// tokenCache is a bounded set of verified tokens with clock (second
// chance) eviction: a hit takes only the read lock and sets the slot's
// reference bit; an insert into a full cache sweeps the hand past
// recently used slots, evicting expired entries and the first slot not
// used since the last sweep.
type tokenCache struct {
	mu    sync.RWMutex
	index map[tokenKey]int
	slots []cacheSlot
	hand  int
	limit int
}

type cacheSlot struct {
	key tokenKey
	tok *verifiedToken
	ref atomic.Bool
}

func newTokenCache(limit int) *tokenCache {
	return &tokenCache{index: make(map[tokenKey]int), limit: limit}
}

// get returns the entry of key, if any and not past its exp at now.
func (c *tokenCache) get(key tokenKey, now time.Time) *verifiedToken {
	c.mu.RLock()
	defer c.mu.RUnlock()
	i, ok := c.index[key]
	if !ok {
		return nil
	}
	s := &c.slots[i]
	if !now.Before(s.tok.expires) {
		return nil // the sweep removes it
	}
	if !s.ref.Load() {
		s.ref.Store(true)
	}
	return s.tok
}

// put adds (or replaces) the entry of key.
func (c *tokenCache) put(key tokenKey, tok *verifiedToken, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.index[key]; ok {
		c.slots[i].tok = tok
		return
	}
	if len(c.slots) < c.limit {
		c.slots = append(c.slots, cacheSlot{key: key, tok: tok})
		c.index[key] = len(c.slots) - 1
		return
	}
	// Sweep: at most two turns, since the first clears every bit.
	for range 2 * len(c.slots) {
		s := &c.slots[c.hand]
		if s.ref.Load() && now.Before(s.tok.expires) {
			s.ref.Store(false)
			c.hand = (c.hand + 1) % len(c.slots)
			continue
		}
		break
	}
	s := &c.slots[c.hand]
	delete(c.index, s.key)
	s.key, s.tok = key, tok
	s.ref.Store(false)
	c.index[key] = c.hand
	c.hand = (c.hand + 1) % len(c.slots)
}

// remove drops the entry of key, if any: a token whose key is no longer
// published is verified in full next time, and refused.
func (c *tokenCache) remove(key tokenKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.index[key]
	if !ok {
		return
	}
	// Keep the slot (the clock's array stays dense) but make it the
	// sweep's first victim: expired, unreferenced.
	delete(c.index, key)
	c.slots[i].key = tokenKey{}
	c.slots[i].tok = &verifiedToken{}
	c.slots[i].ref.Store(false)
}

// len is the number of cached tokens (for tests).
func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.index)
}

// tokenKeyOf is the cache key of a token.
func tokenKeyOf(token string) tokenKey { return sha256.Sum256([]byte(token)) }
