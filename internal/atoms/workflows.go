package atoms

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// The workflows of workflow_tool: several writes that belong together,
// run as one all-or-nothing transaction (the default) or step by step.
const (
	WorkflowSetupProject           = "setup_project"
	WorkflowImportRequirements     = "import_requirements"
	WorkflowSetupTestMatrix        = "setup_test_matrix"
	WorkflowBulkStatusUpdate       = "bulk_status_update"
	WorkflowOrganizationOnboarding = "organization_onboarding"
)

// Workflows lists every workflow name, for schemas and error messages.
var Workflows = []string{WorkflowSetupProject, WorkflowImportRequirements, WorkflowSetupTestMatrix, WorkflowBulkStatusUpdate, WorkflowOrganizationOnboarding}

// MaxWorkflowItems bounds the items one workflow call handles (rows of an
// import, entities of a status update, requirements of a test matrix): in
// transaction mode they all share one write transaction, which holds the
// database's write lock until it ends.
const MaxWorkflowItems = 10000

// The outcomes of a workflow step.
const (
	// StepOK: the step succeeded (and, in transaction mode, was committed).
	StepOK = "ok"
	// StepFailed: the step failed; Err says why.
	StepFailed = "failed"
	// StepSkipped: not run because a step it needs failed (continue mode).
	StepSkipped = "skipped"
	// StepNotRun: not run because an earlier step failed (transaction mode).
	StepNotRun = "not_run"
	// StepRolledBack: succeeded, then undone with the whole transaction.
	StepRolledBack = "rolled_back"
)

// The outcomes of a whole workflow.
const (
	WorkflowCompleted  = "completed"   // every step succeeded and was saved
	WorkflowRolledBack = "rolled_back" // transaction mode: a step failed, nothing was saved
	WorkflowPartial    = "partial"     // continue mode: some steps failed, the others were saved
	WorkflowFailed     = "failed"      // continue mode: steps failed and none succeeded
)

// StepOutcome is what happened to one step of a workflow.
type StepOutcome struct {
	Name   string
	Status string
	// Err is why the step failed or was not run. For a failed step it is
	// the service error (shown to callers the way tool errors are); for
	// other statuses it is a sentence written here.
	Err error
	// Output describes what the step wrote (an entity in summary format,
	// an invitation, a link …).
	Output map[string]any
}

// WorkflowReport is the result of a workflow run.
type WorkflowReport struct {
	Workflow        string
	TransactionMode bool
	Status          string
	Steps           []StepOutcome
	// FailedStep and Err name the step that failed first and why; in
	// transaction mode that failure rolled everything back.
	FailedStep string
	Err        error
	// Summary is the workflow's own account of what it did (the project it
	// created, the number of requirements imported …). It describes saved
	// data, so it is nil when the run was rolled back.
	Summary map[string]any
}

// Counts returns how many steps ended in each status.
func (r *WorkflowReport) Counts() map[string]int {
	c := map[string]int{}
	for _, s := range r.Steps {
		c[s.Status]++
	}
	return c
}

// errWorkflowStepFailed makes InTx roll back after a failed step; the step's
// own error is kept in the report.
var errWorkflowStepFailed = errors.New("workflow step failed")

// RunWorkflow runs a workflow for the actor. Malformed parameters are an
// error (wrapping domain.ErrInvalid and naming the parameter) before
// anything is written; failures of the steps themselves are in the report.
//
// With transactionMode every step runs in one transaction: the first failure
// rolls everything back and the remaining steps are not run. Without it each
// step is its own transaction, a failure is recorded and the workflow goes
// on with the steps that do not depend on the failed one.
func (s *Service) RunWorkflow(ctx context.Context, a *Actor, workflow string, params map[string]any, transactionMode bool) (*WorkflowReport, error) {
	var body func(r *wfRun) map[string]any
	var err error
	switch workflow {
	case WorkflowSetupProject:
		body, err = s.setupProjectWorkflow(params)
	case WorkflowImportRequirements:
		body, err = s.importRequirementsWorkflow(params)
	case WorkflowSetupTestMatrix:
		body, err = s.testMatrixWorkflow(params)
	case WorkflowBulkStatusUpdate:
		body, err = s.bulkStatusWorkflow(params)
	case WorkflowOrganizationOnboarding:
		body, err = s.onboardingWorkflow(a, params)
	default:
		return nil, fmt.Errorf("%w: workflow %q; accepted: %s", domain.ErrInvalid, workflow, strings.Join(Workflows, ", "))
	}
	if err != nil {
		return nil, err
	}
	r := &wfRun{s: s, ctx: ctx, a: a, atomic: transactionMode, failed: -1}
	rep := &WorkflowReport{Workflow: workflow, TransactionMode: transactionMode}
	var summary map[string]any
	if transactionMode {
		txErr := s.inTxAs(ctx, a, func(tx store.Ops) error {
			r.tx = tx
			summary = body(r)
			if r.failed >= 0 {
				return errWorkflowStepFailed
			}
			return nil
		})
		r.tx = nil
		if txErr != nil && !errors.Is(txErr, errWorkflowStepFailed) {
			// No step failed, but the transaction could not begin or commit.
			r.steps = append(r.steps, StepOutcome{Name: "transaction", Status: StepFailed, Err: txErr})
			r.failed = len(r.steps) - 1
		}
		if r.failed >= 0 {
			for i := range r.steps {
				if r.steps[i].Status == StepOK {
					r.steps[i].Status = StepRolledBack
				}
			}
			summary = nil
		}
	} else {
		summary = body(r)
	}
	rep.Steps, rep.Summary = r.steps, summary
	rep.Status = workflowStatus(transactionMode, r.steps)
	for _, st := range r.steps {
		if st.Status == StepFailed {
			rep.FailedStep, rep.Err = st.Name, st.Err
			break
		}
	}
	return rep, nil
}

