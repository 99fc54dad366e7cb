-- The fields of the Atoms data model (the Python server's Supabase
-- tables) that atomcp did not have. All nullable: existing rows have none.

ALTER TABLE organizations ADD COLUMN logo_url TEXT;

ALTER TABLE projects ADD COLUMN visibility TEXT;
ALTER TABLE projects ADD COLUMN tags TEXT;

ALTER TABLE requirements ADD COLUMN level TEXT;
ALTER TABLE requirements ADD COLUMN format TEXT;
ALTER TABLE requirements ADD COLUMN tags TEXT;
ALTER TABLE requirements ADD COLUMN position INTEGER;
ALTER TABLE requirements ADD COLUMN original_requirement TEXT;
ALTER TABLE requirements ADD COLUMN enhanced_requirement TEXT;

ALTER TABLE tests ADD COLUMN test_id TEXT;
ALTER TABLE tests ADD COLUMN test_type TEXT;
ALTER TABLE tests ADD COLUMN method TEXT;
ALTER TABLE tests ADD COLUMN category TEXT;
ALTER TABLE tests ADD COLUMN preconditions TEXT;
ALTER TABLE tests ADD COLUMN test_steps TEXT;
ALTER TABLE tests ADD COLUMN expected_results TEXT;
ALTER TABLE tests ADD COLUMN result TEXT;
ALTER TABLE tests ADD COLUMN test_environment TEXT;
ALTER TABLE tests ADD COLUMN estimated_duration TEXT;
