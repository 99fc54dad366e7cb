package tools

import (
	"context"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/domain"
)

// RefArg names one end of a relationship.
type RefArg struct {
	Type string `json:"type,omitempty" jsonschema:"entity type of this end (for member, invitation and the user end of an assignment, leave it out)"`
	ID   string `json:"id" jsonschema:"an id or a name (\"auto\" for the current organization, project or document); for a user: a user id or an email"`
}

// RelationshipArgs are the arguments of relationship_tool.
type RelationshipArgs struct {
	Operation        string  `json:"operation" jsonschema:"link, unlink, list, check or update"`
	RelationshipType string  `json:"relationship_type" jsonschema:"trace_link (requirement/test/document/block ↔ each other, with link_type), requirement_test (requirement → test, with coverage), assignment (entity → user, with a role), member (organization or project → user, with a role), invitation (organization → email or user id, with a role; joining needs the invited person to accept: without a source, list shows your own invitations and update with link_type accept or decline answers one)"`
	Source           *RefArg `json:"source,omitempty" jsonschema:"the source end; for member and invitation: the organization (member: or a project)"`
	Target           *RefArg `json:"target,omitempty" jsonschema:"the target end; for member, invitation and assignment: the user (id or email)"`
	LinkID           string  `json:"link_id,omitempty" jsonschema:"for unlink and update: the link's id (instead of source and target)"`
	LinkType         string  `json:"link_type,omitempty" jsonschema:"trace_link: derives_from, refines, satisfies, verifies, relates_to (default), depends_on, conflicts_with, implements; requirement_test: the coverage full (default), partial or none; assignment: a role such as assignee or reviewer; member and invitation: owner, admin, member (default) or viewer; answering your own invitation: accept or decline"`
	Status           string  `json:"status,omitempty" jsonschema:"requirement_test: a status such as pending, passed or failed"`
	Description      string  `json:"description,omitempty" jsonschema:"trace_link: why the link exists"`
	Limit            int     `json:"limit,omitempty" jsonschema:"list: at most this many (default 200)"`
}

// relationshipOps are relationship_tool's operations and what each does
// to data.
var relationshipOps = ops{
	{"link", auth.Write}, {"unlink", auth.Write}, {"list", auth.Read}, {"check", auth.Read}, {"update", auth.Write},
}

var relationshipOperations = relationshipOps.names()

func registerRelationshipTool(s *mcp.Server, d Deps) {
	schema := inputSchema[RelationshipArgs](map[string][]string{
		"operation":         relationshipOperations,
		"relationship_type": atoms.RelationshipTypes,
	})
	entityTypes := append(domain.EntityTypeNames(), "user")
	for _, end := range []string{"source", "target"} {
		refSchema := schema.Properties[end]
		if refSchema.Properties == nil {
			// The inferred schema of a pointer field may be nested; rebuild it plainly.
			refSchema = &jsonschema.Schema{Type: "object", Properties: map[string]*jsonschema.Schema{"type": {Type: "string"}, "id": {Type: "string"}}, Required: []string{"id"}}
		}
		refSchema.Description = schema.Properties[end].Description
		refSchema.Properties["type"].Enum = toAny(entityTypes)
		schema.Properties[end] = refSchema
	}
	addTool(s, d, &mcp.Tool{
		Name:  "relationship_tool",
		Title: "Atoms relationships",
		Description: "Link, unlink, list, check and update relationships: trace links between requirements, tests, documents and blocks; " +
			"requirement-to-test coverage; assignments of users to entities; organization members and invitations. " +
			"Linking is idempotent (an existing link is reported, not duplicated); derives_from cycles and cross-organization links are refused.",
		InputSchema: schema,
		Annotations: &mcp.ToolAnnotations{DestructiveHint: ptr(true), OpenWorldHint: ptr(false)},
	}, func(ctx context.Context, req *mcp.CallToolRequest, args RelationshipArgs) (*mcp.CallToolResult, any, error) {
		out, err := d.relationship(ctx, req, args)
		if err != nil {
			return d.toolError(ctx, "relationship_tool", err)
		}
		return nil, out, nil
	})
}

func toAny(vs []string) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

func ref(r *RefArg) atoms.EntityRef {
	if r == nil {
		return atoms.EntityRef{}
	}
	return atoms.EntityRef{Type: domain.EntityType(r.Type), ID: r.ID}
}

