package doctor

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/atomcp/atomcp/internal/authserver/connector"
	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/netaddr"
)

// checkSignin checks each identity provider the embedded authorization
// server signs people in through: its discovery (OpenID) or API (GitHub)
// answers, the issuer is the one configured, and the callback URL to
// register with it is one the provider can send a browser to.
func (r *run) checkSignin(ctx context.Context, c *config.Config) {
	conns := connector.FromConfig(c)
	if c.Auth != config.AuthEmbedded || len(conns) == 0 {
		return
	}
	callback := c.BaseURL + connector.CallbackPath
	u, _ := url.Parse(callback)
	for _, conn := range conns {
		f := Finding{ID: IDConfigSignin, Area: AreaConfig, Observed: &Observed{URL: callback, Detail: "connector " + conn.ID()}}
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := conn.Check(cctx)
		cancel()
		switch {
		case err != nil:
			f.Status, f.Title = Fail, fmt.Sprintf("sign-in with %s will fail: %v", conn.Name(), err)
			f.Fix = "Check the provider's URL and issuer in the settings (docs/signin.md): an OpenID issuer must be written exactly as its discovery document's issuer, trailing slash included; the provider must be reachable from the server."
		case u == nil || (u.Scheme != "https" && !netaddr.IsLoopbackHost(u.Hostname())):
			f.Status, f.Title = Warn, fmt.Sprintf("%s answers, but the callback URL %s is plain http on a non-local host", conn.Name(), callback)
			f.Fix = "Providers refuse or warn about http redirect URIs: set ATOMCP_BASE_URL to the server's public https URL and register its " + connector.CallbackPath + " with the provider."
		default:
			f.Status = Pass
			f.Title = fmt.Sprintf("%s answers and its issuer matches; register the callback URL %s with it", conn.Name(), callback)
		}
		r.add(f)
	}
}
