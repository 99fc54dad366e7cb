package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultMetadataTTL is how long a forwarded document is served from cache.
const DefaultMetadataTTL = 10 * time.Minute

// ASMetadataProxy serves the remote authorization server's metadata at
// this server's /.well-known/oauth-authorization-server and
// /.well-known/openid-configuration, for clients of the 2025-03-26
// revision that look for it there. Documents are forwarded unchanged
// (the upstream issuer included: RFC 8414 clients that compare it with
// this server's URL will ignore the document, which is right, as they
// discover through the protected-resource document). They are cached for
// TTL and served stale while the upstream fails; with nothing cached, a
// failure is a 502 naming the upstream URL. Only URLs derived from the
// configured issuer are ever fetched.
type ASMetadataProxy struct {
	issuer  string
	mcpPath string
	client  *http.Client
	ttl     time.Duration
	logger  *slog.Logger
	now     func() time.Time

	docs map[string]*cachedDoc // by well-known path
}

type cachedDoc struct {
	fetchMu sync.Mutex // held while fetching

	mu      sync.Mutex
	body    []byte
	source  string
	fetched time.Time
}

// NewASMetadataProxy returns the proxy for issuer.
func NewASMetadataProxy(issuer, mcpPath string, client *http.Client, ttl time.Duration, logger *slog.Logger) *ASMetadataProxy {
	if client == nil {
		client = NewHTTPClient()
	}
	if ttl <= 0 {
		ttl = DefaultMetadataTTL
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &ASMetadataProxy{
		issuer: issuer, mcpPath: mcpPath, client: client, ttl: ttl, logger: logger, now: time.Now,
		docs: map[string]*cachedDoc{PathAuthServer: {}, PathOpenIDConfig: {}},
	}
}

// ServeHTTP implements http.Handler.
func (p *ASMetadataProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := ""
	for _, k := range []string{PathAuthServer, PathOpenIDConfig} {
		if metadataSuffixOK(r.URL.Path, k, p.mcpPath) {
			kind = k
		}
	}
	if kind == "" {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "message": "no metadata at " + r.URL.Path + "; the authorization server is " + p.issuer})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed", "message": "use GET"})
		return
	}
	body, err := p.document(r.Context(), kind)
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "upstream_unavailable", "message": err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(body)
}

// document returns the cached document of kind, refreshing it when stale.
// While one request refreshes, others get the stale copy at once rather
// than queue behind a slow upstream.
func (p *ASMetadataProxy) document(ctx context.Context, kind string) ([]byte, error) {
	d := p.docs[kind]
	body, fetched := d.get()
	if body != nil && p.now().Sub(fetched) < p.ttl {
		return body, nil
	}
	if body != nil {
		if !d.fetchMu.TryLock() {
			return body, nil
		}
	} else {
		d.fetchMu.Lock()
		// Someone else may have fetched it while this one waited.
		if b, f := d.get(); b != nil && p.now().Sub(f) < p.ttl {
			d.fetchMu.Unlock()
			return b, nil
		}
	}
	defer d.fetchMu.Unlock()
	newBody, source, err := p.fetch(ctx, kind)
	if err != nil {
		if body != nil {
			p.logger.Warn("authorization server metadata could not be refreshed; serving the cached copy", "err", err, "age", p.now().Sub(fetched).Round(time.Second).String())
			return body, nil
		}
		p.logger.Error("authorization server metadata unavailable", "err", err)
		return nil, err
	}
	d.mu.Lock()
	d.body, d.source, d.fetched = newBody, source, p.now()
	d.mu.Unlock()
	return newBody, nil
}

func (d *cachedDoc) get() ([]byte, time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.body, d.fetched
}

// fetch tries the upstream URLs for kind in order.
func (p *ASMetadataProxy) fetch(ctx context.Context, kind string) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var tried []string
	for _, u := range candidates(p.issuer, kind) {
		body, _, err := fetchJSONObject(ctx, p.client, u)
		if err == nil {
			return body, u, nil
		}
		tried = append(tried, u+" ("+err.Error()+")")
	}
	return nil, "", fmt.Errorf("could not fetch the authorization server's metadata from %s", strings.Join(tried, ", "))
}
