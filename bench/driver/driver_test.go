package main

import (
	"strings"
	"testing"
)

func TestParseAnswer(t *testing.T) {
	sse := "event: prime\nid: X_0\ndata: \n\nevent: message\nid: X_1\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}}\n\n"
	m, err := parseAnswer([]byte(sse))
	if err != nil || string(m.Result) != `{"content":[{"type":"text","text":"hi"}]}` {
		t.Errorf("event stream: %v %+v", err, m)
	}
	m, err = parseAnswer([]byte(`{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"unknown tool"}}`))
	if err != nil || m.Error == nil || m.Error.Code != -32602 {
		t.Errorf("JSON error: %v %+v", err, m)
	}
	if _, err := parseAnswer([]byte("event: prime\ndata: \n\n")); err == nil {
		t.Error("a stream without an answer was accepted")
	}
}

func TestParseWrk(t *testing.T) {
	out := "Running 2s test\n  2 threads\nRequests/sec: 10\nBENCH_RESULT {\"requests\":2000,\"duration_us\":2000000,\"status_errors\":1,\"app_errors\":2,\"timeouts\":3,\"read_errors\":4,\"p50_us\":100,\"p99_us\":900,\"first_error\":\"500 x\"}\n"
	r, err := parseWrk([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if r.RPS() != 1000 || r.Errors() != 10 || r.P99US != 900 || r.FirstError != "500 x" {
		t.Errorf("%+v rps %v errors %v", r, r.RPS(), r.Errors())
	}
	if _, err := parseWrk([]byte("wrk: connection refused")); err == nil || !strings.Contains(err.Error(), "no BENCH_RESULT") {
		t.Errorf("no result line: %v", err)
	}
}

func TestMedianAndRatios(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median of 3: %v", m)
	}
	if m := median([]int64{4, 1, 3, 2}); m != 2 {
		t.Errorf("median of 4 (lower middle): %v", m)
	}
	if m := median([]int64{}); m != 0 {
		t.Errorf("median of none: %v", m)
	}
	rows := []*row{
		{Key: "raw", spec: &spec{Key: "raw"}, RPS: 10000},
		{Key: "gosdk-stateful-jwt", spec: &spec{Mode: "stateful"}, RPS: 2000},
		{Key: "atomcp-stateless", spec: &spec{Mode: "stateless"}, RPS: 1000},
		{Key: "atomcp-stateful", spec: &spec{Mode: "stateful"}, RPS: 4000},
	}
	if ref := reference(rows, rows[0]); ref != rows[2] {
		t.Errorf("raw is compared with %v; want atomcp stateless", ref.Key)
	}
	if ref := reference(rows, rows[1]); ref != rows[3] {
		t.Errorf("go-sdk stateful is compared with %v; want atomcp stateful", ref.Key)
	}
}

func TestSelectSpecs(t *testing.T) {
	s, err := selectSpecs("raw, atomcp-stateful")
	if err != nil || len(s) != 2 || s[0].Key != "raw" || s[1].Key != "atomcp-stateful" {
		t.Errorf("%v %v", s, err)
	}
	if _, err := selectSpecs("nginx"); err == nil {
		t.Error("an unknown server was accepted")
	}
	if all, _ := selectSpecs("all"); len(all) != len(specs()) {
		t.Error("all is not every server")
	}
}
