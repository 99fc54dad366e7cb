package oauthclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"golang.org/x/oauth2"
)

// Kind says which step of the flow failed; callers and tests branch on it.
type Kind int

const (
	KindOther            Kind = iota
	KindUnreachable           // connection refused, DNS failure, timeout
	KindTLS                   // certificate or handshake failure
	KindRedirect              // redirect loop or a redirect refused by policy
	KindHTTPStatus            // an unexpected HTTP status
	KindNotJSON               // a response that is not JSON (HTML, say)
	KindBadMetadata           // a metadata document that fails validation
	KindResourceMismatch      // protected-resource metadata for another resource
	KindIssuerMismatch        // authorization-server metadata of another issuer
	KindNoPKCE                // the authorization server does not list S256
	KindNoRegistration        // no configured registration method applies
	KindState                 // the callback's state does not match
	KindDenied                // the user or the authorization server refused
	KindCallback              // the callback was malformed or never came
	KindTokenEndpoint         // the token endpoint refused or failed
	KindClientRejected        // the authorization server does not know the client
	KindStepUpLimit           // the server keeps asking for more scopes
	KindPrivateAddress        // a URL that is not allowed (non-HTTPS, private address)
	KindIssuerResponse        // RFC 9207 iss check failed
)

// Error is a failure of the OAuth flow. Its message is one sentence that
// says what went wrong and where (which URL or which step); it never
// contains a token or a client secret.
type Error struct {
	Kind Kind
	Msg  string
	Err  error // the underlying error, for errors.Is/As; never printed by Error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

func errorf(kind Kind, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// ErrRedirectLoop is returned by the redirect policy of [NewHTTPClient]
// when a request was redirected too often.
var ErrRedirectLoop = errors.New("too many redirects")

// describeRequestError turns a failed HTTP request to what (a phrase such
// as "the protected-resource metadata") at rawURL into an *Error.
func describeRequestError(what, rawURL string, err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	host := rawURL
	if u, perr := url.Parse(rawURL); perr == nil && u.Host != "" {
		host = u.Host
	}
	switch {
	case errors.Is(err, ErrRedirectLoop):
		return errorf(KindRedirect, err, "fetching %s at %s was redirected more than %d times (a redirect loop?)", what, rawURL, maxRedirects)
	case errors.Is(err, errDowngrade):
		return errorf(KindRedirect, err, "fetching %s at %s was redirected from HTTPS to plain HTTP, which atomcp refuses", what, rawURL)
	case errors.Is(err, errForbiddenAddress):
		return errorf(KindPrivateAddress, err, "%s at %s resolves to an address atomcp may not reach for OAuth requests (%s)", what, rawURL, innermost(err))
	}
	if tlsMsg, ok := tlsProblem(err); ok {
		return errorf(KindTLS, err, "TLS error talking to %s for %s: %s", host, what, tlsMsg)
	}
	if netMsg, ok := networkProblem(err); ok {
		return errorf(KindUnreachable, err, "cannot reach %s for %s: %s", host, what, netMsg)
	}
	return errorf(KindOther, err, "fetching %s at %s failed: %s", what, rawURL, innermost(err))
}

// tlsProblem reports whether err is a TLS failure, and a short reason.
func tlsProblem(err error) (string, bool) {
	if e, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return "the certificate is not trusted (" + innermost(e.Err) + ")", true
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return "the certificate is signed by an unknown authority", true
	}
	if e, ok := errors.AsType[x509.HostnameError](err); ok {
		return "the certificate is not valid for this host name (" + e.Error() + ")", true
	}
	if e, ok := errors.AsType[x509.CertificateInvalidError](err); ok {
		return "the certificate is invalid (" + e.Error() + ")", true
	}
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok {
		return "the server did not answer with TLS (is it plain HTTP?)", true
	}
	if e, ok := errors.AsType[*tls.AlertError](err); ok {
		return "the TLS handshake failed (" + e.Error() + ")", true
	}
	if strings.Contains(err.Error(), "tls: ") {
		return innermost(err), true
	}
	return "", false
}

// networkProblem reports whether err is a connection-level failure.
func networkProblem(err error) (string, bool) {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return "connection refused (is the server running?)", true
	}
	if errors.Is(err, syscall.ECONNRESET) {
		return "the connection was reset", true
	}
	if e, ok := errors.AsType[*net.DNSError](err); ok {
		if e.IsNotFound {
			return "the host name " + e.Name + " does not resolve", true
		}
		return "DNS lookup of " + e.Name + " failed", true
	}
	if e, ok := errors.AsType[net.Error](err); ok && e.Timeout() {
		return "the request timed out", true
	}
	if _, ok := errors.AsType[*net.OpError](err); ok {
		return innermost(err), true
	}
	return "", false
}

