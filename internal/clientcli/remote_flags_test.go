package clientcli

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestToolArguments(t *testing.T) {
	schema := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"name":   map[string]any{"type": "string"},
			"count":  map[string]any{"type": "integer"},
			"ratio":  map[string]any{"type": "number"},
			"on":     map[string]any{"type": "boolean"},
			"data":   map[string]any{"type": "object"},
			"tags":   map[string]any{"type": []any{"array", "null"}},
			"either": map[string]any{"type": []any{"string", "integer"}},
		},
		"required": []any{"name"},
	}
	tests := []struct {
		json  string
		pairs []string
		want  string // JSON of the arguments; "" when an error is expected
		err   string
	}{
		{"", []string{"name=5", "count=5", "ratio=0.5", "on=true"}, `{"count":5,"name":"5","on":true,"ratio":0.5}`, ""},
		{"", []string{`data={"a":1}`, `tags=["x"]`, "either=7"}, `{"data":{"a":1},"either":"7","tags":["x"]}`, ""},
		{`{"name":"a","count":1}`, []string{"count=2"}, `{"count":2,"name":"a"}`, ""},
		{"", []string{"unknown=12"}, `{"unknown":12}`, ""},
		{"", []string{"unknown=hello world"}, `{"unknown":"hello world"}`, ""},
		{"", []string{"unknown=[1, 2"}, `{"unknown":"[1, 2"}`, ""},
		{"", []string{"count=many"}, "", "--arg count=many: the tool wants an integer"},
		{"", []string{"on=maybe"}, "", "--arg on=maybe: the tool wants true or false"},
		{"", []string{"data={"}, "", "--arg data: the tool wants JSON"},
		{"", []string{"novalue"}, "", `--arg "novalue" is not key=value`},
		{`[1]`, nil, "", "must be a JSON object ({…}), not an array"},
		{`{bad`, nil, "", "are not valid JSON"},
	}
	for _, tt := range tests {
		got, err := toolArguments(tt.json, tt.pairs, schema)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q %q: error %v; want %q", tt.json, tt.pairs, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q %q: %v", tt.json, tt.pairs, err)
			continue
		}
		b, _ := json.Marshal(got)
		var a, w any
		json.Unmarshal(b, &a)
		json.Unmarshal([]byte(tt.want), &w)
		if !reflect.DeepEqual(a, w) {
			t.Errorf("%q %q: %s; want %s", tt.json, tt.pairs, b, tt.want)
		}
	}
	if d := describeArguments(schema); !strings.HasPrefix(d, "name* (string), count (integer)") {
		t.Errorf("describeArguments: %s", d)
	}
}

func TestClientFlagChecks(t *testing.T) {
	f := &clientFlags{headers: []string{"X-Api-Key: abc", "X-Two:  b c "}}
	h, err := f.headerValues()
	if err != nil || h.Get("X-Api-Key") != "abc" || h.Get("X-Two") != "b c" {
		t.Fatalf("headers %v %v", h, err)
	}
	for _, bad := range []string{"NoColon", ": value", "Bad Name: v"} {
		f := &clientFlags{headers: []string{bad}}
		if _, err := f.headerValues(); err == nil {
			t.Errorf("header %q accepted", bad)
		}
	}
	for _, u := range []string{"localhost:8000/api/mcp", "ftp://x/y", "http://", "http://h/mcp#frag"} {
		if _, err := serverURL(u); err == nil {
			t.Errorf("URL %q accepted", u)
		}
	}
	for _, g := range []struct {
		f    clientFlags
		want string
	}{
		{clientFlags{grant: "password"}, `--grant "password" is not one of`},
		{clientFlags{grant: "jwt-bearer"}, "needs --assertion-file"},
		{clientFlags{grant: "client_credentials", clientID: "c"}, "either a client secret or a private key"},
	} {
		if _, err := g.f.grantHandler("https://mcp.example.com/mcp"); err == nil || !strings.Contains(err.Error(), g.want) {
			t.Errorf("grant %+v: %v; want %q", g.f, err, g.want)
		}
	}
}
