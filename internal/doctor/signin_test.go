package doctor

import (
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

func TestConfigSigninProviders(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	find := func(rep *Report) *Finding {
		for i, f := range rep.Findings {
			if f.ID == IDConfigSignin {
				return &rep.Findings[i]
			}
		}
		t.Fatalf("no %s finding", IDConfigSignin)
		return nil
	}
	env := "ATOMCP_BASE_URL=http://127.0.0.1:8000\nATOMCP_SIGNIN_OIDC_CLIENT_ID=c\nATOMCP_SIGNIN_OIDC_NAME=Keycloak\n"
	rep := runDoctor(t, Options{ConfigPath: writeDotenv(t, env+"ATOMCP_SIGNIN_OIDC_ISSUER="+m.Issuer()+"\n"), Environ: []string{}})
	if f := find(rep); f.Status != Pass || !strings.Contains(f.Title, "http://127.0.0.1:8000/oauth/callback") || !strings.Contains(f.Title, "Keycloak") {
		t.Errorf("finding %+v", f)
	}
	// The issuer written with a trailing slash the provider does not use.
	rep = runDoctor(t, Options{ConfigPath: writeDotenv(t, env+"ATOMCP_SIGNIN_OIDC_ISSUER="+m.Issuer()+"/\n"), Environ: []string{}})
	if f := find(rep); f.Status != Fail || !strings.Contains(f.Title, "names the issuer") {
		t.Errorf("finding %+v", f)
	}
	// A public base URL over http.
	rep = runDoctor(t, Options{ConfigPath: writeDotenv(t, strings.Replace(env, "http://127.0.0.1:8000", "http://atoms.example.com", 1)+
		"ATOMCP_SIGNIN_OIDC_ISSUER="+m.Issuer()+"\n"), Environ: []string{}})
	if f := find(rep); f.Status != Warn || !strings.Contains(f.Fix, "ATOMCP_BASE_URL") {
		t.Errorf("finding %+v", f)
	}
}