// innermost returns the message of the deepest wrapped error, which for
// url.Error and net.OpError chains is the useful part.
func innermost(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		if _, ok := err.(*url.Error); !ok {
			if _, ok := err.(*net.OpError); !ok {
				if _, ok := err.(*net.DNSError); !ok {
					// Keep messages of errors that add context themselves.
					return err.Error()
				}
			}
		}
		err = next
	}
}

// describeTokenError turns an error of a request to the token endpoint at
// tokenURL into an *Error. It never includes the response body of a
// successful-looking answer, which could carry a token.
func describeTokenError(tokenURL string, err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
		status := 0
		ct := ""
		if re.Response != nil {
			status = re.Response.StatusCode
			ct = re.Response.Header.Get("Content-Type")
		}
		switch {
		case re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client":
			return errorf(KindClientRejected, err, "the token endpoint %s rejected the client: %s%s", tokenURL, re.ErrorCode, describeSuffix(re.ErrorDescription))
		case re.ErrorCode != "":
			return errorf(KindTokenEndpoint, err, "the token endpoint %s refused the request: %s%s", tokenURL, re.ErrorCode, describeSuffix(re.ErrorDescription))
		case status >= 500:
			return errorf(KindTokenEndpoint, err, "the token endpoint %s answered HTTP %d", tokenURL, status)
		case status == http.StatusUnauthorized:
			return errorf(KindClientRejected, err, "the token endpoint %s answered HTTP 401 (the client was not accepted)", tokenURL)
		case status != 0 && status != 200:
			return errorf(KindTokenEndpoint, err, "the token endpoint %s answered HTTP %d%s", tokenURL, status, contentTypeSuffix(ct))
		}
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "cannot parse json") || strings.Contains(msg, "invalid character") ||
		strings.Contains(msg, "cannot unmarshal") || strings.Contains(msg, "unexpected end of JSON"):
		return errorf(KindTokenEndpoint, err, "the token endpoint %s answered with invalid JSON", tokenURL)
	case strings.Contains(msg, "server response missing access_token"):
		return errorf(KindTokenEndpoint, err, "the token endpoint %s answered without an access_token", tokenURL)
	}
	if strings.Contains(msg, "cannot parse") {
		return errorf(KindTokenEndpoint, err, "the token endpoint %s answered with a response atomcp cannot read", tokenURL)
	}
	return describeRequestError("the token", tokenURL, err)
}

func describeSuffix(desc string) string {
	if desc == "" {
		return ""
	}
	return " (" + desc + ")"
}

func contentTypeSuffix(ct string) string {
	if ct == "" {
		return ""
	}
	return " (" + ct + ")"
}

// DescribeTransportError returns the one-sentence *Error for a
// connection-level failure (unreachable host, TLS, redirects) of a request
// to what (a phrase such as "the MCP server") at rawURL, or nil when err is
// not one.
func DescribeTransportError(what, rawURL string, err error) *Error {
	switch {
	case errors.Is(err, ErrRedirectLoop):
		return errorf(KindRedirect, err, "%s at %s redirected more than %d times (a redirect loop?)", what, rawURL, maxRedirects)
	case errors.Is(err, errDowngrade):
		return errorf(KindRedirect, err, "%s at %s redirected from HTTPS to plain HTTP, which atomcp refuses", what, rawURL)
	}
	if msg, ok := tlsProblem(err); ok {
		return errorf(KindTLS, err, "TLS error talking to %s at %s: %s", what, rawURL, msg)
	}
	if msg, ok := networkProblem(err); ok {
		return errorf(KindUnreachable, err, "cannot reach %s at %s: %s", what, rawURL, msg)
	}
	return nil
}
