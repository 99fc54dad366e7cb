// Command gosdk is the bare go-sdk server of atomcp's benchmark
// (bench/README.md): one echo tool over Streamable HTTP, written the
// idiomatic way — the generic typed mcp.AddTool, go-sdk's own handler,
// behind go-sdk's auth.RequireBearerToken with an RS256 check by
// golang-jwt. It is the yardstick, so nothing is tuned or slowed.
//
//	gosdk [-addr 127.0.0.1:0] [-public-key key.pem -issuer ISS -audience AUD] [-stateless]
//
// Without -public-key there is no bearer check. It prints
// "gosdk serving http://ADDR/mcp" once it listens.
package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/golang-jwt/jwt/v5"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// EchoInput is the echo tool's argument.
type EchoInput struct {
	Message string `json:"message" jsonschema:"the message to echo"`
}

func echo(_ context.Context, _ *mcp.CallToolRequest, in EchoInput) (*mcp.CallToolResult, any, error) {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Message}}}, nil, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	keyFile := flag.String("public-key", "", "PEM file of the RSA public key that signs access tokens (none: no bearer check)")
	issuer := flag.String("issuer", "https://bench.example", "the iss tokens must carry")
	audience := flag.String("audience", "", "the aud tokens must carry (empty: not checked)")
	stateless := flag.Bool("stateless", false, "no sessions")
	flag.Parse()

	server := mcp.NewServer(&mcp.Implementation{Name: "bench-gosdk-echo", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo", Description: "Echo the message back"}, echo)
	var handler http.Handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server },
		&mcp.StreamableHTTPOptions{Stateless: *stateless})
	if *keyFile != "" {
		pem, err := os.ReadFile(*keyFile)
		if err != nil {
			log.Fatal(err)
		}
		key, err := jwt.ParseRSAPublicKeyFromPEM(pem)
		if err != nil {
			log.Fatalf("%s: %v", *keyFile, err)
		}
		handler = auth.RequireBearerToken(verifier(key, *issuer, *audience), nil)(handler)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", handler)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("gosdk serving http://%s/mcp\n", ln.Addr())
	srv := &http.Server{Handler: mux}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		<-sig
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// claims are the access token's claims.
type claims struct {
	jwt.RegisteredClaims
	Scope string `json:"scope"`
}

// verifier checks an RS256 access token: signature, issuer, audience,
// expiry (required) and subject.
func verifier(key *rsa.PublicKey, issuer, audience string) auth.TokenVerifier {
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(issuer), jwt.WithExpirationRequired()}
	if audience != "" {
		opts = append(opts, jwt.WithAudience(audience))
	}
	parser := jwt.NewParser(opts...)
	keyfunc := func(*jwt.Token) (any, error) { return key, nil }
	return func(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		var c claims
		if _, err := parser.ParseWithClaims(token, &c, keyfunc); err != nil {
			return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
		}
		if c.Subject == "" {
			return nil, fmt.Errorf("%w: no subject", auth.ErrInvalidToken)
		}
		return &auth.TokenInfo{Scopes: strings.Fields(c.Scope), Expiration: c.ExpiresAt.Time, UserID: c.Subject}, nil
	}
}
