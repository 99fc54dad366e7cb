package sqlcore_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

func TestLoadMigrations(t *testing.T) {
	file := func(sql string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(sql)} }
	tests := []struct {
		name     string
		fsys     fstest.MapFS
		versions []int
		err      string
	}{
		{"ordered by version", fstest.MapFS{"0002_b.sql": file("b"), "0001_a.sql": file("a"), "README.md": file("")}, []int{1, 2}, ""},
		{"bad name", fstest.MapFS{"1_a.sql": file("a")}, nil, "NNNN_name.sql"},
		{"duplicate version", fstest.MapFS{"0001_a.sql": file("a"), "0001_b.sql": file("b")}, nil, "same version"},
		{"zero version", fstest.MapFS{"0000_a.sql": file("a")}, nil, "0001"},
		{"none", fstest.MapFS{}, nil, "no migration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			migs, err := sqlcore.LoadMigrations(tc.fsys)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v; want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var versions []int
			for _, m := range migs {
				versions = append(versions, m.Version)
			}
			if len(versions) != len(tc.versions) || versions[0] != tc.versions[0] || versions[1] != tc.versions[1] {
				t.Errorf("versions = %v; want %v", versions, tc.versions)
			}
		})
	}
}
