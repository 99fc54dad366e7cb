-- Full-text search ranks its hits in windows, newest first
-- (store.SearchRankWindow): seq orders the index rows by their last write.
-- Every index write takes the next value (an insert by default, the upsert
-- of a changed entity explicitly), so a larger seq is a later write; the
-- order in which concurrent writes commit does not matter, since a search
-- reads one snapshot.
CREATE SEQUENCE search_index_seq;
ALTER TABLE search_index ADD COLUMN seq bigint;

-- The rows already indexed are numbered in the order of their entity's
-- updated_at, then entity id (a row without its entity, which should not
-- exist, last).
UPDATE search_index s SET seq = n.seq
FROM (
    SELECT i.entity_id, row_number() OVER (ORDER BY e.updated_at, i.entity_id) AS seq
    FROM search_index i
    LEFT JOIN (
        SELECT id, updated_at FROM organizations
        UNION ALL SELECT id, updated_at FROM projects
        UNION ALL SELECT id, updated_at FROM documents
        UNION ALL SELECT id, updated_at FROM blocks
        UNION ALL SELECT id, updated_at FROM requirements
        UNION ALL SELECT id, updated_at FROM tests
    ) AS e ON e.id = i.entity_id
) AS n
WHERE s.entity_id = n.entity_id;
SELECT setval('search_index_seq', coalesce(max(seq), 0) + 1, false) FROM search_index;

ALTER TABLE search_index ALTER COLUMN seq SET DEFAULT nextval('search_index_seq');
ALTER TABLE search_index ALTER COLUMN seq SET NOT NULL;
ALTER SEQUENCE search_index_seq OWNED BY search_index.seq;
CREATE UNIQUE INDEX search_index_recency ON search_index (seq);
