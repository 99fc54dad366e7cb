package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/doctor"
)

// Exit codes of atomcp doctor.
const (
	doctorOK     = 0 // nothing failed (warnings are fine)
	doctorFailed = 1 // at least one check failed
	doctorBroken = 2 // doctor itself could not run (usage, output)
)

// doctorExit ends the process with doctor's exit code; tests replace it.
// doctor needs three codes, and main's error path knows only one, so the
// command exits by itself once its output is written.
var doctorExit = os.Exit

// newDoctorCmd is `atomcp doctor URL`: the OAuth and CORS troubleshooting
// guide of remote MCP servers as one command.
func newDoctorCmd() *cobra.Command {
	var (
		o          doctor.Options
		jsonOut    bool
		verbose    bool
		configPath string
		format     string
		sarifPath  string
		clients    []string
	)
	cmd := &cobra.Command{
		Use:   "doctor [URL]",
		Short: "Check an MCP server's OAuth, discovery and CORS set-up (and a local .env) and say what to fix",
		Long: `doctor checks an MCP endpoint the way clients and browsers use it: reachability
and TLS, redirects, the 401 challenge, the protected-resource metadata, the
authorization server's discovery documents, client registration, CORS
preflights, the signing keys and, with --token, an access token. Every
problem comes with its fix; docs/troubleshooting.md explains each finding.
It works against any MCP server, not only atomcp.

With --client NAME (claude-code, claude-ai, cursor, vscode, chatgpt, codex,
mcp-remote, inspector, or all; several comma-separated) doctor instead
replays what that client is known to send, without a browser: its
initialize and Accept header, its discovery order, its registration (with
--register), its authorization and token requests up to the sign-in, and
for browser clients the CORS preflights. It says per client whether it
would connect, and what to fix when not: how to answer "it works in Claude
Code but not in claude.ai". docs/clients.md describes each client.

Exit status: 0 when nothing failed, 1 when a check failed, 2 when doctor
itself could not run.`,
		Example: `  atomcp doctor https://mcp.example.com/api/mcp
  atomcp doctor https://mcp.example.com/api/mcp --register --origin https://claude.ai
  atomcp doctor https://mcp.example.com/api/mcp --token - < token.txt
  atomcp doctor --config            # lint ./.env
  atomcp doctor http://127.0.0.1:8000/api/mcp --config .env --json
  atomcp doctor https://mcp.example.com/api/mcp --client all --register
  atomcp doctor https://mcp.example.com/api/mcp --client claude-ai,codex --format sarif > doctor.sarif`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			broken := func(err error) error {
				fmt.Fprintln(errOut, "atomcp doctor:", err)
				doctorExit(doctorBroken)
				return nil
			}
			if cmd.Flags().Changed("config") && configPath == cmd.Flags().Lookup("config").NoOptDefVal {
				args = takeConfigArg(args, &configPath)
			}
			if len(args) > 1 {
				return broken(fmt.Errorf("one URL at a time (got %d arguments)", len(args)))
			}
			if len(args) == 1 {
				o.URL = args[0]
			}
			if cmd.Flags().Changed("config") {
				o.ConfigPath = configPath
				o.Environ = os.Environ()
			}
			if o.Token == "-" {
				tok, err := readTokenLine(cmd.InOrStdin())
				if err != nil {
					return broken(err)
				}
				o.Token = tok
			}
			if jsonOut {
				if cmd.Flags().Changed("format") && format != "json" {
					return broken(fmt.Errorf("--json and --format %s contradict each other", format))
				}
				format = "json"
			}
			switch format {
			case "text", "json", "sarif":
			default:
				return broken(fmt.Errorf("--format %q: use text, json or sarif", format))
			}
			o.Clients = clients
			o.Version = version
			o.LoginPrompt = errOut
			o.Verbose = verbose && format == "json"
			if verbose && format != "json" {
				o.Trace = func(x doctor.Exchange) { doctor.WriteExchange(errOut, x) }
			}
			rep, err := doctor.Run(cmd.Context(), o)
			if err != nil {
				return broken(err)
			}
			switch format {
			case "json":
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				err = enc.Encode(rep)
			case "sarif":
				err = doctor.WriteSARIF(out, rep, version)
			default:
				err = doctor.WriteText(out, rep)
			}
			if err != nil {
				return broken(fmt.Errorf("writing the report: %w", err))
			}
			if sarifPath != "" {
				if err := writeSARIFFile(sarifPath, rep); err != nil {
					return broken(err)
				}
			}
			if rep.Failed() {
				doctorExit(doctorFailed)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Token, "token", "", "an access token to check and call the server with (\"-\" reads it from stdin, which keeps it out of the process list); shown only as its first characters")
	f.BoolVar(&o.Register, "register", false, "make a real test registration at the registration endpoint (a public client with a loopback redirect URI; deleted again where the server allows)")
	f.BoolVar(&o.Login, "login", false, "log in for real (dynamic registration, the browser, the loopback callback) and call tools/list with the token; nothing is kept")
	f.DurationVar(&o.LoginTimeout, "login-timeout", doctor.DefaultLoginTimeout, "with --login, how long to wait for the login in the browser")
	f.StringVar(&configPath, "config", "", "lint a local configuration: the .env file (default .env) and the environment, as atomcp serve reads them")
	f.Lookup("config").NoOptDefVal = ".env"
	f.BoolVar(&jsonOut, "json", false, "print the report as JSON (for CI); the same as --format json")
	f.StringVar(&format, "format", "text", "output format: text, json or sarif (SARIF 2.1.0, for code scanning in CI)")
	f.StringVar(&sarifPath, "sarif", "", "also write the report as SARIF 2.1.0 to this file")
	f.StringSliceVar(&clients, "client", nil, "replay a client's known behaviour: "+strings.Join(doctor.ClientNames(), ", ")+" (comma-separated for several); see docs/clients.md")
	f.BoolVarP(&verbose, "verbose", "v", false, "show every HTTP exchange (on stderr; in the report with --json), the Authorization header redacted")
	f.StringVar(&o.Origin, "origin", doctor.DefaultOrigin, "the browser origin of the CORS checks, e.g. https://claude.ai")
	f.DurationVar(&o.Timeout, "timeout", doctor.DefaultTimeout, "bound on the whole run")
	f.DurationVar(&o.RequestTimeout, "request-timeout", doctor.DefaultRequestTimeout, "bound on each HTTP request")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		fmt.Fprintln(c.ErrOrStderr(), "atomcp doctor:", err)
		fmt.Fprintln(c.ErrOrStderr(), "Run 'atomcp doctor --help' for usage.")
		doctorExit(doctorBroken)
		return errDoctorExited
	})
	return cmd
}

