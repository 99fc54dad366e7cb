// Package auth is the resource-server side of atomcp's OAuth: it decides
// whether a request to the MCP endpoint carries a token this server must
// accept, and tells clients how to get one.
//
// It has four parts:
//
//   - token verifiers behind one interface ([Verifier]): signed JWTs checked
//     against a remote JWKS or a local key set ([JWTVerifier]), static
//     tokens for trusted internal callers ([StaticVerifier]), and a
//     [Chain] of both;
//   - the bearer middleware ([Middleware]) that answers RFC 6750 challenges
//     (401 with resource_metadata and scope, 403 insufficient_scope for a
//     tool call whose scope the token lacks: the body peek of mcpparse.go,
//     then scopecheck.go, with the access the tools declare through
//     [ScopePolicy].Access) and hands go-sdk the verified [auth.TokenInfo],
//     whose identity is a domain.Identity ([IdentityOf]);
//   - the discovery documents: RFC 9728 protected-resource metadata built
//     per request ([ResourceMetadata]) and the remote authorization
//     server's metadata forwarded with a cache ([ASMetadataProxy]);
//   - [New], which assembles these for a provider (authkit, oidc, static).
//
// Every URL the package fetches is derived from the configured issuer, is
// https (http only for loopback hosts), is never followed through a
// redirect, and is read to at most 1 MiB. Tokens are never logged.
package auth
