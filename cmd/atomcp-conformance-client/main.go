// Command atomcp-conformance-client is the client side of the MCP
// conformance suite (`conformance client --command …`): it connects to the
// URL given as its argument and does what the scenario named by
// MCP_CONFORMANCE_SCENARIO needs, with the data of MCP_CONFORMANCE_CONTEXT,
// through the same code as `atomcp tools …`: internal/mcpclient for the
// connection and internal/oauthclient for authorization (the
// authorization-code flow with its loopback callback, or a grant of the
// authorization extensions). Scenario knowledge lives here, never in the
// library: this file only chooses the configuration a user would choose and
// the MCP calls the scenario expects.
//
// The "browser" is an HTTP client that follows the authorization
// server's redirects to the loopback callback, as a user who approves at
// once would; the conformance authorization servers approve without a page.
//
// Exit status: 0 when the scenario's calls succeeded, 1 otherwise (the
// suite expects a failure in the scenarios that test refusals).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/mcpclient"
	"github.com/atomcp/atomcp/internal/oauthclient"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// cimdURL is the client ID metadata document URL the suite's authorization
// servers expect (they do not fetch it).
const cimdURL = "https://conformance-test.local/client-metadata.json"

// scenarioContext is MCP_CONFORMANCE_CONTEXT: scenario data such as
// pre-registered credentials.
type scenarioContext struct {
	Name             string     `json:"name"`
	ClientID         string     `json:"client_id"`
	ClientSecret     string     `json:"client_secret"`
	PrivateKeyPEM    string     `json:"private_key_pem"`
	SigningAlgorithm string     `json:"signing_algorithm"`
	IdPClientID      string     `json:"idp_client_id"`
	IdPIDToken       string     `json:"idp_id_token"`
	IdPIssuer        string     `json:"idp_issuer"`
	IdPTokenEndpoint string     `json:"idp_token_endpoint"`
	ValidJWT         string     `json:"valid_jwt"`
	ToolCalls        []toolCall `json:"toolCalls"`
}

type toolCall struct {
	Name      string         `json:"name"`
	Arguments map[string]any `json:"arguments"`
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("atomcp-conformance-client: ")
	if len(os.Args) != 2 {
		log.Fatal("usage: MCP_CONFORMANCE_SCENARIO=<scenario> atomcp-conformance-client <server-url>")
	}
	scenario := os.Getenv("MCP_CONFORMANCE_SCENARIO")
	if scenario == "" {
		log.Fatal("MCP_CONFORMANCE_SCENARIO is not set")
	}
	var sc scenarioContext
	if raw := os.Getenv("MCP_CONFORMANCE_CONTEXT"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &sc); err != nil {
			log.Fatalf("MCP_CONFORMANCE_CONTEXT is not valid JSON: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := run(ctx, scenario, os.Args[1], &sc); err != nil {
		log.Fatalf("%s: %v", scenario, err) // #nosec G706 -- the scenario name comes from the conformance suite that runs this test client; its log is the suite's
	}
	log.Printf("%s: done", scenario) // #nosec G706 -- the scenario name comes from the conformance suite that runs this test client; its log is the suite's
}

func run(ctx context.Context, scenario, url string, sc *scenarioContext) error {
	opts := mcpclient.Options{URL: url, Name: "atomcp-conformance-client", Version: "1"}
	if strings.HasPrefix(scenario, "auth/") {
		h, cleanup, err := authHandler(url, sc)
		if err != nil {
			return err
		}
		defer cleanup()
		opts.OAuth = h
	}
	// Elicitations are accepted: with the fields given (the request-state
	// scenario asks for a confirmation) or with none, which lets the
	// client fill in the schema's defaults (SEP-1034).
	opts.ClientOptions = &mcp.ClientOptions{
		ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			content := map[string]any{}
			if scenario == "sep-2322-client-request-state" {
				content["confirmed"] = true
			}
			return &mcp.ElicitResult{Action: "accept", Content: content}, nil
		},
	}
	c, err := mcpclient.Connect(ctx, opts)
	if err != nil {
		return err
	}
	defer c.Close()

	switch {
	case strings.HasPrefix(scenario, "auth/"):
		if _, err := listTools(ctx, c); err != nil {
			return err
		}
		if slices.Contains([]string{"auth/client-credentials-jwt", "auth/client-credentials-basic", "auth/wif-jwt-bearer"}, scenario) {
			return nil
		}
		return call(ctx, c, "test-tool", map[string]any{})
	}

	switch scenario {
	case "initialize", "request-metadata", "json-schema-ref-no-deref":
		_, err := listTools(ctx, c)
		return err
	case "tools_call":
		return call(ctx, c, "add_numbers", map[string]any{"a": 5, "b": 3})
	case "sse-retry":
		return call(ctx, c, "test_reconnection", map[string]any{})
	case "elicitation-sep1034-client-defaults":
		return call(ctx, c, "test_client_elicitation_defaults", map[string]any{})
	case "json-schema-2020-12-preservation":
		tools, err := listTools(ctx, c)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(tools, func(t *mcp.Tool) bool { return t.Name == "json_schema_2020_12_tool" })
		if i < 0 {
			return errors.New("the server has no json_schema_2020_12_tool")
		}
		// The schema goes back exactly as received.
		return call(ctx, c, "json_schema_echo", map[string]any{"schema": tools[i].InputSchema})
	case "sep-2322-client-request-state":
		for _, name := range []string{"test_mrtr_echo_state", "test_mrtr_no_state", "test_mrtr_unrelated", "test_mrtr_no_result_type"} {
			if err := call(ctx, c, name, map[string]any{}); err != nil {
				log.Printf("%s: %v", name, err)
			}
		}
		return nil
	case "http-standard-headers":
		if tools, err := listTools(ctx, c); err == nil && len(tools) > 0 {
			_ = call(ctx, c, tools[0].Name, map[string]any{})
		}
		if res, err := c.ListResources(ctx, nil); err == nil && len(res.Resources) > 0 {
			_, _ = c.ReadResource(ctx, &mcp.ReadResourceParams{URI: res.Resources[0].URI})
		}
		if ps, err := c.ListPrompts(ctx, nil); err == nil && len(ps.Prompts) > 0 {
			_, _ = c.GetPrompt(ctx, &mcp.GetPromptParams{Name: ps.Prompts[0].Name, Arguments: map[string]string{}})
		}
		return nil
	case "http-custom-headers":
		if _, err := listTools(ctx, c); err != nil {
			return err
		}
		for _, tc := range sc.ToolCalls {
			if tc.Arguments == nil {
				tc.Arguments = map[string]any{}
			}
			if err := call(ctx, c, tc.Name, tc.Arguments); err != nil {
				log.Printf("%s: %v", tc.Name, err)
			}
		}
		return nil
	case "http-invalid-tool-headers":
		tools, err := listTools(ctx, c)
		if err != nil {
			return err
		}
		for _, t := range tools {
			if err := call(ctx, c, t.Name, map[string]any{"region": "us-west1"}); err != nil {
				log.Printf("%s: %v", t.Name, err)
			}
		}
		return nil
	}
	// Any other scenario: connect and list the tools.
	_, err = listTools(ctx, c)
	return err
}

