package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// CallbackPath is the path of the loopback redirect URI.
const CallbackPath = "/oauth/callback"

// Callback is the loopback redirect target of a login (RFC 8252): an HTTP
// server on 127.0.0.1 that accepts one request at [CallbackPath], checks
// its state, shows a small page and shuts down.
type Callback struct {
	ln   net.Listener
	port int
	once sync.Once
}

// ListenCallback opens the loopback listener on 127.0.0.1:port (0 picks a
// free port). The redirect URI is known from then on, before the login
// starts.
func ListenCallback(port int) (*Callback, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, errorf(KindCallback, err, "the callback port %d on 127.0.0.1 is in use; choose another with --callback-port", port)
		}
		return nil, errorf(KindCallback, err, "cannot listen on 127.0.0.1:%d for the login callback: %v", port, err)
	}
	return &Callback{ln: ln, port: ln.Addr().(*net.TCPAddr).Port}, nil
}

// Port is the port listened on.
func (c *Callback) Port() int { return c.port }

// RedirectURI is http://127.0.0.1:PORT/oauth/callback.
func (c *Callback) RedirectURI() string {
	return "http://127.0.0.1:" + strconv.Itoa(c.port) + CallbackPath
}

// Close stops listening. Closing twice is harmless.
func (c *Callback) Close() error {
	var err error
	c.once.Do(func() { err = c.ln.Close() })
	return err
}

// Wait serves the callback until the redirect of the login whose state is
// wantState arrives, or ctx ends, then shuts the server down. The first
// request to [CallbackPath] decides: a wrong state, an error answer
// (access_denied …) or a missing code ends the login with an *Error.
// Requests to other paths (a browser's favicon) get 404 and do not count.
func (c *Callback) Wait(ctx context.Context, wantState string) (*auth.AuthorizationResult, error) {
	type outcome struct {
		res *auth.AuthorizationResult
		err error
	}
	done := make(chan outcome, 1)
	var decided sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc(CallbackPath, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		res, err := readCallback(r)
		if err == nil && res.State != wantState {
			err = errorf(KindState, nil, "the login callback's state does not match the login atomcp started (a stale tab or a forged redirect); log in again")
		}
		first := false
		decided.Do(func() { first = true })
		if !first {
			page(w, http.StatusConflict, "Login already finished", "This login has already been handled. You can close this tab.")
			return
		}
		if err != nil {
			page(w, http.StatusBadRequest, "Login failed", err.Error()+" You can close this tab.")
		} else {
			page(w, http.StatusOK, "Logged in", "atomcp received the authorization. You can close this tab and return to the terminal.")
		}
		done <- outcome{res, err}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(c.ln) }()

	var out outcome
	select {
	case out = <-done:
	case err := <-served:
		return nil, errorf(KindCallback, err, "the login callback server on 127.0.0.1:%d stopped: %v", c.port, err)
	case <-ctx.Done():
		out.err = ctx.Err()
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx) // lets the page be written, then closes the listener
	c.Close()
	return out.res, out.err
}

// readCallback reads the authorization response (RFC 6749 §4.1.2) from
// the redirect.
func readCallback(r *http.Request) (*auth.AuthorizationResult, error) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		desc := describeSuffix(q.Get("error_description"))
		switch e {
		case "access_denied":
			return nil, errorf(KindDenied, nil, "the authorization server refused the login: access_denied%s", desc)
		case "unauthorized_client", "invalid_client":
			return nil, errorf(KindClientRejected, nil, "the authorization server rejected the client: %s%s", e, desc)
		default:
			return nil, errorf(KindDenied, nil, "the authorization server ended the login with the error %s%s", e, desc)
		}
	}
	res := &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}
	if res.Code == "" {
		return nil, errorf(KindCallback, nil, "the login callback carried neither a code nor an error")
	}
	return res, nil
}

func page(w http.ResponseWriter, status int, title, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>atomcp: %[1]s</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}</style></head>
<body><h1>%[1]s</h1><p>%[2]s</p></body></html>
`, html.EscapeString(title), html.EscapeString(msg))
}
