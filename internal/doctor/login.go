package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/mcpclient"
	"github.com/atomcp/atomcp/internal/oauthclient"
)

// DefaultLoginTimeout is how long --login waits for the user to finish
// the login in the browser.
const DefaultLoginTimeout = 5 * time.Minute

// checkLogin is the end-to-end proof of --login: atomcp's OAuth client
// (the one of `atomcp login`) runs the real flow — discovery, dynamic
// registration, the browser login on a loopback callback, the code
// exchange — and tools/list is called with the token it got. Nothing is
// kept: the token cache of `atomcp login` is not touched.
func (r *run) checkLogin(ctx context.Context) {
	if !r.opts.Login {
		return
	}
	f := Finding{ID: IDLogin, Area: AreaLogin}
	if !r.needsAuth {
		f.Status, f.Title = Skip, "the server answers without a token: nothing to log in to"
		r.add(f)
		return
	}
	hc := &http.Client{Transport: &traceTransport{r: r, base: r.transport}, CheckRedirect: loginRedirects}
	h, err := oauthclient.New(oauthclient.Config{
		ServerURL:       r.mcp.String(),
		Registration:    oauthclient.Registration{Dynamic: true},
		Browser:         r.opts.LoginBrowser,
		Prompt:          r.opts.LoginPrompt,
		LoginTimeout:    r.opts.LoginTimeout,
		HTTPClient:      hc,
		ClientName:      "atomcp doctor",
		SoftwareVersion: r.opts.Version,
		ForceLogin:      true,
	})
	if err != nil {
		r.add(loginFailure(err))
		return
	}
	c, err := mcpclient.Connect(ctx, mcpclient.Options{
		URL: r.mcp.String(), OAuth: h, Name: "atomcp-doctor", Version: r.opts.Version,
		HTTPClient: &http.Client{Transport: &traceTransport{r: r, base: r.transport}},
	})
	if err != nil {
		r.add(loginFailure(err))
		return
	}
	defer c.Close()
	// Servers that let initialize through ask for the token on the first
	// real request.
	res, err := c.ListTools(ctx, nil)
	if err != nil {
		r.add(loginFailure(c.Describe(err)))
		return
	}
	rec := h.Token()
	if rec == nil || h.Logins() == 0 {
		f.Status, f.Title = Skip, fmt.Sprintf("the server listed %d tools without asking for a login", len(res.Tools))
		r.add(f)
		return
	}
	f.Status = Pass
	f.Title = fmt.Sprintf("logged in at %s (a dynamically registered client, scopes %s) and listed %d tools with the token", rec.Issuer, orNone(rec.Scopes), len(res.Tools))
	r.add(f)
}

// loginRedirects is the redirect policy of the login's OAuth requests:
// at most MaxRedirects, never from https to http.
func loginRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= MaxRedirects {
		return fmt.Errorf("more than %d redirects", MaxRedirects)
	}
	if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return errors.New("redirect from https to http")
	}
	return nil
}

// loginFailure turns an error of the login into a finding; the OAuth
// client's errors are one sentence that names the step and the URL.
func loginFailure(err error) Finding {
	f := Finding{ID: IDLogin, Area: AreaLogin, Status: Fail, Title: "the login failed: " + err.Error()}
	f.Fix = "The findings above usually name the cause; atomcp doctor -v --login shows every request of the flow."
	var oe *oauthclient.Error
	if errors.As(err, &oe) {
		switch oe.Kind {
		case oauthclient.KindNoRegistration:
			f.Fix = "doctor logs in with Dynamic Client Registration; if the authorization server offers only Client ID Metadata Documents, log in with `atomcp login URL --client-metadata-url https://…` or a pre-registered `--client-id`."
		case oauthclient.KindDenied:
			f.Fix = "The login was refused at the authorization server (by the user, or by its policy for this client or redirect URI); its error is quoted above."
		case oauthclient.KindCallback:
			f.Fix = "Nobody finished the login in the browser in time, or the browser could not reach the loopback callback on 127.0.0.1: run again and complete the login (--login waits up to 5 minutes)."
		case oauthclient.KindTokenEndpoint, oauthclient.KindClientRejected:
			f.Fix = "The token endpoint refused the code exchange; a client registered with client_secret_basic although it asked for a public client causes this (see the registration findings)."
		case oauthclient.KindResourceMismatch, oauthclient.KindIssuerMismatch, oauthclient.KindNoPKCE:
			f.Fix = "The discovery documents contradict each other; the metadata findings above name the fix."
		}
	}
	if strings.Contains(err.Error(), "audience") {
		f.Fix = "The server refuses the token the login produced: add this MCP URL as a resource indicator at the identity provider (WorkOS: Connect → Configuration → MCP resource indicators)."
	}
	return f
}

// traceTransport records the exchanges of the OAuth client and the MCP
// client for -v, without their bodies (they carry codes and tokens).
type traceTransport struct {
	r    *run
	base http.RoundTripper
}

func (t *traceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	if !t.r.opts.Verbose && t.r.opts.Trace == nil {
		return resp, err
	}
	x := Exchange{Method: req.Method, URL: req.URL.String(), RequestHeaders: flatten(req.Header), DurationMS: time.Since(start).Milliseconds()}
	if err != nil {
		x.Error = t.r.describe(err)
	} else {
		x.Status = resp.StatusCode
		x.ResponseHeaders = flatten(resp.Header)
		x.Body = "[not shown: it may hold a code or a token]"
	}
	t.r.record(x)
	return resp, err
}
