package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// KeySource finds the key that verifies a token. keyfunc.Keyfunc (a remote
// JWKS) satisfies it; LocalKeys adapts a plain jwt.Keyfunc, which is how
// the embedded authorization server hands over its own keys.
type KeySource interface {
	KeyfuncCtx(ctx context.Context) jwt.Keyfunc
}

// LocalKeys is a KeySource over a jwt.Keyfunc that needs no network. Its
// function wraps ErrUnknownKey for a kid it does not have, so that the
// refusal says the key is unknown rather than that keys could not be
// obtained.
type LocalKeys jwt.Keyfunc

// ErrUnknownKey is what a LocalKeys function returns (wrapped) for a
// token whose kid names none of its keys: a forged token, one of another
// instance, or one signed with a key removed since.
var ErrUnknownKey = errors.New("no such signing key")

// KeyfuncCtx implements KeySource.
func (k LocalKeys) KeyfuncCtx(context.Context) jwt.Keyfunc { return jwt.Keyfunc(k) }

// JWKS refresh policy. Keys are refreshed hourly; a token with an unknown
// kid refetches the set at once, but at most once per unknownKIDInterval,
// so that a flood of made-up kids cannot turn into a flood of requests to
// the identity provider.
const (
	jwksRefreshInterval = time.Hour
	unknownKIDInterval  = 30 * time.Second
	// unknownKIDWait bounds how long a request waits for such a refetch;
	// the rate limiter refuses at once when the wait would be longer.
	unknownKIDWait = 10 * time.Second
)

// RemoteKeys returns the key set published at jwksURL, fetched now (a
// failure is logged, not fatal: keys are fetched again when a token
// arrives), refreshed hourly and on an unknown kid. A failed refresh keeps
// the keys already known, so an outage of the identity provider does not
// refuse tokens signed with them. The refresh goroutine ends with ctx.
func RemoteKeys(ctx context.Context, jwksURL string, client *http.Client, logger *slog.Logger) (KeySource, error) {
	if err := checkFetchURL(jwksURL); err != nil {
		return nil, fmt.Errorf("JWKS URL %s: %w", jwksURL, err)
	}
	if client == nil {
		client = NewHTTPClient()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	k, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{jwksURL}, keyfunc.Override{
		Client:            client,
		HTTPTimeout:       10 * time.Second,
		RefreshInterval:   jwksRefreshInterval,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(unknownKIDInterval), 1),
		RateLimitWaitMax:  unknownKIDWait,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(_ context.Context, err error) {
				logger.Warn("could not fetch the identity provider's signing keys; keeping the keys already known", "jwks_url", u, "err", err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", jwksURL, err)
	}
	return k, nil
}

// KeyCount returns how many keys a KeySource holds now, without fetching
// (a remote set counts the keys kept from its last successful fetch). A
// source that cannot tell (a plain LocalKeys) counts as one key.
func KeyCount(ctx context.Context, k KeySource) (int, error) {
	switch k := k.(type) {
	case interface{ Storage() jwkset.Storage }:
		keys, err := k.Storage().KeyReadAll(ctx)
		if err != nil {
			return 0, fmt.Errorf("read the key set: %w", err)
		}
		return len(keys), nil
	case *discoveredKeys:
		return k.keyCount(ctx)
	}
	return 1, nil
}
