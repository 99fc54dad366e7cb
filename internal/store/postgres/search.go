package postgres

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// maxIndexedBytes bounds the words of one entity that go into its
// tsvector (PostgreSQL refuses a tsvector over 1 MB, and a write must not
// fail because a document is long): text past it is stored and shown, but
// not searchable by full text.
const maxIndexedBytes = 256 << 10

// Headline options. The name is shown whole with every match marked; the
// body as up to two excerpts around the matches (its first words when only
// the name matched).
const (
	nameHeadline = `StartSel=**, StopSel=**, HighlightAll=true`
	bodyHeadline = `StartSel=**, StopSel=**, MaxWords=16, MinWords=8, ShortWord=0, MaxFragments=2, FragmentDelimiter=" … "`
)

// indexSQL writes an entity's search index row and queues it for
// embedding, in one statement. Each write takes the next seq (the
// insert by the column's default), which orders the rank windows newest
// first (migrations/0011_search_recency.sql). The tsvector is built from the words the
// store split the text into ($7, $8), which are also what queries are
// split into.
const indexSQL = `WITH indexed AS (
	INSERT INTO search_index (entity_id, entity_type, organization_id, project_id, name, body, document)
	VALUES ($1, $2, $3, $4, $5, $6, setweight(to_tsvector('simple', $7::text), 'A') || setweight(to_tsvector('simple', $8::text), 'B'))
	ON CONFLICT (entity_id) DO UPDATE SET seq = nextval('search_index_seq'), entity_type = excluded.entity_type, organization_id = excluded.organization_id,
		project_id = excluded.project_id, name = excluded.name, body = excluded.body, document = excluded.document
)
INSERT INTO embedding_queue (entity_id, entity_type, enqueued_at) VALUES ($1, $2, $9)
ON CONFLICT (entity_id) DO UPDATE SET enqueued_at = excluded.enqueued_at`

// indexEntity replaces the search index entry of e and queues e for
// embedding; a deleted entity leaves the index instead.
func indexEntity(ctx context.Context, q sqlcore.Querier, t *table, e *domain.Entity) error {
	if e.IsDeleted {
		return unindexEntity(ctx, q, e.ID)
	}
	name, body := t.Kind.SearchText(e)
	_, err := q.Exec(ctx, indexSQL, e.ID, string(e.Type), e.OrganizationID, e.ProjectID(), name, body,
		indexWords(name, maxIndexedBytes), indexWords(body, maxIndexedBytes-len(name)), e.UpdatedAt)
	if err != nil {
		return fmt.Errorf("index %s %q: %w", e.Type, e.ID, mapErr(err))
	}
	return nil
}

// unindexEntity removes an entity's index row.
func unindexEntity(ctx context.Context, q sqlcore.Querier, id string) error {
	if _, err := q.Exec(ctx, `DELETE FROM search_index WHERE entity_id = $1`, id); err != nil {
		return fmt.Errorf("unindex %q: %w", id, err)
	}
	return nil
}

// words splits text into runs of letters and digits, lower-cased: what is
// indexed and what is searched for are split by this one function.
func words(text string) []string {
	ws := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i, w := range ws {
		ws[i] = strings.ToLower(w)
	}
	return ws
}

// indexWords is the words of text separated by spaces, at most max bytes
// of them.
func indexWords(text string, max int) string {
	var b strings.Builder
	for _, w := range words(text) {
		if b.Len()+len(w)+1 > max {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

// tsQuery turns typed words into to_tsquery text that cannot be query
// syntax: each word (letters and digits only, so nothing to escape) is
// quoted and matched as a prefix, and all must occur.
func tsQuery(text string) string {
	ws := words(text)
	quoted := make([]string, 0, len(ws))
	for _, w := range ws {
		quoted = append(quoted, "'"+w+"':*")
	}
	return strings.Join(quoted, " & ")
}

// search is a tsvector match ranked by ts_rank; the headlines are
// computed for the page only. seq is the recency of the rank windows.
func fullText() sqlcore.Search {
	return sqlcore.Search{
		Query: tsQuery,
		From: func(match string) string {
			return ` FROM search_index i, to_tsquery('simple', ` + match + `) AS query WHERE i.document @@ query`
		},
		Page: func(from, limit string) string {
			return `SELECT entity_type, entity_id, organization_id, project_id, score,
					ts_headline('simple', name, query, '` + nameHeadline + `'), ts_headline('simple', body, query, '` + bodyHeadline + `')
				FROM (SELECT i.entity_type, i.entity_id, i.organization_id, i.project_id, i.name, i.body, query,
						ts_rank(i.document, query)::float8 AS score` + from + `
					ORDER BY score DESC, i.entity_id` + limit + `) AS hit
				ORDER BY score DESC, entity_id`
		},
		Recency: "i.seq",
	}
}
