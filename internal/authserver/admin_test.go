package authserver

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/domain"
)

// adminHarness is a harness whose server has the Atoms service (the admin
// and invitation pages need it), with the server owner ann.
type adminHarness struct {
	*harness
	svc *atoms.Service
}

func newAdminHarness(t *testing.T) *adminHarness {
	t.Helper()
	var svc *atoms.Service
	h := newHarness(t, func(o *Options) { svc = atoms.New(o.Store); o.Atoms = svc })
	owner := h.account("ann@example.com")
	owner.Role = "owner"
	if err := h.st.UpdateLocalAccount(t.Context(), owner); err != nil {
		t.Fatal(err)
	}
	return &adminHarness{harness: h, svc: svc}
}

// actor is the Atoms actor of a local account.
func (h *adminHarness) actor(email string) *atoms.Actor {
	h.t.Helper()
	a, err := h.st.GetLocalAccountByEmail(h.t.Context(), email)
	if err != nil {
		h.t.Fatal(err)
	}
	act, err := h.svc.Actor(h.t.Context(), accountCaller(a))
	if err != nil {
		h.t.Fatal(err)
	}
	return act
}

// org creates an organization owned by the account, with one project.
func (h *adminHarness) org(email, name string) (orgID, projectID string) {
	h.t.Helper()
	a := h.actor(email)
	o, err := h.svc.CreateEntity(h.t.Context(), a, domain.Organization, map[string]any{"name": name})
	if err != nil {
		h.t.Fatal(err)
	}
	p, err := h.svc.CreateEntity(h.t.Context(), h.actor(email), domain.Project, map[string]any{"name": name + " project", "organization_id": o.ID})
	if err != nil {
		h.t.Fatal(err)
	}
	return o.ID, p.ID
}

func (b *browser) admin(query string) *response {
	b.h.t.Helper()
	r := b.get(PathAdmin + query)
	if r.status != http.StatusOK {
		b.h.t.Fatalf("admin page%s: %d\n%s", query, r.status, r.body)
	}
	return r
}

var inviteLink = regexp.MustCompile(`https?://[^<"\s]+/invite\?token=[A-Za-z0-9_-]+`)

// inviteByPage invites email into org from the admin page and returns the
// link it shows once.
func (b *browser) inviteByPage(orgID, email, role string) string {
	b.h.t.Helper()
	page := b.admin("?org=" + orgID)
	r := b.post(PathAdmin+"/invite", url.Values{"csrf_token": {csrf(b.h.t, page)}, "org": {orgID}, "email": {email}, "role": {role}}, nil)
	if r.status != http.StatusOK {
		b.h.t.Fatalf("invite: %d\n%s", r.status, r.body)
	}
	link := inviteLink.FindString(r.body)
	if link == "" {
		b.h.t.Fatalf("no invitation link on the page:\n%s", r.body)
	}
	return link
}

func pathOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

// TestAdminRefusesNonAdmins: an account that administers no organization
// (its personal workspace does not count) gets 403 on the page and on
// every form, and nothing changes.
func TestAdminRefusesNonAdmins(t *testing.T) {
	h := newAdminHarness(t)
	h.account("bob@example.com")
	orgID, _ := h.org("ann@example.com", "Team")
	b := h.newBrowser()
	b.signIn("bob@example.com", testPassword)
	if r := b.get(PathAdmin); r.status != http.StatusForbidden || !strings.Contains(r.body, "owners and admins") {
		t.Fatalf("non-admin GET /admin: %d\n%s", r.status, r.body)
	}
	acc := b.account()
	for _, action := range []string{"invite", "member-role", "account-disable", "account-invite"} {
		r := b.post(PathAdmin+"/"+action, url.Values{"csrf_token": {csrf(t, acc)}, "org": {orgID}, "email": {"x@example.com"},
			"account_id": {"acct-ann@example.com"}, "user_id": {h.actor("ann@example.com").User.ID}, "role": {"viewer"}}, nil)
		if r.status != http.StatusForbidden {
			t.Errorf("non-admin POST %s: %d; want 403", action, r.status)
		}
	}
	if a, _ := h.st.GetLocalAccount(t.Context(), "acct-ann@example.com"); a.DisabledAt != nil {
		t.Fatal("a non-admin disabled the owner")
	}
	invs, err := h.svc.ListInvitations(t.Context(), h.actor("ann@example.com"), atoms.EntityRef{Type: domain.Organization, ID: orgID})
	if err != nil || len(invs) != 0 {
		t.Fatalf("invitations after refused posts: %v, %v", invs, err)
	}
}

