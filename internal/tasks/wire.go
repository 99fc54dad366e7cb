package tasks

import (
	"encoding/json"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// JSON-RPC codes the extension uses.
const (
	codeInvalidParams     = -32602
	codeInternal          = -32603
	codeHeaderMismatch    = mcp.CodeHeaderMismatch
	codeMissingCapability = mcp.CodeMissingRequiredClientCapabilities
	resultTypeTask        = "task"
	resultTypeComplete    = "complete"
	minProtocolVersion    = "2026-07-28"
	timeLayout            = "2006-01-02T15:04:05.000Z07:00"
)

// Wire is the Task object of the extension, flat in a CreateTaskResult and
// in the answer of tasks/get.
type Wire struct {
	TaskID        string `json:"taskId"`
	Status        Status `json:"status"`
	StatusMessage string `json:"statusMessage,omitempty"`
	CreatedAt     string `json:"createdAt"`
	LastUpdatedAt string `json:"lastUpdatedAt"`
	// TTLMs is null for a task kept without limit.
	TTLMs          *int64 `json:"ttlMs"`
	PollIntervalMs int64  `json:"pollIntervalMs,omitempty"`
}

// CreateTaskResult answers a task-augmented tools/call: resultType "task"
// and the task, with no content, no requestState and no inputRequests.
type CreateTaskResult struct {
	mcp.ResultBase
	ResultType string `json:"resultType"`
	Wire
}

// GetTaskResult answers tasks/get: the task plus, by status, its result
// (completed), its error (failed) or its outstanding input requests
// (input_required).
type GetTaskResult struct {
	mcp.ResultBase
	ResultType string `json:"resultType"`
	Wire
	Result        json.RawMessage `json:"result,omitempty"`
	Error         json.RawMessage `json:"error,omitempty"`
	InputRequests json.RawMessage `json:"inputRequests,omitempty"`
}

// AckResult answers tasks/update and tasks/cancel.
type AckResult struct {
	mcp.ResultBase
	ResultType string `json:"resultType"`
}

// TaskParams are the params of tasks/get and tasks/cancel.
type TaskParams struct {
	mcp.ParamsBase
	TaskID string `json:"taskId"`
}

// UpdateParams are the params of tasks/update. The responses stay raw:
// keys that are not outstanding are ignored, whatever they hold, and
// mcp.InputResponseMap would refuse some of them before that.
type UpdateParams struct {
	mcp.ParamsBase
	TaskID         string                     `json:"taskId"`
	InputResponses map[string]json.RawMessage `json:"inputResponses,omitempty"`
}

func wireOf(t *Task) Wire {
	w := Wire{
		TaskID:         t.ID,
		Status:         t.Status,
		StatusMessage:  t.StatusMessage,
		CreatedAt:      t.CreatedAt.UTC().Format(timeLayout),
		LastUpdatedAt:  t.UpdatedAt.UTC().Format(timeLayout),
		PollIntervalMs: t.PollInterval.Milliseconds(),
	}
	if !t.ExpiresAt.IsZero() {
		ms := max(1, t.ExpiresAt.Sub(t.CreatedAt).Milliseconds())
		w.TTLMs = &ms
	}
	return w
}

func detailed(t *Task) *GetTaskResult {
	r := &GetTaskResult{ResultType: resultTypeComplete, Wire: wireOf(t)}
	switch t.Status {
	case Completed:
		r.Result = t.Result
	case Failed:
		r.Error = t.Error
	case InputRequired:
		r.InputRequests = t.InputRequests
	}
	return r
}

func ack() *AckResult { return &AckResult{ResultType: resultTypeComplete} }
