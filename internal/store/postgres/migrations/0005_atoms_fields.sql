-- The fields of the Atoms data model (the Python server's Supabase
-- tables) that atomcp did not have. All nullable: existing rows have none.

ALTER TABLE organizations ADD COLUMN logo_url text;

ALTER TABLE projects ADD COLUMN visibility text;
ALTER TABLE projects ADD COLUMN tags jsonb;

ALTER TABLE requirements ADD COLUMN level text;
ALTER TABLE requirements ADD COLUMN format text;
ALTER TABLE requirements ADD COLUMN tags jsonb;
ALTER TABLE requirements ADD COLUMN position bigint;
ALTER TABLE requirements ADD COLUMN original_requirement text;
ALTER TABLE requirements ADD COLUMN enhanced_requirement text;

ALTER TABLE tests ADD COLUMN test_id text;
ALTER TABLE tests ADD COLUMN test_type text;
ALTER TABLE tests ADD COLUMN method text;
ALTER TABLE tests ADD COLUMN category text;
ALTER TABLE tests ADD COLUMN preconditions text;
ALTER TABLE tests ADD COLUMN test_steps jsonb;
ALTER TABLE tests ADD COLUMN expected_results text;
ALTER TABLE tests ADD COLUMN result text;
ALTER TABLE tests ADD COLUMN test_environment text;
ALTER TABLE tests ADD COLUMN estimated_duration text;