// takeConfigArg lets `--config FILE` work with a space: pflag reads a
// flag whose value is optional only as --config=FILE, and leaves FILE as
// an argument. An argument that is not a URL and names a file (or ends in
// "env") is taken as the configuration file.
func takeConfigArg(args []string, path *string) []string {
	for i, a := range args {
		if strings.Contains(a, "://") {
			continue
		}
		if _, err := os.Stat(a); err == nil || strings.HasSuffix(a, "env") {
			*path = a
			return append(args[:i:i], args[i+1:]...)
		}
	}
	return args
}

// writeSARIFFile writes the report as SARIF to path.
func writeSARIFFile(path string, rep *doctor.Report) error {
	fh, err := os.Create(path) // #nosec G304 -- the operator's own --output path
	if err != nil {
		return fmt.Errorf("--sarif: %w", err)
	}
	if err := doctor.WriteSARIF(fh, rep, version); err != nil {
		fh.Close()
		return fmt.Errorf("--sarif %s: %w", path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("--sarif %s: %w", path, err)
	}
	return nil
}

// errDoctorExited is returned after doctorExit when a test's doctorExit
// does not end the process.
var errDoctorExited = errors.New("doctor exited")

// readTokenLine reads a token from the first line of r.
func readTokenLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 64<<10)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading the token from stdin: %w", err)
	}
	tok := strings.TrimSpace(line)
	if tok == "" {
		return "", errors.New("--token -: stdin is empty")
	}
	return tok, nil
}
