package auth

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/atomcp/atomcp/internal/netaddr"
)

// maxFetchBytes bounds every document this package fetches (JWKS,
// discovery and authorization server metadata): they are a few KiB, and an
// upstream that sends more is broken or hostile.
const maxFetchBytes = 1 << 20

// NewHTTPClient returns the client used for the identity provider's
// documents: a short timeout, no redirects (a redirect could lead the
// fetch to a host the operator never configured), and bodies cut at 1 MiB.
func NewHTTPClient() *http.Client {
	return &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     limitedTransport{http.DefaultTransport},
	}
}

// limitedTransport cuts response bodies at maxFetchBytes.
type limitedTransport struct{ base http.RoundTripper }

func (t limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: maxFetchBytes}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

var errTooLarge = errors.New("response larger than 1 MiB")

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells "exactly at the limit" from "over it".
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, errTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// checkFetchURL refuses URLs that are not https, except http to a
// loopback host (the fake identity providers of tests).
func checkFetchURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("not an absolute URL")
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && netaddr.IsLoopbackHost(u.Hostname()):
		return nil
	}
	return errors.New("must be https (http only for loopback hosts)")
}
