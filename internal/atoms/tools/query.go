package tools

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/atoms/semantic"
	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// QueryArgs are the arguments of query_tool.
type QueryArgs struct {
	QueryType      string   `json:"query_type" jsonschema:"search: ranked full text with highlights; aggregate: counts by status, priority, type; analyze: traceability coverage of a project or document; relationships: the traceability graph around an entity; rag_search: retrieval by meaning and words; similarity: entities most like a given one"`
	Entities       []string `json:"entities,omitempty" jsonschema:"entity types to search (default: all); for aggregate: the one type to count (default requirement)"`
	SearchTerm     string   `json:"search_term,omitempty" jsonschema:"search: the words to look for (all must occur; the last may be a prefix); rag_search: the question or text to match by meaning"`
	RAGMode        string   `json:"rag_mode,omitempty" jsonschema:"rag_search: semantic (vectors), keyword (full text), hybrid (both, fused by reciprocal rank) or auto (hybrid when vectors exist; the default)"`
	OrganizationID string   `json:"organization_id,omitempty" jsonschema:"scope: an organization id, name or \"auto\""`
	ProjectID      string   `json:"project_id,omitempty" jsonschema:"scope: a project id, name or \"auto\""`
	DocumentID     string   `json:"document_id,omitempty" jsonschema:"scope: a document id, name or \"auto\""`
	EntityType     string   `json:"entity_type,omitempty" jsonschema:"relationships and similarity: the type of the entity at the centre"`
	EntityID       string   `json:"entity_id,omitempty" jsonschema:"relationships and similarity: the id or name of the entity at the centre"`
	GroupBy        []string `json:"group_by,omitempty" jsonschema:"aggregate: fields to count by (default status, priority and type where the entity type has them)"`
	Depth          int      `json:"depth,omitempty" jsonschema:"relationships: how many hops (1 to 5, default 2)"`
	Limit          int      `json:"limit,omitempty" jsonschema:"search: results per page (default 20, at most 500); rag_search and similarity: how many results"`
	Offset         int      `json:"offset,omitempty" jsonschema:"search: results to skip"`
	FormatType     string   `json:"format_type,omitempty" jsonschema:"search: detailed (default) or summary (names and snippets with the matched words marked **like this**)"`
}

// queryOps are query_tool's query types; every one only reads.
var queryOps = ops{
	{"search", auth.Read}, {"aggregate", auth.Read}, {"analyze", auth.Read},
	{"relationships", auth.Read}, {"rag_search", auth.Read}, {"similarity", auth.Read},
}

var queryTypes = queryOps.names()

func registerQueryTool(s *mcp.Server, d Deps) {
	schema := inputSchema[QueryArgs](map[string][]string{
		"query_type":  queryTypes,
		"entity_type": domain.EntityTypeNames(),
		"format_type": {atoms.FormatDetailed, atoms.FormatSummary},
		"rag_mode":    semantic.Modes,
	})
	schema.Properties["entities"].Items.Enum = toAny(domain.EntityTypeNames())
	addTool(s, d, &mcp.Tool{
		Name:  "query_tool",
		Title: "Atoms queries",
		Description: "Read-only queries over your Atoms data: ranked full-text search, counts by status/priority/type, " +
			"traceability coverage (requirements without tests, tests without requirements, orphan trace links), the traceability graph around an entity, " +
			"and retrieval by meaning (rag_search, similarity), which falls back to keywords and says so when embeddings are not available.",
		InputSchema: schema,
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: ptr(false)},
	}, func(ctx context.Context, req *mcp.CallToolRequest, args QueryArgs) (*mcp.CallToolResult, any, error) {
		out, err := d.query(ctx, req, args)
		if err != nil {
			return d.toolError(ctx, "query_tool", err)
		}
		return nil, out, nil
	})
}

