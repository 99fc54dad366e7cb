package atoms

import (
	"fmt"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// ProjectLeadRole is the assignment role setup_project gives the project's
// creator. Project membership is not a record of its own (members belong to
// organizations), so the lead is an assignment on the project.
const ProjectLeadRole = "lead"

// maxInitialItems bounds the documents of setup_project and the invitations
// of organization_onboarding; larger sets belong in entity_tool batch_create
// or relationship_tool.
const maxInitialItems = MaxBatch

// setupProjectWorkflow: a project in an organization, its creator assigned
// as lead, optional initial documents, and the workspace context set to the
// new project.
func (s *Service) setupProjectWorkflow(params map[string]any) (func(r *wfRun) map[string]any, error) {
	p, err := newWFParams(WorkflowSetupProject, params, "organization_id", "name", "description", "initial_documents", "set_context")
	if err != nil {
		return nil, err
	}
	orgRef, err := p.str("organization_id")
	if err != nil {
		return nil, err
	}
	if orgRef == "" {
		orgRef = AutoID
	}
	name, err := p.requiredStr("name", "the new project's name")
	if err != nil {
		return nil, err
	}
	projectData := map[string]any{"name": name}
	if desc, err := p.str("description"); err != nil {
		return nil, err
	} else if desc != "" {
		projectData["description"] = desc
	}
	if err := checkItemFields(mustKind(domain.Project), projectData, "parameters"); err != nil {
		return nil, err
	}
	docs, err := initialItems(p, "initial_documents", domain.Document)
	if err != nil {
		return nil, err
	}
	setContext, err := p.boolean("set_context", true)
	if err != nil {
		return nil, err
	}

	return func(r *wfRun) map[string]any {
		proj := r.stepEntity("create_project", func(tx store.Ops) (*domain.Entity, error) {
			org, err := r.resolveLiveIn(tx, domain.Organization, orgRef, "organization_id")
			if err != nil {
				return nil, err
			}
			return r.s.createIn(r.ctx, tx, r.a, domain.Project, withParent(projectData, "organization_id", org.ID))
		})
		if proj == nil {
			r.skip("assign_project_lead", "create_project")
			for i, d := range docs {
				r.skip(documentStep(i, d), "create_project")
			}
			if setContext {
				r.skip("set_context", "create_project")
			}
			return nil
		}
		summary := map[string]any{"project": Format(proj, FormatSummary)}
		var lead *domain.Link
		if r.step("assign_project_lead", func(tx store.Ops) (map[string]any, error) {
			l, _, err := r.s.assignIn(r.ctx, tx, r.a, proj, r.a.User.ID, LinkParams{LinkType: ProjectLeadRole})
			if err != nil {
				return nil, err
			}
			lead = l
			return map[string]any{"assignment": FormatLink(l)}, nil
		}) {
			summary["lead"] = map[string]any{"user_id": r.a.User.ID, "role": ProjectLeadRole, "assignment_id": lead.ID}
		}
		created := []map[string]any{}
		for i, d := range docs {
			doc := r.stepEntity(documentStep(i, d), func(tx store.Ops) (*domain.Entity, error) {
				return r.s.createIn(r.ctx, tx, r.a, domain.Document, withParent(d, "project_id", proj.ID))
			})
			if doc != nil {
				created = append(created, Format(doc, FormatSummary))
			}
		}
		summary["documents"] = created
		if setContext {
			r.step("set_context", func(tx store.Ops) (map[string]any, error) {
				return r.setContextIn(tx, proj)
			})
		}
		return summary
	}, nil
}

func documentStep(i int, d map[string]any) string {
	return fmt.Sprintf("create_document[%d] (%v)", i, d["name"])
}

// initialItems reads a list parameter of entities to create under a parent
// the workflow makes (documents of a new project), each a name or an object
// of fields, and validates them before anything is written.
func initialItems(p *wfParams, param string, t domain.EntityType) ([]map[string]any, error) {
	list, err := p.list(param)
	if err != nil {
		return nil, err
	}
	if len(list) > maxInitialItems {
		return nil, fmt.Errorf("%w: parameters.%s has %d items; at most %d are accepted", domain.ErrInvalid, param, len(list), maxInitialItems)
	}
	k := mustKind(t)
	out := make([]map[string]any, 0, len(list))
	for i, v := range list {
		where := fmt.Sprintf("parameters.%s[%d]", param, i)
		data, err := nameOrObject(v, where)
		if err != nil {
			return nil, err
		}
		if err := checkItemFields(k, data, where); err != nil {
			return nil, err
		}
		out = append(out, data)
	}
	return out, nil
}

func mustKind(t domain.EntityType) *domain.Kind {
	k, err := domain.KindOf(t)
	if err != nil {
		panic(err) // only called with the domain's own constants
	}
	return k
}

// onboardingInvite is one invitation of organization_onboarding.
type onboardingInvite struct {
	email string
	role  domain.Role
}

// onboardingWorkflow: a new organization (its creator the owner), its
// people by email with roles (added if they have signed in before, invited
// otherwise), and optionally a first project; the workspace context is set
// to the project, or the organization.
func (s *Service) onboardingWorkflow(a *Actor, params map[string]any) (func(r *wfRun) map[string]any, error) {
	p, err := newWFParams(WorkflowOrganizationOnboarding, params, "name", "description", "type", "invitations", "project", "set_context")
	if err != nil {
		return nil, err
	}
	name, err := p.requiredStr("name", "the new organization's name")
	if err != nil {
		return nil, err
	}
	orgData := map[string]any{"name": name}
	for _, f := range []string{"description", "type"} {
		v, err := p.str(f)
		if err != nil {
			return nil, err
		}
		if v != "" {
			orgData[f] = v
		}
	}
	if err := checkItemFields(mustKind(domain.Organization), orgData, "parameters"); err != nil {
		return nil, err
	}
	invites, err := onboardingInvites(p, a)
	if err != nil {
		return nil, err
	}
	var projectData map[string]any
	if p.has("project") {
		projectData, err = nameOrObject(p.m["project"], "parameters.project")
		if err != nil {
			return nil, err
		}
		if err := checkItemFields(mustKind(domain.Project), projectData, "parameters.project"); err != nil {
			return nil, err
		}
	}
	setContext, err := p.boolean("set_context", true)
	if err != nil {
		return nil, err
	}

	return func(r *wfRun) map[string]any {
		org := r.stepEntity("create_organization", func(tx store.Ops) (*domain.Entity, error) {
			return r.s.createIn(r.ctx, tx, r.a, domain.Organization, orgData)
		})
		if org == nil {
			for i, inv := range invites {
				r.skip(inviteStep(i, inv), "create_organization")
			}
			if projectData != nil {
				r.skip("create_project", "create_organization")
			}
			if setContext {
				r.skip("set_context", "create_organization")
			}
			return nil
		}
		invited := []map[string]any{}
		for i, inv := range invites {
			var out map[string]any
			if r.step(inviteStep(i, inv), func(tx store.Ops) (map[string]any, error) {
				var err error
				out, err = r.addOrInviteIn(tx, org, inv)
				return out, err
			}) {
				invited = append(invited, out)
			}
		}
		summary := map[string]any{"organization": Format(org, FormatSummary), "invitations": invited}
		current := org
		if projectData != nil {
			proj := r.stepEntity("create_project", func(tx store.Ops) (*domain.Entity, error) {
				return r.s.createIn(r.ctx, tx, r.a, domain.Project, withParent(projectData, "organization_id", org.ID))
			})
			if proj != nil {
				summary["project"] = Format(proj, FormatSummary)
				current = proj
			}
		}
		if setContext {
			r.step("set_context", func(tx store.Ops) (map[string]any, error) {
				return r.setContextIn(tx, current)
			})
		}
		return summary
	}, nil
}

// addOrInviteIn invites one address into a new organization the way
// relationship_tool's member link does: everyone is invited and joins by
// accepting, and the answer does not tell a known email from an unknown one.
func (r *wfRun) addOrInviteIn(tx store.Ops, org *domain.Entity, inv onboardingInvite) (map[string]any, error) {
	saved, err := r.s.inviteIn(r.ctx, tx, r.a, org, invitee{email: inv.email}, inv.role)
	if err != nil {
		return nil, err
	}
	return map[string]any{"email": saved.Email, "role": string(saved.Role), "status": "invited", "invitation_id": saved.ID, "link_path": saved.LinkPath}, nil
}

func inviteStep(i int, inv onboardingInvite) string {
	return fmt.Sprintf("invite[%d] (%s as %s)", i, inv.email, inv.role)
}

// onboardingInvites reads parameters.invitations: each an email address
// (role member) or {"email": …, "role": …}. Addresses are checked before
// anything is written, so that a typo does not leave a half-onboarded
// organization behind in continue mode.
func onboardingInvites(p *wfParams, a *Actor) ([]onboardingInvite, error) {
	list, err := p.list("invitations")
	if err != nil {
		return nil, err
	}
	if len(list) > maxInitialItems {
		return nil, fmt.Errorf("%w: parameters.invitations has %d items; at most %d are accepted", domain.ErrInvalid, len(list), maxInitialItems)
	}
	seen := map[string]int{}
	out := make([]onboardingInvite, 0, len(list))
	for i, v := range list {
		where := fmt.Sprintf("parameters.invitations[%d]", i)
		inv := onboardingInvite{role: domain.RoleMember}
		switch x := v.(type) {
		case string:
			inv.email = x
		case map[string]any:
			for _, k := range sortedKeys(x) {
				if k != "email" && k != "role" {
					return nil, fmt.Errorf("%w: %s.%s is not accepted; an invitation has email and role", domain.ErrInvalid, where, k)
				}
			}
			e, ok := x["email"].(string)
			if !ok {
				return nil, fmt.Errorf("%w: %s.email is required: the address to invite", domain.ErrInvalid, where)
			}
			inv.email = e
			if r, present := x["role"]; present && r != nil {
				rs, ok := r.(string)
				if !ok {
					return nil, fmt.Errorf("%w: %s.role must be a string, got %s; accepted: %s", domain.ErrInvalid, where, jsonType(r), strings.Join(domain.Roles, ", "))
				}
				inv.role = domain.Role(strings.ToLower(strings.TrimSpace(rs)))
			}
		default:
			return nil, fmt.Errorf("%w: %s must be an email address or {\"email\": …, \"role\": …}, got %s", domain.ErrInvalid, where, jsonType(v))
		}
		inv.email = strings.TrimSpace(inv.email)
		if !plausibleEmail(inv.email) {
			return nil, fmt.Errorf("%w: %s.email %q is not an email address", domain.ErrInvalid, where, inv.email)
		}
		if !inv.role.Valid() {
			return nil, fmt.Errorf("%w: %s.role %q; accepted: %s", domain.ErrInvalid, where, inv.role, strings.Join(domain.Roles, ", "))
		}
		key := strings.ToLower(inv.email)
		if j, dup := seen[key]; dup {
			return nil, fmt.Errorf("%w: %s.email %s is also parameters.invitations[%d]; invite each address once", domain.ErrInvalid, where, inv.email, j)
		}
		seen[key] = i
		if a.User.Email != "" && strings.EqualFold(a.User.Email, inv.email) {
			return nil, fmt.Errorf("%w: %s.email %s is your own address; you will own the new organization already", domain.ErrInvalid, where, inv.email)
		}
		out = append(out, inv)
	}
	return out, nil
}

// plausibleEmail is the check inviteIn makes, made here first so that the
// error can name the parameter.
func plausibleEmail(email string) bool {
	at := strings.Index(email, "@")
	return at > 0 && at < len(email)-1 && !strings.ContainsAny(email, " <>\t\r\n")
}