// TestAdminForgedPostsChangeNothing: without the CSRF token, or from
// another origin, an owner's form post is refused and changes nothing.
func TestAdminForgedPostsChangeNothing(t *testing.T) {
	h := newAdminHarness(t)
	h.account("bob@example.com")
	b := h.newBrowser()
	b.signIn("ann@example.com", testPassword)
	page := b.admin("")
	good := url.Values{"csrf_token": {csrf(t, page)}, "account_id": {"acct-bob@example.com"}}
	noToken := url.Values{"account_id": {"acct-bob@example.com"}}
	for name, tc := range map[string]struct {
		form    url.Values
		headers map[string]string
	}{
		"no token":         {noToken, nil},
		"wrong token":      {url.Values{"csrf_token": {"forged"}, "account_id": {"acct-bob@example.com"}}, nil},
		"cross-site fetch": {good, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
		"foreign origin":   {good, map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"}},
	} {
		if r := b.post(PathAdmin+"/account-disable", tc.form, tc.headers); r.status != http.StatusForbidden {
			t.Errorf("%s: %d; want 403", name, r.status)
		}
		if a, _ := h.st.GetLocalAccount(t.Context(), "acct-bob@example.com"); a.DisabledAt != nil {
			t.Fatalf("%s: the forged post disabled bob", name)
		}
	}
	// The real form works.
	if r := b.post(PathAdmin+"/account-disable", good, nil); r.status != http.StatusSeeOther {
		t.Fatalf("disable: %d\n%s", r.status, r.body)
	}
	if a, _ := h.st.GetLocalAccount(t.Context(), "acct-bob@example.com"); a.DisabledAt == nil {
		t.Fatal("bob not disabled")
	}
	if !strings.Contains(b.admin("?done=account_disabled").body, "disabled") {
		t.Fatal("no notice")
	}
}

// TestAdminOrgAdminScoping: an organization admin sees and manages only
// their organizations, never the accounts section.
func TestAdminOrgAdminScoping(t *testing.T) {
	h := newAdminHarness(t)
	h.account("bob@example.com")
	team, _ := h.org("ann@example.com", "Team")
	secret, _ := h.org("ann@example.com", "Secret")
	_, inv, err := h.svc.AddMember(t.Context(), h.actor("ann@example.com"), atoms.EntityRef{Type: domain.Organization, ID: team}, "bob@example.com", domain.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.AnswerInvitation(t.Context(), h.actor("bob@example.com"), atoms.InvitationRef{Token: inv.Token}, true); err != nil {
		t.Fatal(err)
	}
	b := h.newBrowser()
	b.signIn("bob@example.com", testPassword)
	page := b.admin("")
	if !strings.Contains(page.body, ">Team<") || strings.Contains(page.body, "Secret") || strings.Contains(page.body, `id="accounts"`) {
		t.Fatalf("bob's admin page shows other organizations or the accounts:\n%s", page.body)
	}
	if r := b.get(PathAdmin + "?org=" + secret); r.status != http.StatusNotFound || strings.Contains(r.body, "Secret project") {
		t.Fatalf("bob opening Secret: %d", r.status)
	}
	annID := h.actor("ann@example.com").User.ID
	r := b.post(PathAdmin+"/member-remove", url.Values{"csrf_token": {csrf(t, page)}, "org": {secret}, "user_id": {annID}}, nil)
	if r.status != http.StatusNotFound && r.status != http.StatusForbidden {
		t.Fatalf("bob removing ann from Secret: %d", r.status)
	}
	if _, ok := h.actor("ann@example.com").Role(secret); !ok {
		t.Fatal("ann was removed from Secret by an admin of another organization")
	}
	if r := b.post(PathAdmin+"/account-invite", url.Values{"csrf_token": {csrf(t, page)}, "email": {"x@example.com"}}, nil); r.status != http.StatusForbidden {
		t.Fatalf("org admin making an account invitation: %d", r.status)
	}
	// Within Team, bob invites by link; the audit log shows it, filtered.
	b.inviteByPage(team, "carol@example.com", "viewer")
	audit := b.admin("?action=invite")
	if !strings.Contains(audit.body, "bob@example.com") || !strings.Contains(audit.body, ">invite<") {
		t.Fatalf("audit log filtered by action:\n%s", audit.body)
	}
	if body := b.admin("?action=invite&audit_org=" + team + "&actor=ann@example.com").body; strings.Contains(body, "carol@example.com") || !strings.Contains(body, "bob@example.com") {
		t.Fatalf("audit log filtered by actor ann (who invited bob, not carol):\n%s", body)
	}
	if r := b.get(PathAdmin + "?audit_org=" + secret); r.status != http.StatusForbidden && r.status != http.StatusNotFound {
		t.Fatalf("bob's audit log of Secret: %d", r.status)
	}
	if r := b.get(PathAdmin + "?since=yesterday"); r.status != http.StatusBadRequest || !strings.Contains(r.body, "YYYY-MM-DD") {
		t.Fatalf("bad date: %d", r.status)
	}
}

// TestInvitePageAcceptAndProjectViewer: an existing account opens the
// link, accepts, is made a project viewer from the admin page, and the
// service then refuses her write there, naming the project and the role.
func TestInvitePageAcceptAndProjectViewer(t *testing.T) {
	h := newAdminHarness(t)
	h.account("carol@example.com")
	team, project := h.org("ann@example.com", "Team")
	ann := h.newBrowser()
	ann.signIn("ann@example.com", testPassword)
	link := ann.inviteByPage(team, "carol@example.com", "member")
	if _, ok := h.actor("carol@example.com").Role(team); ok {
		t.Fatal("carol is a member before accepting")
	}

	carol := h.newBrowser()
	if r := carol.get(pathOf(t, link)); r.status != http.StatusOK || !strings.Contains(r.body, "Sign in") || strings.Contains(r.body, `value="accept"`) {
		t.Fatalf("signed-out invitation page: %d\n%s", r.status, r.body)
	}
	carol.signIn("carol@example.com", testPassword)
	page := carol.get(pathOf(t, link))
	if !strings.Contains(page.body, "Team") || !strings.Contains(page.body, `value="accept"`) {
		t.Fatalf("invitation page:\n%s", page.body)
	}
	// A forged answer changes nothing.
	if r := carol.post(PathInviteAnswer, url.Values{"token": {formFields(page.body).Get("token")}, "answer": {"accept"}}, nil); r.status != http.StatusForbidden {
		t.Fatalf("answer without CSRF: %d", r.status)
	}
	if _, ok := h.actor("carol@example.com").Role(team); ok {
		t.Fatal("a forged answer made carol a member")
	}
	r := carol.post(PathInviteAnswer, url.Values{"csrf_token": {csrf(t, page)}, "token": {formFields(page.body).Get("token")}, "answer": {"accept"}}, nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, "You accepted") {
		t.Fatalf("accept: %d\n%s", r.status, r.body)
	}
	carolActor := h.actor("carol@example.com")
	if role, _ := carolActor.Role(team); role != domain.RoleMember {
		t.Fatalf("carol's role = %q; want member", role)
	}

	admin := ann.admin("?org=" + team)
	r = ann.post(PathAdmin+"/project-member", url.Values{"csrf_token": {csrf(t, admin)}, "org": {team}, "project_id": {project}, "user_id": {carolActor.User.ID}, "role": {"viewer"}}, nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("set project role: %d\n%s", r.status, r.body)
	}
	_, err := h.svc.CreateEntity(t.Context(), h.actor("carol@example.com"), domain.Document, map[string]any{"name": "Carol's", "project_id": project})
	if !errors.Is(err, domain.ErrForbidden) || !strings.Contains(err.Error(), project) || !strings.Contains(err.Error(), `"viewer"`) || !strings.Contains(err.Error(), "member role") {
		t.Fatalf("a project viewer's write: %v; want a refusal naming the project and the role needed", err)
	}
}

// TestInvitePageNewcomer: the server owner's invitation lets a person
// without an account create one with the invited email and accept; an
// organization admin's invitation does not.
func TestInvitePageNewcomer(t *testing.T) {
	h := newAdminHarness(t)
	team, _ := h.org("ann@example.com", "Team")
	ann := h.newBrowser()
	ann.signIn("ann@example.com", testPassword)
	link := ann.inviteByPage(team, "dave@example.com", "viewer")

	dave := h.newBrowser()
	page := dave.get(pathOf(t, link))
	if !strings.Contains(page.body, "Create your account") || !strings.Contains(page.body, "dave@example.com") {
		t.Fatalf("newcomer page:\n%s", page.body)
	}
	f := formFields(page.body)
	r := dave.post(PathInviteAccount, url.Values{"csrf_token": {f.Get("csrf_token")}, "token": {f.Get("token")}, "name": {"Dave"}, "password": {testPassword}}, nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("create account: %d\n%s", r.status, r.body)
	}
	if a, err := h.st.GetLocalAccountByEmail(t.Context(), "dave@example.com"); err != nil || a.Role != "user" {
		t.Fatalf("dave's account: %+v, %v", a, err)
	}
	page = dave.get(pathOf(t, link))
	r = dave.post(PathInviteAnswer, url.Values{"csrf_token": {csrf(t, page)}, "token": {formFields(page.body).Get("token")}, "answer": {"accept"}}, nil)
	if r.status != http.StatusOK {
		t.Fatalf("accept: %d\n%s", r.status, r.body)
	}
	if role, _ := h.actor("dave@example.com").Role(team); role != domain.RoleViewer {
		t.Fatalf("dave's role = %q", role)
	}

	// Dave, not the server owner, owns his own organization: his link to
	// a newcomer offers only signing in.
	daveOrg, _ := h.org("dave@example.com", "Daves")
	_, inv, err := h.svc.AddMember(t.Context(), h.actor("dave@example.com"), atoms.EntityRef{Type: domain.Organization, ID: daveOrg}, "erin@example.com", domain.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	erin := h.newBrowser()
	page = erin.get(inv.LinkPath)
	if strings.Contains(page.body, "Create your account") {
		t.Fatal("an organization admin's invitation offers account creation")
	}
	f = formFields(page.body)
	if r := erin.post(PathInviteAccount, url.Values{"csrf_token": {f.Get("csrf_token")}, "token": {inv.Token}, "password": {testPassword}}, nil); r.status != http.StatusForbidden {
		t.Fatalf("account from an admin's invitation: %d", r.status)
	}
	if _, err := h.st.GetLocalAccountByEmail(t.Context(), "erin@example.com"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("erin's account exists: %v", err)
	}
}

// TestAdminAccountLinks: the owner's account invitation and reset links
// work once, on the setup page.
func TestAdminAccountLinks(t *testing.T) {
	h := newAdminHarness(t)
	h.account("bob@example.com")
	ann := h.newBrowser()
	ann.signIn("ann@example.com", testPassword)
	page := ann.admin("")
	setupLink := regexp.MustCompile(`https?://[^<"\s]+/oauth/setup\?[^<"\s]+`)
	for _, tc := range []struct{ action, field, value, email string }{
		{"account-invite", "email", "Frank@Example.com", "frank@example.com"},
		{"account-reset", "account_id", "acct-bob@example.com", "bob@example.com"},
	} {
		r := ann.post(PathAdmin+"/"+tc.action, url.Values{"csrf_token": {csrf(t, page)}, tc.field: {tc.value}}, nil)
		link := setupLink.FindString(r.body)
		if r.status != http.StatusOK || link == "" {
			t.Fatalf("%s: %d, link %q\n%s", tc.action, r.status, link, r.body)
		}
		link = strings.ReplaceAll(link, "&amp;", "&")
		person := h.newBrowser()
		form := person.get(pathOf(t, link))
		f := formFields(form.body)
		u, _ := url.Parse(link)
		f.Set("purpose", u.Query().Get("purpose"))
		f.Set("password", "a brand new password")
		f.Set("name", "Someone")
		if r := person.post(PathSetup, f, nil); r.status != http.StatusOK || !strings.Contains(r.body, tc.email) {
			t.Fatalf("%s link: %d\n%s", tc.action, r.status, r.body)
		}
		if r := person.post(PathSetup, f, nil); r.status != http.StatusBadRequest && r.status != http.StatusForbidden {
			t.Fatalf("%s link used twice: %d", tc.action, r.status)
		}
		if _, err := h.srv.checkCredentials(context.Background(), tc.email, "a brand new password", "192.0.2.1"); err != nil {
			t.Fatalf("%s: sign-in with the new password: %v", tc.action, err)
		}
	}
	// The role of an account; the last owner stays.
	r := ann.post(PathAdmin+"/account-role", url.Values{"csrf_token": {csrf(t, page)}, "account_id": {"acct-ann@example.com"}, "role": {"user"}}, nil)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "last owner") {
		t.Fatalf("demoting the last owner: %d", r.status)
	}
	if r := ann.post(PathAdmin+"/account-role", url.Values{"csrf_token": {csrf(t, page)}, "account_id": {"acct-bob@example.com"}, "role": {"owner"}}, nil); r.status != http.StatusSeeOther {
		t.Fatalf("make bob owner: %d", r.status)
	}
	if a, _ := h.st.GetLocalAccount(t.Context(), "acct-bob@example.com"); a.Role != "owner" {
		t.Fatalf("bob's role %q", a.Role)
	}
}

// TestAdminAndInvitePagesMatchScreenshots: the committed screenshots'
// structure files (docs/screenshots/admin.txt, invite.txt) are what the
// pages render; e2e's TestAdminBrowser checks them in Chromium too and
// makes the screenshots.
func TestAdminAndInvitePagesMatchScreenshots(t *testing.T) {
	h := newAdminHarness(t)
	h.account("carol@example.com")
	team, _ := h.org("ann@example.com", "Team")
	ann := h.newBrowser()
	ann.signIn("ann@example.com", testPassword)
	link := ann.inviteByPage(team, "carol@example.com", "member")
	carol := h.newBrowser()
	carol.signIn("carol@example.com", testPassword)
	for name, body := range map[string]string{
		"admin.txt":  ann.admin("?org=" + team).body,
		"invite.txt": carol.get(pathOf(t, link)).body,
	} {
		golden, err := os.ReadFile(filepath.Join("..", "..", "docs", "screenshots", name))
		if err != nil {
			t.Fatal(err)
		}
		if got := pageStructure(body); got != strings.TrimSpace(string(golden)) {
			t.Errorf("the page's structure differs from docs/screenshots/%s; update the file and the screenshot (ATOMCP_SCREENSHOT_DIR=docs/screenshots go test ./e2e -run TestAdminBrowser):\n%s", name, got)
		}
	}
}
