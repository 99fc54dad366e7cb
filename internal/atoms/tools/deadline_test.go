package tools

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
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
