package authserver

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// schemes that must never receive an authorization response: they run
// code or read local data instead of reaching a client.
var forbiddenSchemes = map[string]bool{
	"javascript": true, "data": true, "vbscript": true, "file": true,
	"about": true, "blob": true, "filesystem": true, "view-source": true,
}

var schemeSyntax = regexp.MustCompile(`^[a-z][a-z0-9+.\-]*$`)

// redirectKind classifies a valid redirect URI.
type redirectKind int

const (
	redirectHTTPS      redirectKind = iota
	redirectLoopback                // http on 127.0.0.1, [::1] or localhost (RFC 8252 §7.3)
	redirectPrivateUse              // a native app's own scheme (RFC 8252 §7.1)
)

// validateRedirectURI checks a redirect URI offered at registration or in
// a client metadata document, and says what is wrong in words a client
// developer can act on.
func validateRedirectURI(raw string) (redirectKind, error) {
	switch {
	case raw == "":
		return 0, errors.New("a redirect URI is empty")
	case len(raw) > 2000:
		return 0, fmt.Errorf("redirect URI %.60q… is longer than 2000 characters", raw)
	case strings.Contains(raw, "#"):
		return 0, fmt.Errorf("redirect URI %q has a fragment (#…); fragments are not allowed (RFC 6749 §3.1.2)", raw)
	case strings.Contains(raw, "*"):
		return 0, fmt.Errorf("redirect URI %q contains a wildcard; register each URI exactly", raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return 0, fmt.Errorf("redirect URI %q is not a URL: %v", raw, err)
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "":
		return 0, fmt.Errorf("redirect URI %q is not absolute (it has no scheme)", raw)
	case forbiddenSchemes[scheme]:
		return 0, fmt.Errorf("redirect URI %q uses the %s: scheme, which is never allowed", raw, scheme)
	case u.User != nil:
		return 0, fmt.Errorf("redirect URI %q contains user information (user@), which is not allowed", raw)
	}
	switch scheme {
	case "https":
		if u.Hostname() == "" {
			return 0, fmt.Errorf("redirect URI %q has no host", raw)
		}
		return redirectHTTPS, nil
	case "http":
		if !isLoopbackRedirectHost(u.Hostname()) {
			return 0, fmt.Errorf("redirect URI %q uses http on a host other than 127.0.0.1, [::1] or localhost; use https, or a loopback address for a native app (RFC 8252 §7.3)", raw)
		}
		return redirectLoopback, nil
	}
	if !schemeSyntax.MatchString(scheme) {
		return 0, fmt.Errorf("redirect URI %q has an invalid scheme", raw)
	}
	return redirectPrivateUse, nil
}

// isLoopbackRedirectHost reports whether an http redirect URI's host is
// one RFC 8252 §7.3 allows for a native app: "localhost" or a loopback IP
// literal. It is deliberately narrower than netaddr.IsLoopbackHost (no
// app.localhost, no trailing dot): the authorization code travels in clear
// to that host, the user's browser (not this server) resolves the name,
// and RFC 8252 §8.3 already warns that even "localhost" may resolve
// elsewhere; the error message above promises exactly these spellings.
func isLoopbackRedirectHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redirectMatches reports whether requested is one of the registered
// redirect URIs: exactly, except that the port of a loopback http URI may
// differ, because a native app gets a free port from the system at run
// time (RFC 8252 §7.3).
func redirectMatches(registered []string, requested string) bool {
	for _, r := range registered {
		if r == requested {
			return true
		}
	}
	req, err := url.Parse(requested)
	if err != nil || req.Scheme != "http" || !isLoopbackRedirectHost(req.Hostname()) || req.Fragment != "" || req.User != nil {
		return false
	}
	for _, r := range registered {
		reg, err := url.Parse(r)
		if err != nil || reg.Scheme != "http" || !isLoopbackRedirectHost(reg.Hostname()) {
			continue
		}
		if reg.Hostname() == req.Hostname() && reg.EscapedPath() == req.EscapedPath() && reg.RawQuery == req.RawQuery {
			return true
		}
	}
	return false
}
