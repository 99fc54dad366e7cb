package authserver

import (
	"strings"
	"sync"
	"time"
)

// maxGuardEntries bounds the memory of the sign-in guard (see prune).
const maxGuardEntries = 100_000

// loginGuard counts wrong passwords per email and client address and
// locks that pair out with the growing back-off of lockoutAfter. It is
// keyed by the email as typed (lower-cased), whether an account has it or
// not, so that a known, an unknown and a locked email get the same
// answers; and by the address, so that someone guessing from one address
// never locks the owner out from another. (The per-address limit of all
// sign-in attempts, Server.login, bounds spraying many emails.) The
// counts are per process: N replicas give an attacker N times the
// guesses before the back-off, which doubles anyway.
type loginGuard struct {
	mu      sync.Mutex
	entries map[string]*guardEntry
}

type guardEntry struct {
	failures    int
	lockedUntil time.Time
}

func newLoginGuard() *loginGuard { return &loginGuard{entries: map[string]*guardEntry{}} }

func guardKey(email, addr string) string {
	return strings.ToLower(strings.TrimSpace(email)) + "\x00" + addr
}

// locked returns how long the pair is still locked out, or 0.
func (g *loginGuard) locked(key string, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if e := g.entries[key]; e != nil && now.Before(e.lockedUntil) {
		return e.lockedUntil.Sub(now)
	}
	return 0
}

// fail records a wrong password and returns the consecutive count.
func (g *loginGuard) fail(key string, now time.Time) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.entries[key]
	if e == nil {
		if len(g.entries) >= maxGuardEntries {
			g.prune(now)
		}
		e = &guardEntry{}
		g.entries[key] = e
	}
	e.failures++
	e.lockedUntil = now.Add(lockoutAfter(e.failures))
	return e.failures
}

// succeed forgets the pair's failures.
func (g *loginGuard) succeed(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.entries, key)
}

// prune drops entries whose lock-out ended more than maxLockout ago;
// if that is not enough (a flood of fresh pairs), it forgets them all
// rather than grow without bound. g.mu is held.
func (g *loginGuard) prune(now time.Time) {
	for k, e := range g.entries {
		if now.Sub(e.lockedUntil) > maxLockout {
			delete(g.entries, k)
		}
	}
	if len(g.entries) >= maxGuardEntries {
		clear(g.entries)
	}
}
