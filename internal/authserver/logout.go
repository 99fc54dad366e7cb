package authserver

import (
	"net/http"
)

// Sign-out (/oauth/logout): GET shows a confirmation form, POST (with the
// CSRF token, from this server's page) ends the browser session and, if
// asked, disconnects every app: each client's grants are revoked as the
// account page's Revoke does. Personal access tokens are left alone; they
// are revoked one by one on the account page.

// handleLogoutPage shows the sign-out confirmation.
func (s *Server) handleLogoutPage(w http.ResponseWriter, r *http.Request) {
	sess := s.currentSession(r)
	csrf := s.pageCSRF(w, r)
	d := &pageData{Title: "Sign out", CSRF: csrf, Referrer: "same-origin", LoginAction: s.opts.Issuer + PathLogout}
	if sess != nil {
		d.Email = sess.Account.Email
		d.Nav = s.navBar(sess.Account, csrf)
	} else {
		d.Done = true
		d.Nav = &navBar{AccountURL: s.opts.Issuer + PathAccount}
	}
	s.pages.render(w, http.StatusOK, "logout", d)
}

// handleLogout signs this browser out.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if !s.acceptForm(w, r) {
		return
	}
	sess := s.currentSession(r)
	if sess != nil && r.PostForm.Get("disconnect_apps") != "" {
		if n, err := s.disconnectAll(r, sess.Account.ID); err != nil {
			s.log.Error("disconnect apps at sign-out", "err", err)
			s.renderPageError(w, http.StatusInternalServerError, "Sign out",
				"The server could not disconnect your apps, so you are still signed in; try again.", "")
			return
		} else {
			s.log.Info("apps disconnected at sign-out", "account", sess.Account.ID, "apps", n)
		}
	}
	if err := s.endSession(w, r, sess); err != nil {
		s.log.Error("end session", "err", err)
		s.renderPageError(w, http.StatusInternalServerError, "Sign out", "The server could not end your session; try again.", "")
		return
	}
	if sess != nil {
		s.log.Info("signed out", "account", sess.Account.ID)
	}
	s.pages.render(w, http.StatusOK, "logout", &pageData{Title: "Signed out", Done: true, Referrer: "same-origin",
		Nav: &navBar{AccountURL: s.opts.Issuer + PathAccount}})
}

// disconnectAll revokes every app's grants of the account and returns how
// many apps it disconnected.
func (s *Server) disconnectAll(r *http.Request, accountID string) (int, error) {
	now := s.opts.Now()
	apps, err := s.connectedApps(r.Context(), accountID, now)
	if err != nil {
		return 0, err
	}
	for _, app := range apps {
		if err := s.st.RevokeClientGrants(r.Context(), accountID, app.ClientID, now); err != nil {
			return 0, err
		}
	}
	return len(apps), nil
}