func workflowStatus(transactionMode bool, steps []StepOutcome) string {
	ok, failed := 0, 0
	for _, st := range steps {
		switch st.Status {
		case StepOK:
			ok++
		case StepFailed, StepSkipped, StepNotRun, StepRolledBack:
			failed++
		}
	}
	switch {
	case failed == 0:
		return WorkflowCompleted
	case transactionMode:
		return WorkflowRolledBack
	case ok == 0:
		return WorkflowFailed
	}
	return WorkflowPartial
}

// wfRun is one run of a workflow: it runs steps in the workflow's
// transaction (transaction mode) or each in its own (continue mode), and
// records their outcomes.
type wfRun struct {
	s      *Service
	ctx    context.Context
	a      *Actor
	atomic bool
	tx     store.Ops // the workflow's transaction, in transaction mode
	steps  []StepOutcome
	failed int // index of the failed step in transaction mode, or -1
}

// step runs fn as the step called name and reports whether it succeeded.
// In transaction mode nothing runs after a failure. In continue mode a
// cancelled request stops the remaining steps too: they could only fail.
func (r *wfRun) step(name string, fn func(tx store.Ops) (map[string]any, error)) bool {
	if r.atomic && r.failed >= 0 {
		r.steps = append(r.steps, StepOutcome{Name: name, Status: StepNotRun})
		return false
	}
	if r.ctx.Err() != nil {
		r.steps = append(r.steps, StepOutcome{Name: name, Status: StepNotRun, Err: errors.New("not run because the request was cancelled")})
		return false
	}
	var out map[string]any
	var err error
	if r.atomic {
		out, err = fn(r.tx)
	} else {
		err = r.s.inTxAs(r.ctx, r.a, func(tx store.Ops) error {
			var ferr error
			out, ferr = fn(tx)
			return ferr
		})
	}
	if err != nil {
		r.steps = append(r.steps, StepOutcome{Name: name, Status: StepFailed, Err: err})
		if r.atomic {
			r.failed = len(r.steps) - 1
		}
		return false
	}
	r.steps = append(r.steps, StepOutcome{Name: name, Status: StepOK, Output: out})
	return true
}

// fail records a step that failed before it could run (its input was
// found invalid beforehand), without opening a transaction for it. In
// transaction mode it fails the run like any failed step.
func (r *wfRun) fail(name string, err error) {
	if r.atomic && r.failed >= 0 {
		r.steps = append(r.steps, StepOutcome{Name: name, Status: StepNotRun})
		return
	}
	r.steps = append(r.steps, StepOutcome{Name: name, Status: StepFailed, Err: err})
	if r.atomic {
		r.failed = len(r.steps) - 1
	}
}

// skip records a step that cannot run because one it needs failed. In
// transaction mode the run has already failed, so it is "not run".
func (r *wfRun) skip(name, needs string) {
	if r.atomic {
		r.steps = append(r.steps, StepOutcome{Name: name, Status: StepNotRun})
		return
	}
	r.steps = append(r.steps, StepOutcome{Name: name, Status: StepSkipped, Err: fmt.Errorf("not run because step %q failed", needs)})
}

// read returns what lookups outside a step should read from: the
// workflow's transaction (transaction mode, so that they see its writes)
// or the store (continue mode, where every step has committed).
func (r *wfRun) read() store.Ops {
	if r.atomic {
		return r.tx
	}
	return r.s.store
}

// stepEntity runs a step that writes one entity and returns the entity only
// if the step succeeded, so that later steps never build on a write that
// was not saved.
func (r *wfRun) stepEntity(name string, fn func(tx store.Ops) (*domain.Entity, error)) *domain.Entity {
	var e *domain.Entity
	if !r.step(name, func(tx store.Ops) (map[string]any, error) {
		var err error
		e, err = fn(tx)
		if err != nil {
			return nil, err
		}
		return Format(e, FormatSummary), nil
	}) {
		return nil
	}
	return e
}

// setContextIn makes an entity current in the actor's workspace context,
// inside the workflow's transaction; the rules are those of SetContext.
func (r *wfRun) setContextIn(tx store.Ops, e *domain.Entity) (map[string]any, error) {
	w, err := r.s.putContextIn(r.ctx, tx, r.a, e)
	if err != nil {
		return nil, err
	}
	return map[string]any{"organization_id": w.OrganizationID, "project_id": w.ProjectID, "document_id": w.DocumentID}, nil
}

// resolveLiveIn resolves a reference ("auto", a name or an id) to a live
// entity; errors name the parameter.
func (r *wfRun) resolveLiveIn(tx store.Ops, t domain.EntityType, ref, param string) (*domain.Entity, error) {
	return r.s.resolveLive(r.ctx, tx, r.a, EntityRef{Type: t, ID: ref}, "parameters."+param)
}
