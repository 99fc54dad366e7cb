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
	for _, name := range []string{"login", "consent", "error", "setup"} {
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
	// password form is on.
	Connectors []signinButton
	Password   bool
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
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderError shows an error page: used where redirecting the error to the
// client is not safe (unknown client, unregistered redirect URI).
func (s *Server) renderError(w http.ResponseWriter, status int, message, hint string) {
	s.pages.render(w, status, "error", &pageData{Title: "This sign-in request cannot continue", Message: message, Hint: hint})
}
