package config

import (
	"strings"
	"testing"
)

// FuzzDotenvLinesAndSecrets: parsing never panics, is deterministic, gives every
// entry a line of the file and a valid key, and its errors never quote the
// file's values (which may be secrets).
func FuzzDotenvLinesAndSecrets(f *testing.F) {
	for _, seed := range []string{
		"ATOMCP_ADDR=0.0.0.0:8000\n# comment\nexport WORKOS_API_KEY='sk_$ecret'\n",
		"A=\"multi\nline\"\nB=x # inline\r\n",
		"\uFEFFKEY=\"unterminated\nMORE=1",
		"=novalue\nBAD KEY=1\nOK=\"esc\\\"aped\\n\"",
		"TOKEN=supersecretvalue123 trailing\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		got, err := parseDotenv(".env", data)
		again, err2 := parseDotenv(".env", data)
		if (err == nil) != (err2 == nil) || len(got) != len(again) {
			t.Fatal("parsing is not deterministic")
		}
		if err != nil {
			msg := err.Error()
			if strings.Contains(data, "supersecretvalue123") && strings.Contains(msg, "supersecretvalue123") {
				t.Fatalf("the error quotes a value: %s", msg)
			}
			return
		}
		lines := strings.Count(data, "\n") + 1
		for k, e := range got {
			if !validDotenvKey(k) {
				t.Fatalf("invalid key %q accepted", k)
			}
			if e.line < 1 || e.line > lines {
				t.Fatalf("%s on line %d of %d", k, e.line, lines)
			}
		}
	})
}
