package main

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/auth/authtest"
	"github.com/atomcp/atomcp/internal/authserver"
	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/mcpserver"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/storeopen"
	"github.com/atomcp/atomcp/internal/telemetry"
)

// pooled is a store that reports its pool, as a backend may.
type pooled struct{ store.Store }

func (pooled) PoolStats() (inUse, idle, max int) { return 1, 2, 4 }

// metricName finds the metric names in a PromQL expression.
var metricName = regexp.MustCompile(`\b(atomcp_[a-z0-9_]+|go_[a-z0-9_]+|process_[a-z0-9_]+)\b`)

// TestDashboardQueriesExistingMetrics builds the registry as serve does
// (every family and gauge, a store that reports its pool) and checks that
// every metric the Grafana dashboard queries is in it.
func TestDashboardQueriesExistingMetrics(t *testing.T) {
	ctx := t.Context()
	raw, err := storeopen.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	obs, _, err := newObservability(ctx, &config.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := obs.wrapStore(pooled{raw})
	svc := atoms.New(st)
	server := mcpserver.New(svc, mcpserver.Options{})
	provider := oidcProvider(t, authtest.NewIssuer(t).URL)
	obs.instrument(ctx, server, mcpserver.New(svc, mcpserver.Options{}), raw, provider, slog.New(slog.DiscardHandler))
	// Histograms and labelled families appear once they have a sample.
	m := obs.metrics
	m.MCPRequest("tools/call", "entity_tool", telemetry.OutcomeOK, time.Millisecond)
	m.HTTPRequest("mcp", 200)
	m.AuthOutcome(auth.ReasonOK)
	m.ASEvent(authserver.EventSignInOK)
	m.Fetch(telemetry.TargetJWKS, true)
	if _, err := st.CountLocalAccounts(ctx); err != nil {
		t.Fatal(err)
	}

	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range families {
		have[f.GetName()] = true
		if f.GetType().String() == "HISTOGRAM" {
			for _, suffix := range []string{"_bucket", "_count", "_sum"} {
				have[f.GetName()+suffix] = true
			}
		}
	}

	b, err := os.ReadFile("../../deploy/grafana/atomcp-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	queried := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, name := range metricName.FindAllString(tg.Expr, -1) {
				queried++
				if !have[name] {
					t.Errorf("panel %q queries %s, which the registry does not have", p.Title, name)
				}
			}
		}
	}
	if queried < 15 {
		t.Fatalf("the dashboard queries only %d metrics", queried)
	}
	// And every atomcp family is on the dashboard (the pool's idle and
	// max connections only beside in_use).
	for _, f := range families {
		name := f.GetName()
		if strings.HasPrefix(name, "atomcp_") && !strings.Contains(string(b), name) && !strings.HasSuffix(name, "_idle") && !strings.HasSuffix(name, "_max") {
			t.Errorf("%s is on no panel", name)
		}
	}
}
