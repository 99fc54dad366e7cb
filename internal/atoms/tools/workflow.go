package tools

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/domain"
)

// WorkflowArgs are the arguments of workflow_tool.
type WorkflowArgs struct {
	Workflow        string         `json:"workflow" jsonschema:"which workflow to run; the tool description lists each one's parameters"`
	Parameters      map[string]any `json:"parameters,omitempty" jsonschema:"the workflow's parameters (see the tool description); ids may be names or \"auto\" for the current one from the workspace context"`
	TransactionMode *bool          `json:"transaction_mode,omitempty" jsonschema:"true (default): every step in one transaction, so a failing step rolls everything back and nothing is saved; false: each step is saved on its own, the workflow goes on after a failure and reports every step's outcome"`
}

// maxListedSteps bounds the steps a result lists one by one (an import has
// a step per row); failed and skipped steps are listed first, and
// step_counts always counts them all.
const maxListedSteps = 100

// workflowOps are workflow_tool's workflows; every one writes.
var workflowOps = every(atoms.Workflows, auth.Write)

const workflowDescription = "Run a multi-step Atoms workflow. With transaction_mode true (the default) it is all or nothing: " +
	"the first failing step rolls every step back, and the error names that step and why. " +
	"With transaction_mode false each step is saved on its own and the result reports every step's outcome.\n\n" +
	"Workflows and their parameters:\n" +
	"- setup_project: name (required), description, organization_id (id, name or \"auto\"; default auto), " +
	"initial_documents (list of names or {name, description, content}), set_context (default true). " +
	"Creates the project, assigns you as its lead, creates the documents and makes the project your current one.\n" +
	"- import_requirements: document_id (id, name or \"auto\"; default auto) and exactly one of: " +
	"requirements (list of {name, description, content, external_id, status, priority, type, properties, block_id}), " +
	"csv (text with a header row; columns name or title, description, content, external_id or id, priority, status, type; other columns go to properties), " +
	"markdown (a list: \"- REQ-1: text\" or \"* text\"; indented lines under an item are its description). " +
	"defaults: fields for every requirement that does not set them (e.g. {\"status\": \"draft\"}). " +
	"External ids are kept and must be unique within the project. At most 10000 requirements per call; " +
	"bad values are reported with their row and column, all at once.\n" +
	"- setup_test_matrix: project_id or document_id (default: the current project), coverage (full (default), partial, none). " +
	"Creates a test for every requirement that no test covers and links them with requirement_test.\n" +
	"- bulk_status_update: entity_type (requirement, test or project), status, and either entity_ids (ids or names) " +
	"or filters (field equals value, e.g. {\"document_id\": \"auto\", \"status\": \"draft\"}). At most 10000 entities per call.\n" +
	"- organization_onboarding: name (required), description, type (team or business), " +
	"invitations (list of emails or {email, role}; role owner, admin, member (default) or viewer), " +
	"project (a name or {name, description}: a first project), set_context (default true). " +
	"People who have signed in before become members at once; the others are invited and join when they first sign in with that verified email."

func registerWorkflowTool(s *mcp.Server, d Deps) {
	addTool(s, d, &mcp.Tool{
		Name:        "workflow_tool",
		Title:       "Atoms workflows",
		Description: workflowDescription,
		InputSchema: inputSchema[WorkflowArgs](map[string][]string{"workflow": workflowOps.names()}),
		Annotations: &mcp.ToolAnnotations{DestructiveHint: ptr(true), OpenWorldHint: ptr(false)}, // bulk_status_update overwrites
	}, func(ctx context.Context, req *mcp.CallToolRequest, args WorkflowArgs) (*mcp.CallToolResult, any, error) {
		return d.workflow(ctx, req, args)
	})
}

func (d Deps) workflow(ctx context.Context, req *mcp.CallToolRequest, args WorkflowArgs) (*mcp.CallToolResult, any, error) {
	if err := checkOneOf("workflow", args.Workflow, atoms.Workflows); err != nil {
		return d.toolError(ctx, "workflow_tool", err)
	}
	a, err := d.actor(ctx, req)
	if err != nil {
		return d.toolError(ctx, "workflow_tool", err)
	}
	transactionMode := args.TransactionMode == nil || *args.TransactionMode
	rep, err := d.Service.RunWorkflow(withProgress(ctx, req, args.Workflow), a, args.Workflow, args.Parameters, transactionMode)
	if err != nil {
		return d.toolError(ctx, "workflow_tool", err)
	}
	out, msg := d.workflowResult(ctx, rep)
	if rep.Status == atoms.WorkflowRolledBack || rep.Status == atoms.WorkflowFailed {
		// Nothing was saved: a tool error, so that a model does not go on
		// as if it had been; the structured result still lists the steps.
		return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg}}}, out, nil
	}
	return nil, out, nil
}

