package mcpserver

import (
	"context"
	"sort"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/atoms/tools"
	"github.com/atomcp/atomcp/internal/domain"
)

// The prompt and resource-template arguments of the Atoms tools
// (internal/atoms/tools) that name a project. TestAtomsCompletionTargetsExist
// fails when one of them is renamed there.
var projectArguments = []struct{ ref, name, arg string }{
	{"ref/prompt", "atoms_traceability_review", "project"},
	{"ref/resource", "atoms://projects/{project_id}/traceability-matrix", "project_id"},
}

// registerAtomsCompletions completes project arguments with the names of
// the projects the caller can see.
func registerAtomsCompletions(c *Completions, svc *atoms.Service, caller tools.Identify) {
	f := projectNames(svc, caller)
	for _, t := range projectArguments {
		if t.ref == "ref/prompt" {
			c.Prompt(t.name, t.arg, f)
		} else {
			c.ResourceTemplate(t.name, t.arg, f)
		}
	}
}

// projectNames suggests the names of the caller's projects that start with
// what was typed (then those that contain it), ignoring case. Membership
// applies as in every tool: a project of another organization is never
// suggested.
func projectNames(svc *atoms.Service, caller tools.Identify) CompleteFunc {
	return func(ctx context.Context, req *mcp.CompleteRequest) ([]string, error) {
		// The caller is identified the way a tool call's is.
		who, err := caller(ctx, &mcp.CallToolRequest{Session: req.Session, Extra: req.Extra})
		if err != nil {
			return nil, err
		}
		a, err := svc.Actor(ctx, who)
		if err != nil {
			return nil, err
		}
		typed := strings.ToLower(req.Params.Argument.Value)
		page, err := svc.ListEntities(ctx, a, domain.Project, atoms.ListParams{Search: req.Params.Argument.Value, OrderBy: "name", Limit: maxCompletionValues})
		if err != nil {
			return nil, err
		}
		var prefix, inside []string
		seen := map[string]bool{}
		for _, p := range page.Items {
			name := p.Str("name")
			lower := strings.ToLower(name)
			switch {
			case name == "" || seen[name]:
			case strings.HasPrefix(lower, typed):
				prefix = append(prefix, name)
			case strings.Contains(lower, typed):
				inside = append(inside, name)
			}
			seen[name] = true
		}
		sort.Strings(prefix)
		sort.Strings(inside)
		return append(prefix, inside...), nil
	}
}
