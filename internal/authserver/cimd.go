package authserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/atomcp/atomcp/internal/netaddr"
)

// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document):
// a client_id that is an https URL names a JSON document, published by
// the client, that holds its metadata. The authorization server fetches it
// on request, which makes it an SSRF target: the fetcher below refuses
// private, loopback, link-local and other special addresses, and checks
// the address it actually connects to (in the dialer's Control hook, after
// DNS resolution), so that a name that resolves to a public address when
// checked and to a private one when used (DNS rebinding) is refused too.

const (
	cimdMaxBytes   = 5 * 1024 // the draft's suggested limit
	cimdTimeout    = 5 * time.Second
	cimdDefaultTTL = 5 * time.Minute
	cimdMaxTTL     = 24 * time.Hour
	cimdCacheSize  = 1000
)

// isCIMDClientID reports whether a client_id is a metadata document URL
// rather than a registered id.
func isCIMDClientID(id string) bool {
	return strings.HasPrefix(id, "https://") || strings.HasPrefix(id, "http://")
}

type cimdFetcher struct {
	client *http.Client
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cimdEntry
}

type cimdEntry struct {
	client  *client
	expires time.Time
}

func newCIMDFetcher(allowPrivate bool, roots *x509.CertPool, now func() time.Time, wrap func(http.RoundTripper) http.RoundTripper) *cimdFetcher {
	dialer := &net.Dialer{Timeout: cimdTimeout}
	if !allowPrivate {
		dialer.Control = refusePrivate
	}
	transport := &http.Transport{
		// No proxy: a proxy would resolve the name itself, out of reach
		// of the address check.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    cimdTimeout,
		ResponseHeaderTimeout:  cimdTimeout,
		MaxResponseHeaderBytes: 16 << 10,
		DisableKeepAlives:      true,
		ForceAttemptHTTP2:      true,
	}
	var rt http.RoundTripper = transport
	if wrap != nil {
		rt = wrap(rt)
	}
	return &cimdFetcher{
		client: &http.Client{
			Transport: rt,
			Timeout:   cimdTimeout,
			// The document must be at the client_id URL itself; a
			// redirect could also lead the fetch somewhere private.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		now:   now,
		cache: make(map[string]cimdEntry),
	}
}

var errPrivateAddress = errors.New("private address")

// refusePrivate is the dialer's Control hook: it runs for the resolved
// address of every connection attempt, after DNS.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot check address %q", errPrivateAddress, address)
	}
	if !netaddr.IsPublic(ap.Addr()) {
		return fmt.Errorf("%w: %s is not a public internet address", errPrivateAddress, ap.Addr())
	}
	return nil
}

// checkCIMDURL validates a client_id URL before anything is fetched.
func checkCIMDURL(id string) error {
	u, err := url.Parse(id)
	switch {
	case err != nil:
		return fmt.Errorf("the client_id %q is not a valid URL", id)
	case u.Scheme != "https":
		return fmt.Errorf("a client_id URL must use https (got %q)", id)
	case u.Host == "" || u.User != nil:
		return fmt.Errorf("the client_id URL %q must have a host and no user information", id)
	case u.Fragment != "" || strings.Contains(id, "#"):
		return fmt.Errorf("the client_id URL %q must not have a fragment", id)
	case u.Path == "" || u.Path == "/":
		return fmt.Errorf("the client_id URL %q must have a path naming the metadata document", id)
	case slices.Contains(strings.Split(u.Path, "/"), ".") || slices.Contains(strings.Split(u.Path, "/"), ".."):
		return fmt.Errorf("the client_id URL %q must not contain . or .. path segments", id)
	}
	return nil
}

