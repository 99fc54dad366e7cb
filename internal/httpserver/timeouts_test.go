package httpserver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveLimited serves routes under s on a loopback listener.
func serveLimited(t *testing.T, opts Options) string {
	t.Helper()
	s := newTestServer(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Serve(ctx, ln, time.Second); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

// closedWithin reports whether the server closes conn within d.
func closedWithin(conn net.Conn, d time.Duration) bool {
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	return err == nil || !(errorsAs(err, &ne) && ne.Timeout())
}

func errorsAs(err error, target *net.Error) bool {
	ne, ok := err.(net.Error)
	if ok {
		*target = ne
	}
	return ok
}

func TestSlowHeadersAreCutOff(t *testing.T) {
	addr := serveLimited(t, Options{Limits: Limits{ReadHeaderTimeout: 300 * time.Millisecond}})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n") // and never the blank line
	start := time.Now()
	if !closedWithin(conn, 3*time.Second) {
		t.Fatal("a request whose headers never end was not cut off")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cut off after %v, want about 300ms", d)
	}
}

func TestSlowBodyIsCutOff(t *testing.T) {
	read := make(chan error, 1)
	addr := serveLimited(t, Options{
		Limits: Limits{ReadBodyTimeout: 500 * time.Millisecond, MinBodyRate: 1024},
		Routes: map[string]http.Handler{"POST /upload": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, err := io.ReadAll(r.Body)
			read <- err
		})},
	})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
	start := time.Now()
	go func() {
		// One byte every 200 ms: far below 1 KiB/s.
		for range 50 {
			if _, err := conn.Write([]byte("x")); err != nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	select {
	case err := <-read:
		if err == nil || !strings.Contains(err.Error(), "too slowly") {
			t.Fatalf("reading the trickled body: %v, want the too-slow error", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("cut off after %v, want about 500ms", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a body trickled one byte every 200 ms was still being read after 5 s")
	}
	if !closedWithin(conn, 3*time.Second) {
		t.Error("the connection of the trickled body stayed open")
	}
}

// TestBodyDeadlineSparesStreams: a response that streams for longer than
// the body deadline, after a body that arrived in time, is not cut.
func TestBodyDeadlineSparesStreams(t *testing.T) {
	addr := serveLimited(t, Options{
		Limits: Limits{ReadBodyTimeout: 200 * time.Millisecond, MinBodyRate: 1024, ReadHeaderTimeout: 200 * time.Millisecond},
		Routes: map[string]http.Handler{"POST /stream": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "text/event-stream")
			for i := range 6 {
				select {
				case <-r.Context().Done():
					return
				case <-time.After(150 * time.Millisecond):
				}
				fmt.Fprintf(w, "data: %d\n\n", i)
				http.NewResponseController(w).Flush()
			}
		})},
	})
	resp, err := http.Post("http://"+addr+"/stream", "application/json", strings.NewReader(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			n++
		}
	}
	if n != 6 {
		t.Fatalf("got %d of 6 events over 900 ms with a 200 ms body deadline: %v", n, sc.Err())
	}
}

func TestConnectionsPerClientAreCapped(t *testing.T) {
	addr := serveLimited(t, Options{Limits: Limits{MaxConnsPerClient: 2}})
	var open []net.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
	}
	// Make sure both were accepted before the third.
	for _, c := range open {
		fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		if _, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil {
			t.Fatal(err)
		}
	}
	third, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	fmt.Fprint(third, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := http.ReadResponse(bufio.NewReader(third), nil); err == nil {
		t.Fatal("a third connection from one address was served")
	}
	open[0].Close()
	open = open[1:]
	time.Sleep(50 * time.Millisecond)
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("after one closed, a new connection: %v", err)
	}
	resp.Body.Close()
}

func TestToolLimitsAnswer429WithRetryAfter(t *testing.T) {
	addr := serveLimited(t, Options{Limits: Limits{Tools: ToolLimits{Rate: 0.5, Burst: 2, MaxWait: 10 * time.Millisecond}}})
	post := func() *http.Response {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", "2026-07-28")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for i := range 2 {
		resp := post()
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("request %d within the burst: 429", i)
		}
	}
	resp := post()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("third request: %d, Retry-After %q; want 429 and 2", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	var body struct {
		Error struct {
			Code int    `json:"code"`
			Msg  string `json:"message"`
			Data struct {
				RetryAfter int `json:"retry_after_seconds"`
			} `json:"data"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Error.Code != CodeRateLimited || body.Error.Data.RetryAfter != 2 || !strings.Contains(body.Error.Msg, "retry after 2 s") {
		t.Errorf("body %+v", body)
	}
}
