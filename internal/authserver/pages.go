package authserver

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
)

// The login, consent, setup and error pages are server-rendered from
// embedded templates: no JavaScript at all, one inline style sheet allowed
// by its hash, readable on a phone.
//
//go:embed templates/*.html templates/style.css
var templateFiles embed.FS

type pages struct {
	byName map[string]*template.Template
	css    template.CSS
	csp    string
}

func newPages() *pages {
	css, err := templateFiles.ReadFile("templates/style.css")
	if err != nil {
		panic(err) // embedded: cannot fail in a built binary
	}
	sum := sha256.Sum256(css)
	p := &pages{
		byName: map[string]*template.Template{},
		css:    template.CSS(css), // #nosec G203 -- the page's own embedded stylesheet, never user input
		// No script may run, nothing may frame the pages (clickjacking of
		// the consent button), forms post only here, and nothing else
		// loads. form-action is left out on purpose: browsers apply it to
		// the redirect that follows the consent form, whose target is the
		// client's redirect URI.
		csp: "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
			"img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
	}
	for _, name := range []string{"login", "consent", "error", "setup", "account", "token", "logout", "admin", "invite"} {
		p.byName[name] = template.Must(template.ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html"))
	}
	return p
}

// pageData is what every page shows; the page-specific fields are in
// Fields, read by the page's template.
type pageData struct {
	Title string
	Error string
	CSS   template.CSS
	// Page-specific values.
	ClientName, RedirectHost, RedirectURI, ClientURI string
	Email, Name                                      string
	Authz, CSRF, Token                               string
	LoginAction, ConsentAction, SetupAction          string
	Scopes                                           []string
	NoAccounts, Done                                 bool
	Message, Hint                                    string
	// The sign-in page: a button per connector, and whether the
	// password form is on. Return is the local path a sign-in without
	// an authorization request returns to.
	Connectors []signinButton
	Password   bool
	Return     string
	// Purpose is the setup page's link purpose ("" for the first account,
	// store.SetupPurposeInvite, store.SetupPurposeReset).
	Purpose string

	// Referrer is the page's referrer policy: no-referrer unless set.
	// The signed-in pages use same-origin, so that their form posts carry
	// a real Origin for the same-origin check (no-referrer makes it null).
	Referrer string
	// Nav, when set, is the signed-in person's bar with the sign-out
	// button.
	Nav *navBar
	// Account is the account page's content (account.go); Page is free
	// for other signed-in pages (the admin pages).
	Account *accountView
	Page    any
}

// navBar is the bar of the signed-in pages: who is signed in, and a
// sign-out button (a POST with the page's CSRF token).
type navBar struct {
	Email, AccountURL, LogoutAction, CSRF string
}

// render writes a page with the headers every page carries.
func (p *pages) render(w http.ResponseWriter, status int, name string, d *pageData) {
	d.CSS = p.css
	var buf bytes.Buffer
	if err := p.byName[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		http.Error(w, "page rendering failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", p.csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// The page's URL can carry the authorization request or a setup
	// token: no Referer may take it elsewhere, no cache may keep it.
	if d.Referrer == "" {
		d.Referrer = "no-referrer"
	}
	h.Set("Referrer-Policy", d.Referrer)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderPageError shows an error page of the signed-in pages.
func (s *Server) renderPageError(w http.ResponseWriter, status int, title, message, hint string) {
	s.pages.render(w, status, "error", &pageData{Title: title, Message: message, Hint: hint, Referrer: "same-origin",
		Nav: &navBar{AccountURL: s.opts.Issuer + PathAccount}})
}

// renderError shows an error page: used where redirecting the error to the
// client is not safe (unknown client, unregistered redirect URI).
func (s *Server) renderError(w http.ResponseWriter, status int, message, hint string) {
	s.pages.render(w, status, "error", &pageData{Title: "This sign-in request cannot continue", Message: message, Hint: hint})
}
