// Package authserver is atomcp's embedded OAuth 2.1 authorization server:
// metadata (RFC 8414 and OpenID discovery), Dynamic Client Registration
// (RFC 7591), Client ID Metadata Documents, the authorization endpoint with
// PKCE S256 (RFC 7636), resource indicators (RFC 8707) and the iss
// response parameter (RFC 9207), server-rendered login, consent and
// first-account pages, the token endpoint with refresh-token rotation and
// reuse detection, revocation (RFC 7009) and the JWKS of the keys it signs
// access tokens with.
//
// It is written here on go-sdk's oauthex types because no maintained Go
// library combines DCR, CIMD and resource binding (the design notes, shared/DESIGN.md), and it
// keeps all its state in the store (store.Auth), so that a restart keeps
// clients, accounts, keys and refresh tokens.
//
// Secrets: codes, refresh tokens, setup tokens and client secrets are
// stored as SHA-256 hashes and never logged; passwords are argon2id
// hashes. The one secret ever printed is the first-account setup link, and
// only to a terminal (Options.SetupOutput), never to a log.
package authserver
