package oauthclient

import (
	"slices"
	"testing"
)

func TestDPoP(t *testing.T) {
	tests := []struct {
		name      string
		challenge bool   // the server challenges with the DPoP scheme
		asked     bool   // Config.DPoP
		asNonce   string // the token endpoint requires a nonce
		rsNonce   string // the MCP server requires a nonce
	}{
		{name: "DPoP challenge", challenge: true},
		{name: "DPoP challenge, nonces at both servers", challenge: true, asNonce: "as-nonce-1", rsNonce: "rs-nonce-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.as.set(func(a *fakeAS) { a.dpopNonce = tt.asNonce })
			e.mcp.set(func(m *fakeMCP) { m.dpop, m.dpopNonce = tt.challenge, tt.rsNonce })
			h := e.handler(t, func(c *Config) { c.DPoP = tt.asked })
			// Two calls: every request carries a fresh proof.
			for range 2 {
				if _, err := callTool(t, e, h, "read"); err != nil {
					t.Fatalf("call: %v", err)
				}
			}
			rec := e.store.Token(e.mcp.URL)
			if rec.TokenType != "DPoP" || rec.DPoPKey == "" {
				t.Fatalf("stored token type %q, key kept %v; want DPoP with its key", rec.TokenType, rec.DPoPKey != "")
			}
			e.as.mu.Lock()
			proofs := len(e.as.dpopProofs)
			e.as.mu.Unlock()
			wantProofs := 1
			if tt.asNonce != "" {
				wantProofs = 2 // the challenged one and the retry with the nonce
			}
			if proofs != wantProofs {
				t.Errorf("%d proofs at the token endpoint; want %d", proofs, wantProofs)
			}
			e.mcp.mu.Lock()
			var jtis []string
			for _, c := range e.mcp.dpopSeen {
				jtis = append(jtis, c["jti"].(string))
			}
			e.mcp.mu.Unlock()
			slices.Sort(jtis)
			if len(jtis) < 2 || len(slices.Compact(slices.Clone(jtis))) != len(jtis) {
				t.Errorf("proofs at the MCP server reuse a jti: %v", jtis)
			}

			// A new process restores the key and keeps using the bound token.
			h2 := e.handler(t, nil)
			if _, err := callTool(t, e, h2, "read"); err != nil || h2.Logins() != 0 {
				t.Fatalf("second process: %v (%d logins)", err, h2.Logins())
			}
		})
	}
}

func TestDPoPNotUsedWithBearerServers(t *testing.T) {
	e := newEnv(t)
	h := e.handler(t, nil)
	if _, err := callTool(t, e, h, "read"); err != nil {
		t.Fatal(err)
	}
	e.as.mu.Lock()
	defer e.as.mu.Unlock()
	if len(e.as.dpopProofs) != 0 {
		t.Fatalf("DPoP proofs sent to a server that did not ask: %d", len(e.as.dpopProofs))
	}
	if rec := e.store.Token(e.mcp.URL); rec.TokenType != "Bearer" || rec.DPoPKey != "" {
		t.Fatalf("stored %q with key %v", rec.TokenType, rec.DPoPKey != "")
	}
}
