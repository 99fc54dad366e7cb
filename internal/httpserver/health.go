package httpserver

import (
	"context"
	"net/http"
	"time"
)

// ReadyCheck is one condition of readiness, named in the /readyz body.
type ReadyCheck struct {
	Name string // short and fixed: "database", "migrations", "keys", …
	// Check returns nil when the condition holds, else why not; the
	// message is shown to whoever asks /readyz, so it must not carry a
	// secret.
	Check func(ctx context.Context) error
}

// readyTimeout bounds all the checks of one /readyz.
const readyTimeout = 2 * time.Second

// healthz is liveness: the process answers. It never looks at the
// database or the issuer, so that an outage of either does not get the
// process restarted.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// health answers GET /health as the Python Atoms server did (its
// deployment's load balancer and uptime checks probe that path): 200 with
// a status while the process runs, like healthz; readiness stays /readyz.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "healthy", "service": "atomcp"})
}

// readyz is readiness: the database answers (Options.Ready) and every
// Options.Checks holds, within two seconds in all. A 503 names the first
// failed check in "reason" and lists every check's result in "checks".
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	checks := s.opts.Checks
	if s.opts.Ready != nil {
		checks = append([]ReadyCheck{{Name: "database", Check: s.opts.Ready}}, checks...)
	}
	results := make(map[string]string, len(checks))
	reason := ""
	for _, c := range checks {
		err := c.Check(ctx)
		if err == nil {
			results[c.Name] = "ok"
			continue
		}
		msg := err.Error()
		if c.Name == "database" {
			// The driver's error may name hosts and users; the log has it.
			msg = "database did not answer"
		}
		results[c.Name] = msg
		if reason == "" {
			reason = c.Name + ": " + msg
			if c.Name == "database" {
				reason = msg
			}
		}
		s.opts.Logger.Warn("not ready", "check", c.Name, "err", err)
	}
	if reason != "" {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "reason": reason, "checks": results})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "checks": results})
}