// workflowResult renders a report as the tool's structured result, and a
// sentence saying what happened.
func (d Deps) workflowResult(ctx context.Context, rep *atoms.WorkflowReport) (map[string]any, string) {
	counts := rep.Counts()
	out := map[string]any{
		"workflow":         rep.Workflow,
		"transaction_mode": rep.TransactionMode,
		"status":           rep.Status,
		"step_counts":      counts,
	}
	listed := pickSteps(rep.Steps, maxListedSteps)
	steps := make([]map[string]any, 0, len(listed))
	for _, i := range listed {
		steps = append(steps, d.stepResult(ctx, rep.Steps[i]))
	}
	out["steps"] = steps
	if omitted := len(rep.Steps) - len(listed); omitted > 0 {
		out["steps_omitted"] = omitted
	}
	failure := ""
	if rep.FailedStep != "" {
		out["failed_step"] = rep.FailedStep
		failure = d.stepMessage(ctx, rep.Err)
		out["error"] = failure
	}
	if rep.Summary != nil {
		out["result"] = rep.Summary
	}
	var msg string
	switch rep.Status {
	case atoms.WorkflowCompleted:
		msg = fmt.Sprintf("workflow %s completed: %d steps, all saved", rep.Workflow, counts[atoms.StepOK])
	case atoms.WorkflowRolledBack:
		msg = fmt.Sprintf("workflow %s failed at step %q: %s. Everything was rolled back: nothing was saved. "+
			"Fix the input and run it again, or pass transaction_mode false to save the steps that succeed.", rep.Workflow, rep.FailedStep, failure)
	case atoms.WorkflowPartial:
		msg = fmt.Sprintf("workflow %s finished with failures: %d steps saved, %d failed, %d skipped; the first failure was step %q: %s",
			rep.Workflow, counts[atoms.StepOK], counts[atoms.StepFailed], counts[atoms.StepSkipped]+counts[atoms.StepNotRun], rep.FailedStep, failure)
	case atoms.WorkflowFailed:
		msg = fmt.Sprintf("workflow %s failed: no step succeeded, nothing was saved; the first failure was step %q: %s", rep.Workflow, rep.FailedStep, failure)
	}
	out["message"] = msg
	return out, msg
}

// pickSteps chooses which steps to list when there are more than max:
// failures and skips first (they need attention), then the others in
// order; the result is in step order.
func pickSteps(steps []atoms.StepOutcome, max int) []int {
	var picked []int
	if len(steps) <= max {
		for i := range steps {
			picked = append(picked, i)
		}
		return picked
	}
	chosen := map[int]bool{}
	for pass := 0; pass < 2 && len(picked) < max; pass++ {
		for i, st := range steps {
			if len(picked) == max {
				break
			}
			attention := st.Status == atoms.StepFailed || st.Status == atoms.StepSkipped
			if !chosen[i] && (pass == 1 || attention) {
				chosen[i] = true
				picked = append(picked, i)
			}
		}
	}
	sort.Ints(picked)
	return picked
}

func (d Deps) stepResult(ctx context.Context, st atoms.StepOutcome) map[string]any {
	m := map[string]any{"step": st.Name, "status": st.Status}
	if st.Output != nil {
		m["output"] = st.Output
	}
	if st.Err == nil {
		return m
	}
	if st.Status != atoms.StepFailed {
		// The reasons of skipped and not-run steps are written by the
		// workflow runner, never by a store.
		m["reason"] = st.Err.Error()
		return m
	}
	m["error"] = d.stepMessage(ctx, st.Err)
	var amb *atoms.AmbiguousError
	if errors.As(st.Err, &amb) {
		m["candidates"] = amb.Candidates
	}
	return m
}

// stepMessage is what a caller may see of a step's error: errors they can
// act on keep their message (as toolError does); anything else is logged
// with a reference and reported without internals.
func (d Deps) stepMessage(ctx context.Context, err error) string {
	if err == nil {
		return ""
	}
	var amb *atoms.AmbiguousError
	switch {
	case errors.As(err, &amb), errors.Is(err, domain.ErrInvalid), errors.Is(err, domain.ErrNotFound),
		errors.Is(err, domain.ErrConflict), errors.Is(err, domain.ErrForbidden):
		return err.Error()
	}
	if ctx.Err() != nil {
		return "the request was cancelled before this step finished"
	}
	if errors.Is(err, domain.ErrUnavailable) {
		ref := newRef()
		d.Logger.WarnContext(ctx, "workflow step failed: database unavailable", "tool", "workflow_tool", "ref", ref, "err", err)
		return unavailableMessage(ref)
	}
	ref := newRef()
	d.Logger.ErrorContext(ctx, "workflow step failed", "tool", "workflow_tool", "ref", ref, "err", err)
	return fmt.Sprintf("internal error (reference %s): the step was not completed; the server log has the details", ref)
}
