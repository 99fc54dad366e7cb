package doctor

import "context"

// checkLogin is the end-to-end proof of --login: the real OAuth flow of
// a client, then tools/list with the token it obtained. It needs the
// OAuth client of `atomcp login` (internal/oauthclient), which this
// build does not have yet, so it says so instead of pretending.
func (r *run) checkLogin(_ context.Context) {
	if !r.opts.Login {
		return
	}
	r.add(Finding{ID: IDLogin, Area: AreaLogin, Status: Skip,
		Title: "--login is not available in this build yet: it needs atomcp's OAuth client (atomcp login), which is still being built; meanwhile pass a token from your client with --token"})
}
