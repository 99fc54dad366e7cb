package sqlcore

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
)

// Migration is one schema version, read from migrations/NNNN_name.sql.
// The SQL (DDL) is each backend's own; how the files are named and ordered
// is shared.
type Migration struct {
	Version int
	Name    string // file name, for messages
	SQL     string
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// LoadMigrations reads the *.sql files at the top of fsys, ordered by
// version.
func LoadMigrations(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var migs []Migration
	seen := map[int]string{}
	for _, ent := range entries {
		if ent.IsDir() || path.Ext(ent.Name()) != ".sql" {
			continue
		}
		m := migrationName.FindStringSubmatch(ent.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q is not named NNNN_name.sql", ent.Name())
		}
		version, _ := strconv.Atoi(m[1]) // four digits: cannot fail
		if version == 0 {
			return nil, fmt.Errorf("migration file %q: versions start at 0001", ent.Name())
		}
		if other, ok := seen[version]; ok {
			return nil, fmt.Errorf("migration files %q and %q have the same version", other, ent.Name())
		}
		seen[version] = ent.Name()
		data, err := fs.ReadFile(fsys, ent.Name())
		if err != nil {
			return nil, err
		}
		migs = append(migs, Migration{Version: version, Name: ent.Name(), SQL: string(data)})
	}
	if len(migs) == 0 {
		return nil, fmt.Errorf("no migration files")
	}
	sort.Slice(migs, func(i, j int) bool { return migs[i].Version < migs[j].Version })
	return migs, nil
}
