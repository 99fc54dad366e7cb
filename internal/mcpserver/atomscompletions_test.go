package mcpserver

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store/storeopen"
)

// The completers are keyed by names the Atoms tools define; a rename there
// must not silently switch completion off.
func TestAtomsCompletionTargetsExist(t *testing.T) {
	cs := connect(t, New(atoms.New(nil), Options{}))
	ctx := context.Background()
	prompts, err := cs.ListPrompts(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	templates, err := cs.ListResourceTemplates(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range projectArguments {
		found := false
		switch target.ref {
		case "ref/prompt":
			for _, p := range prompts.Prompts {
				found = found || p.Name == target.name && slices.ContainsFunc(p.Arguments, func(a *mcp.PromptArgument) bool { return a.Name == target.arg })
			}
		case "ref/resource":
			for _, rt := range templates.ResourceTemplates {
				found = found || rt.URITemplate == target.name && strings.Contains(rt.URITemplate, "{"+target.arg+"}")
			}
		}
		if !found {
			t.Errorf("%s %q with argument %q is not registered any more; update projectArguments", target.ref, target.name, target.arg)
		}
	}
}

func TestProjectArgumentsCompleteToTheCallersProjects(t *testing.T) {
	ctx := context.Background()
	st, err := storeopen.Open(ctx, filepath.Join(t.TempDir(), "atomcp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc := atoms.New(st)
	local, err := svc.Actor(ctx, atoms.LocalCaller)
	if err != nil {
		t.Fatal(err)
	}
	org, err := svc.CreateEntity(ctx, local, domain.Organization, map[string]any{"name": "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Apollo", "Artemis", "Gemini Apollo follow-up"} {
		if _, err := svc.CreateEntity(ctx, local, domain.Project, map[string]any{"name": name, "organization_id": org.ID}); err != nil {
			t.Fatal(err)
		}
	}
	// Someone else's project is never suggested.
	other, err := svc.Actor(ctx, atoms.Caller{Issuer: "https://idp.test", Subject: "someone-else", Email: "else@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	otherOrg, err := svc.CreateEntity(ctx, other, domain.Organization, map[string]any{"name": "Elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateEntity(ctx, other, domain.Project, map[string]any{"name": "Apollo Secret", "organization_id": otherOrg.ID}); err != nil {
		t.Fatal(err)
	}

	cs := connect(t, New(svc, Options{Caller: LocalIdentity}))
	for _, tc := range []struct {
		ref   *mcp.CompleteReference
		arg   string
		typed string
		want  []string
	}{
		{&mcp.CompleteReference{Type: "ref/prompt", Name: "atoms_traceability_review"}, "project", "ap", []string{"Apollo", "Gemini Apollo follow-up"}},
		{&mcp.CompleteReference{Type: "ref/resource", URI: "atoms://projects/{project_id}/traceability-matrix"}, "project_id", "", []string{"Apollo", "Artemis", "Gemini Apollo follow-up"}},
	} {
		res, err := cs.Complete(ctx, &mcp.CompleteParams{Ref: tc.ref, Argument: mcp.CompleteParamsArgument{Name: tc.arg, Value: tc.typed}})
		if err != nil {
			t.Fatalf("%v %s=%q: %v", tc.ref, tc.arg, tc.typed, err)
		}
		if !slices.Equal(res.Completion.Values, tc.want) {
			t.Errorf("%s %s=%q: %q, want %q", tc.ref.Type, tc.arg, tc.typed, res.Completion.Values, tc.want)
		}
	}
}