func (d Deps) query(ctx context.Context, req *mcp.CallToolRequest, args QueryArgs) (any, error) {
	if err := checkOneOf("query_type", args.QueryType, queryTypes); err != nil {
		return nil, err
	}
	types := make([]domain.EntityType, 0, len(args.Entities))
	for _, t := range args.Entities {
		if _, err := domain.KindOf(domain.EntityType(t)); err != nil {
			return nil, fmt.Errorf("entities: %w", err)
		}
		types = append(types, domain.EntityType(t))
	}
	a, err := d.actor(ctx, req)
	if err != nil {
		return nil, err
	}
	scope := atoms.Scope{OrganizationID: args.OrganizationID, ProjectID: args.ProjectID, DocumentID: args.DocumentID}
	out := map[string]any{"query_type": args.QueryType}
	switch args.QueryType {
	case "search":
		format, err := atoms.CheckFormat(args.FormatType)
		if err != nil {
			return nil, err
		}
		hits, total, err := d.Service.Search(ctx, a, atoms.SearchParams{Text: args.SearchTerm, Types: types, Scope: scope, Limit: args.Limit, Offset: args.Offset})
		if err != nil {
			return nil, err
		}
		results := make([]map[string]any, len(hits))
		for i, h := range hits {
			r := map[string]any{"entity_type": string(h.Type), "id": h.ID, "score": h.Score, "name": h.Name}
			if h.Snippet != "" {
				r["snippet"] = h.Snippet
			}
			if format != atoms.FormatSummary {
				r["organization_id"] = h.OrganizationID
				if h.ProjectID != "" {
					r["project_id"] = h.ProjectID
				}
			}
			results[i] = r
		}
		out["results"], out["total"], out["has_more"] = results, total, args.Offset+len(hits) < total
		// The store counts at most store.SearchCountLimit hits (or to the
		// end of the page), plus one to tell that there are more: then
		// total is the bound and total_capped says "more than total".
		if bound := max(store.SearchCountLimit, args.Offset+len(hits)); total > bound {
			out["total"], out["total_capped"] = bound, true
		}
		// Past store.SearchRankWindow hits, the store ranks them window by
		// window, newest first: rank_window tells the client that the
		// order is by score within each window of that many, and by
		// recency between windows.
		if total > store.SearchRankWindow {
			out["rank_window"] = store.SearchRankWindow
		}
	case "aggregate":
		if len(types) > 1 {
			// Several types (the old server counted each): one result per type.
			per := map[string]any{}
			for _, t := range types {
				total, groups, err := d.aggregate(ctx, a, t, args.GroupBy, scope)
				if err != nil {
					return nil, err
				}
				per[string(t)] = map[string]any{"total": total, "counts": groups}
			}
			out["results"] = per
			break
		}
		t := domain.Requirement
		if len(types) == 1 {
			t = types[0]
		}
		total, groups, err := d.aggregate(ctx, a, t, args.GroupBy, scope)
		if err != nil {
			return nil, err
		}
		out["entity_type"], out["total"], out["counts"] = string(t), total, groups
	case "analyze":
		if scope == (atoms.Scope{}) {
			// No scope (the old analyze was global): every project's coverage.
			projects, err := d.analyzeAll(ctx, a)
			if err != nil {
				return nil, err
			}
			out["projects"] = projects
			break
		}
		c, err := d.Service.Analyze(ctx, a, scope)
		if err != nil {
			return nil, err
		}
		out["coverage"] = c
	case "relationships":
		if args.EntityType == "" || args.EntityID == "" {
			return nil, errInvalid("relationships needs entity_type and entity_id (an id or a name) of the entity at the centre")
		}
		g, err := d.Service.Relationships(ctx, a, atoms.EntityRef{Type: domain.EntityType(args.EntityType), ID: args.EntityID}, args.Depth)
		if err != nil {
			return nil, err
		}
		out["graph"] = g
	case "rag_search":
		if args.DocumentID != "" || args.OrganizationID != "" {
			return nil, errInvalid("rag_search is scoped by project_id (or nothing: every project you can see)")
		}
		res, err := d.Service.RAGSearch(ctx, a, atoms.RAGParams{Text: args.SearchTerm, Types: types, ProjectID: args.ProjectID, Mode: args.RAGMode, Limit: args.Limit})
		if err != nil {
			return nil, err
		}
		out["rag"] = res
	case "similarity":
		if args.EntityType == "" || args.EntityID == "" {
			return nil, errInvalid("similarity needs entity_type and entity_id (an id or a name) of the entity to compare with")
		}
		res, err := d.Service.Similar(ctx, a, atoms.EntityRef{Type: domain.EntityType(args.EntityType), ID: args.EntityID}, types, args.Limit)
		if err != nil {
			return nil, err
		}
		out["rag"] = res
	}
	if err := d.compatQuery(ctx, a, out); err != nil {
		return nil, err
	}
	return out, nil
}

// aggregate counts one entity type by the groupBy fields.
func (d Deps) aggregate(ctx context.Context, a *atoms.Actor, t domain.EntityType, groupBy []string, scope atoms.Scope) (int, map[string]any, error) {
	counts, total, err := d.Service.Aggregate(ctx, a, t, groupBy, scope)
	if err != nil {
		return 0, nil, err
	}
	groups := map[string]any{}
	for field, cs := range counts {
		m := map[string]int{}
		for _, c := range cs {
			key := c.Value
			if key == "" {
				key = "(unset)"
			}
			m[key] = c.N
		}
		groups[field] = m
	}
	return total, groups, nil
}

// maxAnalyzedProjects bounds a scope-less analyze.
const maxAnalyzedProjects = 50

// analyzeAll is the coverage of every project the caller can see (the
// newest maxAnalyzedProjects).
func (d Deps) analyzeAll(ctx context.Context, a *atoms.Actor) ([]map[string]any, error) {
	page, err := d.Service.ListEntities(ctx, a, domain.Project, atoms.ListParams{Limit: maxAnalyzedProjects, Desc: true})
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(page.Items))
	for _, p := range page.Items {
		c, err := d.Service.Analyze(ctx, a, atoms.Scope{ProjectID: p.ID})
		if err != nil {
			return nil, err
		}
		out = append(out, map[string]any{"project_id": p.ID, "name": p.Str("name"), "coverage": c})
	}
	return out, nil
}
