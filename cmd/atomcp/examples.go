package main

import "github.com/spf13/cobra"

// examples are the Example sections of the commands that do not set one
// themselves, by command path: kept in one list so that every command's
// --help shows one (TestEveryCommandHasAnExample).
var examples = map[string]string{ // #nosec G101 -- example .env files with placeholder values, printed by `atomcp config example`
	"atomcp": `  atomcp serve                                  # http://127.0.0.1:8000/api/mcp, sign-in built in
  atomcp doctor http://127.0.0.1:8000/api/mcp   # check it as a client would
  atomcp config show                            # every setting, its value and where it came from`,
	"atomcp serve": `  atomcp serve
  ATOMCP_BASE_URL=https://atoms.example.com ATOMCP_DATABASE_URL=postgres://atomcp@db/atomcp atomcp serve --addr :8000
  ATOMCP_METRICS_ADDR=127.0.0.1:9464 OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 atomcp serve`,
	"atomcp stdio":   `  atomcp stdio --database-url sqlite:///home/me/atoms.db   # as the "command" of a local MCP client`,
	"atomcp migrate": `  ATOMCP_DATABASE_URL=postgres://atomcp@db/atomcp atomcp migrate`,
	"atomcp seed":    `  atomcp seed --demo --for alice@example.com`,
	"atomcp version": `  atomcp version`,
	"atomcp config":  `  atomcp config show`,
	"atomcp config show": `  atomcp config show
  atomcp config show --json | jq .database_url
  ATOMCP_AUTH=oidc ATOMCP_OIDC_ISSUER=https://id.example.com atomcp config show`,
	"atomcp users":                  `  atomcp users add alice@example.com --owner --generate-password`,
	"atomcp users add":              `  atomcp users add alice@example.com --name Alice --owner < password.txt`,
	"atomcp users list":             `  atomcp users list`,
	"atomcp users disable":          `  atomcp users disable alice@example.com`,
	"atomcp users enable":           `  atomcp users enable alice@example.com`,
	"atomcp users unlink":           `  atomcp users unlink alice@example.com github`,
	"atomcp users reset-password":   `  atomcp users reset-password alice@example.com --generate-password`,
	"atomcp users invite":           `  atomcp users invite carol@example.com --base-url https://atoms.example.com`,
	"atomcp users reset-link":       `  atomcp users reset-link carol@example.com`,
	"atomcp users role":             `  atomcp users role carol@example.com owner`,
	"atomcp orgs":                   `  atomcp orgs list`,
	"atomcp orgs list":              `  atomcp orgs list`,
	"atomcp orgs members":           `  atomcp orgs members Acme`,
	"atomcp orgs invite":            `  atomcp orgs invite Acme bob@example.com --role viewer`,
	"atomcp orgs invitations":       `  atomcp orgs invitations Acme`,
	"atomcp orgs revoke-invitation": `  atomcp orgs revoke-invitation Acme bob@example.com`,
	"atomcp orgs set-role":          `  atomcp orgs set-role Acme bob@example.com admin`,
	"atomcp orgs remove":            `  atomcp orgs remove Acme bob@example.com`,
	"atomcp projects":               `  atomcp projects members Launch`,
	"atomcp projects members":       `  atomcp projects members Launch`,
	"atomcp projects set-role":      `  atomcp projects set-role Launch bob@example.com viewer`,
	"atomcp projects remove":        `  atomcp projects remove Launch bob@example.com`,
	"atomcp audit": `  atomcp audit --org Acme --action invite --since 2026-12-01
  atomcp audit --actor bob@example.com --limit 20`,
	"atomcp clients":        `  atomcp clients list`,
	"atomcp clients add":    `  atomcp clients add --name "CI bot" --redirect-uri http://127.0.0.1/callback --confidential`,
	"atomcp clients list":   `  atomcp clients list`,
	"atomcp clients revoke": `  atomcp clients revoke 3f1c…`,
	"atomcp keys":           `  atomcp keys rotate`,
	"atomcp keys rotate":    `  atomcp keys rotate`,
	"atomcp tokens":         `  atomcp tokens create --user ci@example.com --scope atoms:read --ttl 90d --name nightly`,
	"atomcp tokens create": `  atomcp tokens create --user ci@example.com --scope atoms:read --ttl 90d --name nightly
  TOKEN=$(atomcp tokens create --user ci@example.com -q --base-url https://atoms.example.com)`,
	"atomcp tokens list":   `  atomcp tokens list`,
	"atomcp tokens revoke": `  atomcp tokens revoke pat_…`,
	"atomcp db":            `  atomcp db copy --to postgres://atomcp:secret@db:5432/atomcp`,
	"atomcp db copy":       `  atomcp db copy --database-url sqlite://atomcp.db --to postgres://atomcp:secret@db:5432/atomcp`,
	"atomcp db backup":     `  atomcp db backup /var/backups/atomcp/atomcp-2026-12-03.db`,
	"atomcp db restore": `  systemctl stop atomcp
  atomcp db restore /var/backups/atomcp/atomcp-2026-12-03.db
  systemctl start atomcp`,
	"atomcp import": `  atomcp import atoms --from postgres://postgres:secret@db.example.supabase.co:5432/postgres --dry-run`,
	"atomcp import atoms": `  atomcp import atoms --from postgres://postgres:secret@db.example.supabase.co:5432/postgres --dry-run
  atomcp import atoms --from postgres://postgres:secret@db.example.supabase.co:5432/postgres --issuer https://your-app.authkit.app`,
	"atomcp login":      `  atomcp login https://atoms.example.com/api/mcp`,
	"atomcp logout":     `  atomcp logout https://atoms.example.com/api/mcp`,
	"atomcp tools":      `  atomcp tools list http://127.0.0.1:8000/api/mcp`,
	"atomcp tools list": `  atomcp tools list http://127.0.0.1:8000/api/mcp --json`,
	"atomcp tools call": `  atomcp tools call http://127.0.0.1:8000/api/mcp workspace_tool --arg operation=list_workspaces
  atomcp tools call --task http://127.0.0.1:8000/api/mcp query_tool --arg query_type=analyze --arg project_id=auto`,
	"atomcp tasks":          `  atomcp tasks get http://127.0.0.1:8000/api/mcp 6f0c… --wait`,
	"atomcp tasks get":      `  atomcp tasks get http://127.0.0.1:8000/api/mcp 6f0c… --wait`,
	"atomcp tasks cancel":   `  atomcp tasks cancel http://127.0.0.1:8000/api/mcp 6f0c…`,
	"atomcp prompts":        `  atomcp prompts list http://127.0.0.1:8000/api/mcp`,
	"atomcp prompts list":   `  atomcp prompts list http://127.0.0.1:8000/api/mcp`,
	"atomcp prompts get":    `  atomcp prompts get http://127.0.0.1:8000/api/mcp atoms_traceability_review --arg project=Rover`,
	"atomcp resources":      `  atomcp resources list http://127.0.0.1:8000/api/mcp`,
	"atomcp resources list": `  atomcp resources list http://127.0.0.1:8000/api/mcp`,
	"atomcp resources read": `  atomcp resources read http://127.0.0.1:8000/api/mcp atoms://projects/PROJECT_ID/traceability-matrix`,
	"atomcp completion":     `  source <(atomcp completion bash)`,
	"atomcp completion bash": `  source <(atomcp completion bash)                       # this shell
  atomcp completion bash > /etc/bash_completion.d/atomcp  # every shell`,
	"atomcp completion zsh":        `  atomcp completion zsh > "${fpath[1]}/_atomcp"`,
	"atomcp completion fish":       `  atomcp completion fish > ~/.config/fish/completions/atomcp.fish`,
	"atomcp completion powershell": `  atomcp completion powershell | Out-String | Invoke-Expression`,
}

// addExamples fills in the Example of every command under c that has none.
func addExamples(c *cobra.Command) {
	if c.Example == "" {
		c.Example = examples[c.CommandPath()]
	}
	for _, sub := range c.Commands() {
		addExamples(sub)
	}
}
