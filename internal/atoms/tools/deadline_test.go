package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/domain"
)

func TestACallPastItsDeadlineSaysSo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	res, _, _ := Deps{RequestTimeout: 30 * time.Second}.toolError(ctx, "query_tool", fmt.Errorf("search: %w", ctx.Err()))
	text := res.Content[0].(*mcp.TextContent).Text
	if !res.IsError || !strings.Contains(text, "ATOMCP_REQUEST_TIMEOUT, 30s") {
		t.Errorf("error %q does not name the deadline", text)
	}
}

// A database that is gone or silent is a retryable tool error that says
// so, not an internal error; once the call's own deadline has passed, the
// deadline is what the caller is told about.
func TestDatabaseUnavailableIsRetryable(t *testing.T) {
	d := Deps{RequestTimeout: 30 * time.Second, Logger: slog.New(slog.DiscardHandler)}
	err := fmt.Errorf("list requirements: %w", &testUnavailable{})
	res, _, _ := d.toolError(context.Background(), "entity_tool", err)
	var body map[string]any
	if jerr := json.Unmarshal([]byte(res.Content[0].(*mcp.TextContent).Text), &body); jerr != nil {
		t.Fatal(jerr)
	}
	msg, _ := body["error"].(string)
	if !res.IsError || body["retryable"] != true || !strings.Contains(msg, "the database is unavailable") || !strings.Contains(msg, "retry") ||
		strings.Contains(msg, "10.0.0.7") {
		t.Errorf("tool error %v; want a retryable 'database is unavailable' error without the driver's details", body)
	}
	step := d.stepMessage(context.Background(), err)
	if !strings.Contains(step, "the database is unavailable") {
		t.Errorf("workflow step message %q; want the database named as unavailable", step)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	res, _, _ = d.toolError(ctx, "entity_tool", err)
	if text := res.Content[0].(*mcp.TextContent).Text; !strings.Contains(text, "ATOMCP_REQUEST_TIMEOUT") {
		t.Errorf("unavailable after the call's deadline: %q; want the deadline named", text)
	}
}

// testUnavailable is what the PostgreSQL store returns for a server it
// cannot reach.
type testUnavailable struct{}

func (*testUnavailable) Error() string {
	return "the database is unavailable: dial tcp 10.0.0.7:5432: connect: connection refused"
}
func (*testUnavailable) Is(target error) bool { return target == domain.ErrUnavailable }
