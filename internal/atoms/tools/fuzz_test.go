package tools

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// FuzzToolArguments sends arbitrary arguments to a tool with query_tool's
// schema through go-sdk (decoding, the length check, schema validation)
// and checks that whatever reaches the handler is within the limits:
// no spelling of a key (case, duplicates, escapes) gets a long value past.
func FuzzToolArguments(f *testing.F) {
	for _, seed := range []string{
		`{"query_type":"search","search_term":"rover"}`,
		`{"query_type":"search","SEARCH_TERM":"x"}`,
		`{"query_type":"search","Search_Term":"x","search_term":"ok"}`,
		`{"query_type":"search","search_term":"a","search_term":"b"}`,
		`{"query_type":"search","search_\u0074erm":"x"}`,
		`{"query_type":"relationships","entity_id":"é","entity_type":"requirement"}`,
		`{"entities":["requirement"],"group_by":["status"],"limit":3}`,
		`[]`, `null`, `"x"`,
	} {
		f.Add(seed)
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	d := Deps{lengths: &argLengths{schemas: map[string]*jsonschema.Schema{}}}
	var bad error
	addTool(s, d, &mcp.Tool{Name: "q", InputSchema: inputSchema[QueryArgs](nil)}, func(_ context.Context, _ *mcp.CallToolRequest, a QueryArgs) (*mcp.CallToolResult, any, error) {
		for _, v := range []struct {
			name  string
			value string
			limit int
		}{
			{"search_term", a.SearchTerm, MaxSearchChars}, {"entity_id", a.EntityID, MaxNameChars},
			{"project_id", a.ProjectID, MaxNameChars}, {"organization_id", a.OrganizationID, MaxNameChars},
		} {
			if n := utf8.RuneCountInString(v.value); n > v.limit {
				bad = &LengthError{Arg: v.name, Length: n, Limit: v.limit}
			}
		}
		for _, g := range a.GroupBy {
			if utf8.RuneCountInString(g) > MaxNameChars {
				bad = &LengthError{Arg: "group_by[]", Length: len(g), Limit: MaxNameChars}
			}
		}
		return &mcp.CallToolResult{}, nil, nil
	})
	s.AddReceivingMiddleware(d.lengths.middleware)
	st, ct := mcp.NewInMemoryTransports()
	ss, err := s.Connect(context.Background(), st, nil)
	if err != nil {
		f.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(context.Background(), ct, nil)
	if err != nil {
		f.Fatal(err)
	}
	defer cs.Close()
	f.Fuzz(func(t *testing.T, args string) {
		if !json.Valid([]byte(args)) {
			return
		}
		// Long values are what the limits are about: every string value
		// "x" stands for one of 2,000 characters.
		raw := json.RawMessage(strings.ReplaceAll(args, `"x"`, `"`+strings.Repeat("x", 2000)+`"`))
		_, _ = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "q", Arguments: raw})
		if bad != nil {
			t.Fatalf("arguments %.200q reached the tool with %v", args, bad)
		}
	})
}

// FuzzCheckLengths: checkLengths never panics, and an error it reports is
// a real excess.
func FuzzCheckLengths(f *testing.F) {
	f.Add(`{"search_term":"x","data":{"name":"n"},"batch":[{"description":"d"}]}`)
	f.Add(`{"source":{"id":"x"},"group_by":["a","b"]}`)
	schema := inputSchema[EntityArgs](nil)
	schema.Properties["data"] = dataSchema("")
	schema.Properties["batch"].Items = dataSchema("")
	limitLengths("", schema)
	f.Fuzz(func(t *testing.T, raw string) {
		err := checkLengths("", schema, json.RawMessage(raw))
		if le, ok := err.(*LengthError); ok && le.Length <= le.Limit {
			t.Fatalf("%v for a value within its limit", le)
		}
	})
}