func (d Deps) relationship(ctx context.Context, req *mcp.CallToolRequest, args RelationshipArgs) (any, error) {
	if err := checkOneOf("operation", args.Operation, relationshipOperations); err != nil {
		return nil, err
	}
	if err := checkOneOf("relationship_type", args.RelationshipType, atoms.RelationshipTypes); err != nil {
		return nil, err
	}
	a, err := d.actor(ctx, req)
	if err != nil {
		return nil, err
	}
	switch args.RelationshipType {
	case atoms.RelMember, atoms.RelInvitation:
		return d.membership(ctx, a, args)
	}
	kind := domain.LinkKind(args.RelationshipType)
	src, tgt := ref(args.Source), ref(args.Target)
	needEnds := func() error {
		if args.Source == nil || args.Source.ID == "" || args.Target == nil || args.Target.ID == "" {
			return errInvalid(fmt.Sprintf("%s of a %s needs source {type, id} and target {type, id}", args.Operation, kind))
		}
		if args.Source.Type == "" || (kind != domain.Assignment && args.Target.Type == "") {
			return errInvalid("source.type and target.type are required: requirement, test, document or block (assignment targets are users and need no type)")
		}
		return nil
	}
	result := func(l *domain.Link, extra map[string]any) map[string]any {
		out := map[string]any{"operation": args.Operation, "relationship_type": args.RelationshipType}
		if l != nil {
			out["link"] = atoms.FormatLink(l)
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	switch args.Operation {
	case "link":
		if err := needEnds(); err != nil {
			return nil, err
		}
		l, created, err := d.Service.Link(ctx, a, kind, src, tgt, atoms.LinkParams{LinkType: args.LinkType, Status: args.Status, Description: args.Description})
		if err != nil {
			return nil, err
		}
		extra := map[string]any{"created": created}
		if !created {
			extra["message"] = "this link already exists; nothing changed"
		}
		return result(l, extra), nil
	case "unlink":
		if args.LinkID == "" {
			if err := needEnds(); err != nil {
				return nil, err
			}
		}
		l, err := d.Service.Unlink(ctx, a, kind, args.LinkID, src, tgt, args.LinkType)
		if err != nil {
			return nil, err
		}
		return result(l, map[string]any{"removed": true}), nil
	case "check":
		if err := needEnds(); err != nil {
			return nil, err
		}
		l, err := d.Service.CheckLink(ctx, a, kind, src, tgt, args.LinkType)
		if err != nil {
			return nil, err
		}
		return result(l, map[string]any{"exists": l != nil}), nil
	case "update":
		if args.LinkID == "" {
			if err := needEnds(); err != nil {
				return nil, err
			}
		}
		l, err := d.Service.UpdateLink(ctx, a, kind, args.LinkID, src, tgt, atoms.LinkParams{LinkType: args.LinkType, Status: args.Status, Description: args.Description})
		if err != nil {
			return nil, err
		}
		return result(l, nil), nil
	case "list":
		limit := args.Limit
		if limit <= 0 {
			limit = 200
		}
		// The old offset pages the list (it has no paging of its own).
		skip := compatOf(ctx).offset
		links, err := d.Service.ListLinks(ctx, a, kind, src, args.LinkType, limit+skip)
		if err != nil {
			return nil, err
		}
		links = links[min(skip, len(links)):]
		items := make([]atoms.LinkResult, len(links))
		for i, l := range links {
			items[i] = atoms.FormatLink(l)
		}
		return map[string]any{"operation": "list", "relationship_type": args.RelationshipType, "items": items, "count": len(items)}, nil
	}
	return nil, unknownOperation(args.Operation, relationshipOperations)
}

// membership serves the member and invitation relationship types.
func (d Deps) membership(ctx context.Context, a *atoms.Actor, args RelationshipArgs) (any, error) {
	if args.RelationshipType == atoms.RelInvitation && (args.Source == nil || args.Source.ID == "") {
		return d.myInvitations(ctx, a, args)
	}
	if args.Source == nil || args.Source.ID == "" {
		return nil, errInvalid(fmt.Sprintf("%s needs source: {\"type\": \"organization\", \"id\": …} (an id, a name or \"auto\")", args.RelationshipType))
	}
	org := ref(args.Source)
	user := ""
	if args.Target != nil {
		user = args.Target.ID
	}
	needUser := func() error {
		if user == "" {
			return errInvalid(fmt.Sprintf("%s %s needs target: {\"id\": a user id or an email}", args.Operation, args.RelationshipType))
		}
		return nil
	}
	role := domain.Role(args.LinkType)
	out := map[string]any{"operation": args.Operation, "relationship_type": args.RelationshipType}
	if args.RelationshipType == atoms.RelMember && args.Source.Type == string(domain.Project) {
		return d.projectMembership(ctx, a, args, out, user, needUser)
	}
	if args.RelationshipType == atoms.RelInvitation {
		switch args.Operation {
		case "link":
			if err := needUser(); err != nil {
				return nil, err
			}
			inv, err := d.Service.Invite(ctx, a, org, user, role)
			if err != nil {
				return nil, err
			}
			out["invitation"] = inv
		case "unlink":
			target := user
			if target == "" {
				target = args.LinkID
			}
			inv, err := d.Service.RevokeInvitation(ctx, a, org, target)
			if err != nil {
				return nil, err
			}
			out["invitation"] = inv
		case "list", "check":
			invs, err := d.Service.ListInvitations(ctx, a, org)
			if err != nil {
				return nil, err
			}
			out["items"] = invs
		default:
			return nil, errInvalid("invitations support link (invite), unlink (revoke), list and check")
		}
		return out, nil
	}
	switch args.Operation {
	case "link":
		if err := needUser(); err != nil {
			return nil, err
		}
		m, inv, err := d.Service.AddMember(ctx, a, org, user, role)
		if err != nil {
			return nil, err
		}
		if inv != nil {
			out["invitation"] = inv
			out["message"] = "invited: they become a member when they accept (the link, or relationship_tool update of their invitation with link_type accept)"
		} else {
			out["member"] = m
		}
	case "unlink":
		if err := needUser(); err != nil {
			return nil, err
		}
		m, err := d.Service.RemoveMember(ctx, a, org, user)
		if err != nil {
			return nil, err
		}
		out["member"], out["removed"] = m, true
	case "update":
		if err := needUser(); err != nil {
			return nil, err
		}
		if role == "" {
			return nil, errInvalid("update of a member needs link_type: the new role (owner, admin, member or viewer)")
		}
		m, err := d.Service.SetMemberRole(ctx, a, org, user, role)
		if err != nil {
			return nil, err
		}
		out["member"] = m
	case "check":
		if err := needUser(); err != nil {
			return nil, err
		}
		m, err := d.Service.CheckMember(ctx, a, org, user)
		if err != nil {
			return nil, err
		}
		out["member"], out["exists"] = m, m != nil
	case "list":
		ms, err := d.Service.ListMembers(ctx, a, org)
		if err != nil {
			return nil, err
		}
		out["items"], out["count"] = ms, len(ms)
	}
	return out, nil
}

// myInvitations serves invitation without a source: the caller's own
// invitations, listed, accepted or declined.
func (d Deps) myInvitations(ctx context.Context, a *atoms.Actor, args RelationshipArgs) (any, error) {
	out := map[string]any{"operation": args.Operation, "relationship_type": args.RelationshipType}
	switch args.Operation {
	case "list":
		invs, err := d.Service.MyInvitations(ctx, a)
		if err != nil {
			return nil, err
		}
		out["items"], out["count"] = invs, len(invs)
		return out, nil
	case "update":
		if args.Target == nil || args.Target.ID == "" {
			return nil, errInvalid("update of an invitation needs target: {\"id\": the invitation id} (list them without a source)")
		}
		var accept bool
		switch args.LinkType {
		case "accept":
			accept = true
		case "decline":
		default:
			return nil, errInvalid(fmt.Sprintf("link_type %q: answering an invitation needs link_type accept or decline", args.LinkType))
		}
		inv, err := d.Service.AnswerInvitation(ctx, a, atoms.InvitationRef{ID: args.Target.ID}, accept)
		if err != nil {
			return nil, err
		}
		out["invitation"] = inv
		return out, nil
	}
	return nil, errInvalid("invitation needs source: {\"type\": \"organization\", \"id\": …}; without a source, list shows your own invitations and update (link_type accept or decline, target the invitation id) answers one")
}

// projectMembership serves member with a project source (the Atoms data
// model's project_members).
func (d Deps) projectMembership(ctx context.Context, a *atoms.Actor, args RelationshipArgs, out map[string]any, user string, needUser func() error) (any, error) {
	project := ref(args.Source)
	role := domain.Role(args.LinkType)
	if args.Operation != "list" {
		if err := needUser(); err != nil {
			return nil, err
		}
	}
	switch args.Operation {
	case "link", "update":
		if args.Operation == "update" && role == "" {
			return nil, errInvalid("update of a project member needs link_type: the new role (owner, admin, member or viewer)")
		}
		m, err := d.Service.AddProjectMember(ctx, a, project, user, role)
		if err != nil {
			return nil, err
		}
		out["member"] = m
	case "unlink":
		m, err := d.Service.RemoveProjectMember(ctx, a, project, user)
		if err != nil {
			return nil, err
		}
		out["member"], out["removed"] = m, true
	case "check":
		m, err := d.Service.CheckProjectMember(ctx, a, project, user)
		if err != nil {
			return nil, err
		}
		out["member"], out["exists"] = m, m != nil
	case "list":
		ms, err := d.Service.ListProjectMembers(ctx, a, project)
		if err != nil {
			return nil, err
		}
		out["items"], out["count"] = ms, len(ms)
	}
	return out, nil
}