func listTools(ctx context.Context, c *mcpclient.Client) ([]*mcp.Tool, error) {
	var out []*mcp.Tool
	for t, err := range c.Tools(ctx, nil) {
		if err != nil {
			return nil, c.Describe(err)
		}
		out = append(out, t)
	}
	return out, nil
}

func call(ctx context.Context, c *mcpclient.Client, name string, args map[string]any) error {
	res, err := c.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return c.Describe(err)
	}
	if res.IsError {
		return fmt.Errorf("the tool %s reported an error", name)
	}
	return nil
}

// authHandler chooses the authorization a user of atomcp would configure
// for the scenario's data: a grant of the extensions when the context
// carries its credentials, else the authorization-code flow with the
// pre-registered client of the context, or a client ID metadata document
// with dynamic registration as the fallback.
func authHandler(url string, sc *scenarioContext) (auth.OAuthHandler, func(), error) {
	nothing := func() {}
	switch {
	case sc.PrivateKeyPEM != "":
		h, err := oauthclient.NewGrantHandler(url, oauthclient.GrantConfig{Grant: oauthclient.GrantClientCredentials, ClientID: sc.ClientID, PrivateKeyPEM: sc.PrivateKeyPEM, SigningAlg: sc.SigningAlgorithm})
		return h, nothing, err
	case sc.IdPIDToken != "":
		h, err := oauthclient.NewGrantHandler(url, oauthclient.GrantConfig{Grant: oauthclient.GrantEnterprise, ClientID: sc.ClientID, ClientSecret: sc.ClientSecret,
			IDToken: sc.IdPIDToken, IdPIssuer: sc.IdPIssuer, IdPTokenEndpoint: sc.IdPTokenEndpoint, IdPClientID: sc.IdPClientID})
		return h, nothing, err
	case sc.ValidJWT != "":
		h, err := oauthclient.NewGrantHandler(url, oauthclient.GrantConfig{Grant: oauthclient.GrantJWTBearer, ClientID: sc.ClientID, Assertion: sc.ValidJWT})
		return h, nothing, err
	case sc.Name == "auth/client-credentials-basic":
		h, err := oauthclient.NewGrantHandler(url, oauthclient.GrantConfig{Grant: oauthclient.GrantClientCredentials, ClientID: sc.ClientID, ClientSecret: sc.ClientSecret})
		return h, nothing, err
	}
	dir, err := os.MkdirTemp("", "atomcp-conformance-client-")
	if err != nil {
		return nil, nothing, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	store, err := oauthclient.OpenStore(dir, func(err error) { log.Print(err) })
	if err != nil {
		cleanup()
		return nil, nothing, err
	}
	reg := oauthclient.Registration{MetadataURL: cimdURL, Dynamic: true}
	if sc.ClientID != "" {
		reg = oauthclient.Registration{ClientID: sc.ClientID, ClientSecret: sc.ClientSecret}
	}
	h, err := oauthclient.New(oauthclient.Config{
		ServerURL:    url,
		Store:        store,
		Registration: reg,
		Browser:      approvingBrowser{},
		Prompt:       log.Writer(),
		LoginTimeout: 20 * time.Second,
		ClientName:   "atomcp-conformance-client",
	})
	if err != nil {
		cleanup()
		return nil, nothing, err
	}
	return h, cleanup, nil
}

// approvingBrowser plays a user who approves at once: it follows the
// authorization server's redirects to the loopback callback.
type approvingBrowser struct{}

func (approvingBrowser) Open(_ context.Context, u string) error {
	go func() {
		resp, err := http.Get(u) // #nosec G107 -- the URL is the conformance suite's test server, given to this test client by the suite
		if err != nil {
			log.Printf("browser: %v", err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}()
	return nil
}