// cimdDocument is the part of a client metadata document that is used.
type cimdDocument struct {
	ClientID                string   `json:"client_id"`
	ClientName              string   `json:"client_name"`
	ClientURI               string   `json:"client_uri"`
	LogoURI                 string   `json:"logo_uri"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	Scope                   string   `json:"scope"`
	ClientSecret            string   `json:"client_secret"`
	ApplicationType         string   `json:"application_type"`
}

// get returns the client a metadata document describes, from the cache or
// fetched. Errors say what is wrong with the document, for the error page.
func (f *cimdFetcher) get(ctx context.Context, id string) (*client, error) {
	now := f.now()
	f.mu.Lock()
	e, ok := f.cache[id]
	f.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.client, nil
	}
	if err := checkCIMDURL(id); err != nil {
		return nil, err
	}
	c, ttl, err := f.fetch(ctx, id)
	if err != nil {
		return nil, err
	}
	if ttl > 0 {
		f.mu.Lock()
		if len(f.cache) >= cimdCacheSize {
			clear(f.cache) // crude, but bounded; entries are cheap to refetch
		}
		f.cache[id] = cimdEntry{client: c, expires: now.Add(ttl)}
		f.mu.Unlock()
	}
	return c, nil
}

func (f *cimdFetcher) fetch(ctx context.Context, id string) (*client, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil) // #nosec G704 -- fetching the client_id URL is the point of CIMD; checkCIMDURL and the dialer's refusePrivate hook bound it (TestAttackCIMD)
	if err != nil {
		return nil, 0, fmt.Errorf("the client_id URL %q cannot be fetched: %v", id, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req) // #nosec G704 -- see above: private, loopback and link-local addresses are refused at dial time, redirects are not followed
	if err != nil {
		if errors.Is(err, errPrivateAddress) {
			return nil, 0, fmt.Errorf("the client metadata document %s is on a private, loopback or link-local address, which this server does not fetch from", id)
		}
		return nil, 0, fmt.Errorf("the client metadata document %s could not be fetched: %v", id, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("fetching the client metadata document %s returned HTTP %d; it must answer 200 with JSON", id, resp.StatusCode)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return nil, 0, fmt.Errorf("the client metadata document %s has content type %q; it must be application/json", id, resp.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, cimdMaxBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("reading the client metadata document %s failed: %v", id, err)
	}
	if len(body) > cimdMaxBytes {
		return nil, 0, fmt.Errorf("the client metadata document %s is larger than %d bytes", id, cimdMaxBytes)
	}
	var doc cimdDocument
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, 0, fmt.Errorf("the client metadata document %s is not valid JSON: %v", id, err)
	}
	c, err := doc.client(id)
	if err != nil {
		return nil, 0, fmt.Errorf("the client metadata document %s is not acceptable: %v", id, err)
	}
	return c, cacheTTL(resp.Header), nil
}

func (d *cimdDocument) client(id string) (*client, error) {
	if d.ClientID != id {
		return nil, fmt.Errorf("its client_id %q is not the URL it was fetched from", d.ClientID)
	}
	if d.ClientSecret != "" {
		return nil, errors.New("it contains a client_secret; a metadata document is public and must not")
	}
	switch d.TokenEndpointAuthMethod {
	case "", "none":
	default:
		return nil, fmt.Errorf("token_endpoint_auth_method %q is not supported for metadata document clients; use none", d.TokenEndpointAuthMethod)
	}
	if len(d.RedirectURIs) == 0 {
		return nil, errors.New("it has no redirect_uris")
	}
	private := false
	for _, r := range d.RedirectURIs {
		kind, err := validateRedirectURI(r)
		if err != nil {
			return nil, err
		}
		private = private || kind != redirectHTTPS
	}
	appType, oerr := applicationType(d.ApplicationType, d.RedirectURIs, private)
	if oerr != nil {
		return nil, errors.New(oerr.Description)
	}
	grants := d.GrantTypes
	if len(grants) == 0 {
		grants = []string{"authorization_code"}
	}
	for _, g := range grants {
		if !slices.Contains(grantTypesSupported, g) {
			return nil, fmt.Errorf("grant type %q is not supported; supported: %s", g, strings.Join(grantTypesSupported, ", "))
		}
	}
	if len(d.ResponseTypes) > 0 && !slices.Equal(d.ResponseTypes, []string{"code"}) {
		return nil, fmt.Errorf("response_types %v are not supported; only code is", d.ResponseTypes)
	}
	name := d.ClientName
	if name == "" {
		name = id
	}
	return &client{
		ID: id, Name: name, RedirectURIs: d.RedirectURIs, GrantTypes: grants,
		AuthMethod: "none", ClientURI: d.ClientURI, FromDocument: true, ApplicationType: appType,
	}, nil
}

// cacheTTL reads how long a response may be cached (RFC 9111: no-store
// and no-cache mean not at all, max-age bounds it), capped at a day.
func cacheTTL(h http.Header) time.Duration {
	cc := strings.ToLower(h.Get("Cache-Control"))
	if cc == "" {
		return cimdDefaultTTL
	}
	ttl := cimdDefaultTTL
	for _, d := range strings.Split(cc, ",") {
		d = strings.TrimSpace(d)
		switch {
		case d == "no-store" || d == "no-cache":
			return 0
		case strings.HasPrefix(d, "max-age="):
			n, err := strconv.Atoi(strings.TrimPrefix(d, "max-age="))
			if err != nil || n < 0 {
				return 0
			}
			ttl = time.Duration(n) * time.Second
		}
	}
	return min(ttl, cimdMaxTTL)
}

// unwrapURLError drops the "Get \"url\": " prefix that *url.Error adds.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
