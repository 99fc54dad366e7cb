package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Metadata URLs of an issuer.
//
// RFC 8414 section 3.1 inserts the well-known suffix between the host and
// the issuer's path; OpenID Connect Discovery appends it to the issuer.
// For an issuer without a path both give the same place.

func oauthMetadataURL(issuer string) string { return insertWellKnown(issuer, PathAuthServer) }

func oidcInsertedURL(issuer string) string { return insertWellKnown(issuer, PathOpenIDConfig) }

func oidcAppendedURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + PathOpenIDConfig
}

func insertWellKnown(issuer, wellKnown string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + wellKnown + strings.TrimSuffix(u.EscapedPath(), "/")
}

// candidates returns the upstream URLs to try for one kind of document,
// the most specific first, without duplicates.
func candidates(issuer, kind string) []string {
	var list []string
	if kind == PathOpenIDConfig {
		list = []string{oidcAppendedURL(issuer), oidcInsertedURL(issuer), oauthMetadataURL(issuer)}
	} else {
		list = []string{oauthMetadataURL(issuer), oidcInsertedURL(issuer), oidcAppendedURL(issuer)}
	}
	var out []string
	for _, u := range list {
		if u != "" && !contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// errUpstreamStatus is an upstream answer other than 200.
type errUpstreamStatus struct{ status int }

func (e errUpstreamStatus) Error() string { return fmt.Sprintf("HTTP %d", e.status) }

// fetchJSONObject GETs u and returns its body if it is a JSON object.
func fetchJSONObject(ctx context.Context, client *http.Client, u string) ([]byte, map[string]any, error) {
	if err := checkFetchURL(u); err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, errUpstreamStatus{resp.StatusCode}
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, nil, errors.New("not a JSON object")
	}
	return body, obj, nil
}

// DiscoverJWKS finds the JWKS URL of an OpenID Connect or OAuth issuer
// from its metadata (OpenID Connect Discovery first, then RFC 8414). The
// document must name exactly this issuer, and its jwks_uri must be https
// (http only for loopback): a document that points elsewhere is refused.
func DiscoverJWKS(ctx context.Context, client *http.Client, issuer string) (string, error) {
	if client == nil {
		client = NewHTTPClient()
	}
	var tried []string
	for _, u := range candidates(issuer, PathOpenIDConfig) {
		_, obj, err := fetchJSONObject(ctx, client, u)
		if err != nil {
			tried = append(tried, u+": "+err.Error())
			continue
		}
		if iss, _ := obj["issuer"].(string); iss != issuer {
			tried = append(tried, fmt.Sprintf("%s: its issuer is %q, not %q", u, iss, issuer))
			continue
		}
		jwks, _ := obj["jwks_uri"].(string)
		if jwks == "" {
			tried = append(tried, u+": no jwks_uri")
			continue
		}
		if err := checkFetchURL(jwks); err != nil {
			return "", fmt.Errorf("%s: jwks_uri %s: %w", u, jwks, err)
		}
		return jwks, nil
	}
	return "", fmt.Errorf("no usable metadata for issuer %s (tried %s)", issuer, strings.Join(tried, "; "))
}
