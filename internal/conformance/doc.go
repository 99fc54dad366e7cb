// Package conformance is the fixture the MCP conformance suite
// (@modelcontextprotocol/conformance, pinned in conformance/package.json)
// runs against: atomcp's own HTTP front and MCP server wiring, with auth
// off, plus the tools, resources and prompts the suite's server scenarios
// call (test_simple_text, test://static-text, test_simple_prompt, …).
//
// The fixture adds content, never plumbing: logging, progress,
// completions, subscriptions and caching hints come from
// internal/mcpserver, the routes, CORS, host/origin guard and wire-version
// routing from internal/httpserver, exactly as `atomcp serve` builds them.
// A scenario that fails here therefore points at the product, not at the
// fixture.
//
// The expected texts and shapes follow the scenario descriptions of the
// suite (`conformance list` and the scenario sources); see
// docs/conformance.md.
package conformance
