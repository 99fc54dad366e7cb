// Package oauthclient is the client side of MCP authorization: it lets a
// command-line MCP client log in to any remote MCP server with OAuth 2.1,
// the way the MCP authorization specification (revisions 2025-11-25 and
// 2026-07-28) asks.
//
// The authorization-code flow itself (PKCE, state, the resource parameter,
// the RFC 9207 iss check, scope selection and the step-up union) is
// go-sdk's [auth.AuthorizationCodeHandler]. This package adds what a real
// client needs around it:
//
//   - [Discover]: the protected-resource and authorization-server metadata in
//     the specification's order, with one-sentence errors naming the URL
//     that failed, and the checks go-sdk leaves out (S256 must be listed);
//   - [Handler]: an [auth.OAuthHandler] for go-sdk's Streamable HTTP client
//     transport that keeps tokens and client registrations in a [Store],
//     reuses a registered client per issuer, registers again when the stored
//     client is rejected or the authorization server changed, configures only
//     the registration method the user chose, refreshes tokens before they
//     expire and limits step-up retries;
//   - the loopback redirect ([Callback]) and the browser opener ([Browser]);
//   - [NewHTTPClient]: an HTTP client for the OAuth requests that, unlike
//     go-sdk's default, may reach the private network the MCP server itself
//     is on;
//   - handlers for the non-interactive grants of the MCP authorization
//     extensions (client credentials, JWT bearer assertions, enterprise-managed
//     authorization).
//
// Errors that reach the user are [*Error] values: one sentence saying what
// went wrong and where. No error message, log line or file other than the
// token cache contains an access token, refresh token or client secret.
//
// [auth.AuthorizationCodeHandler]: https://pkg.go.dev/github.com/modelcontextprotocol/go-sdk/auth#AuthorizationCodeHandler
// [auth.OAuthHandler]: https://pkg.go.dev/github.com/modelcontextprotocol/go-sdk/auth#OAuthHandler
package oauthclient
