package mcpclient

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/oauthclient"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestConnectAndHeaders(t *testing.T) {
	server := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: req.Extra.Header.Get("X-Api-Key") + "|" + req.Extra.Header.Get("Authorization")}}}, nil, nil
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Connect(ctx, Options{URL: srv.URL, Headers: http.Header{"X-Api-Key": {"k1"}}, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Content[0].(*mcp.TextContent).Text; got != "k1|Bearer tok" {
		t.Fatalf("the server saw %q; want the header and the token", got)
	}
}

func TestConnectFailures(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := "http://" + ln.Addr().String() + "/mcp"
	ln.Close()
	handler := func(f http.HandlerFunc) string {
		s := httptest.NewServer(f)
		t.Cleanup(s.Close)
		return s.URL + "/mcp"
	}
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	tests := []struct {
		name  string
		url   string
		token string
		want  string
	}{
		{"down", down, "", "cannot reach the MCP server at " + down + ": connection refused"},
		{"404", handler(http.NotFound), "", "answered HTTP 404: is this the MCP endpoint?"},
		{"HTML", handler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>hi</html>")
		}), "", "answered with an HTML page, not JSON or an event stream"},
		{"500", handler(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }), "", "answered HTTP 500"},
		{"redirect to nothing", handler(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/mcp" {
				http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
				return
			}
			http.NotFound(w, r)
		}), "", "answered HTTP 404"},
		{"JSON-RPC error", handler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			io.WriteString(w, `{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"bad request shape"}}`)
		}), "", "answered with an error: bad request shape (code -32600)"},
		{"token refused", handler(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusUnauthorized) }), "bad-token", "refused the token it was given (HTTP 401)"},
		{"token wanted", handler(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusUnauthorized) }), "", "answered HTTP 401: it wants a token"},
		{"TLS", tlsSrv.URL + "/mcp", "", "TLS error talking to the MCP server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := Connect(ctx, Options{URL: tt.url, Token: tt.token, MaxRetries: -1})
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v; want one line with %q", err, tt.want)
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Fatalf("the error shows the token: %v", err)
			}
			var me *Error
			var oe *oauthclient.Error
			if !errors.As(err, &me) && !errors.As(err, &oe) {
				t.Fatalf("%T is neither *Error nor *oauthclient.Error", err)
			}
		})
	}
}
