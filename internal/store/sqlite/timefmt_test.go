package sqlite

import (
	"math/rand/v2"
	"testing"
	"time"
)

// checkStoredTime holds parseStoredTime to time.Parse on s: whatever the
// fast path takes, time.Parse takes and reads the same, and decodeTime
// answers as time.Parse does.
func checkStoredTime(t *testing.T, s string) (fast bool) {
	t.Helper()
	got, ok := parseStoredTime(s)
	want, err := time.Parse(timeLayout, s)
	if ok && (err != nil || got != want) {
		t.Fatalf("parseStoredTime(%q) = %v; time.Parse = %v, %v", s, got, want, err)
	}
	dec, decErr := decodeTime(s)
	if (decErr == nil) != (err == nil) || (err == nil && dec != want) {
		t.Fatalf("decodeTime(%q) = %v, %v; time.Parse = %v, %v", s, dec, decErr, want, err)
	}
	return ok
}

// TestStoredTimeAgreesWithTimeParse: every timestamp encodeTime writes
// takes the fast path and reads back as time.Parse reads it, and the
// near misses (out of range, leap days, other separators) leave it for
// time.Parse to judge.
func TestStoredTimeAgreesWithTimeParse(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		at := time.Date(r.IntN(10000), time.Month(1+r.IntN(12)), 1+r.IntN(31), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1e9), time.UTC)
		s := encodeTime(at)
		if !checkStoredTime(t, s) {
			t.Fatalf("%q, as encodeTime writes it, missed the fast path", s)
		}
		if got, _ := decodeTime(s); got != at {
			t.Fatalf("decodeTime(encodeTime(%v)) = %v", at, got)
		}
	}
	for _, tc := range []struct {
		s    string
		fast bool
	}{
		{"2024-02-29T23:59:59.999999999Z", true},
		{"2000-02-29T00:00:00.000000000Z", true},
		{"0000-01-01T00:00:00.000000000Z", true},
		{"9999-12-31T23:59:59.999999999Z", true},
		{"2100-02-29T00:00:00.000000000Z", false}, // not a leap year: an error
		{"2023-04-31T00:00:00.000000000Z", false},
		{"2023-00-10T00:00:00.000000000Z", false},
		{"2023-13-10T00:00:00.000000000Z", false},
		{"2023-01-00T00:00:00.000000000Z", false},
		{"2023-01-10T24:00:00.000000000Z", false},
		{"2023-01-10T00:60:00.000000000Z", false},
		{"2023-01-10T00:00:60.000000000Z", false},
		{"2023-01-10T00:00:00,000000000Z", false}, // time.Parse takes a comma
		{"2023-01-10T00:00:00.00000000Z", false},
		{"2023-01-10T00:00:00.0000000000Z", false},
		{"2023-01-10 00:00:00.000000000Z", false},
		{"2023-01-10T00:00:00.000000000z", false},
		{"+023-01-10T00:00:00.000000000Z", false},
		{"2023-01-10T0:00:00.0000000000Z", false},
		{"2023-01-1٠T00:00:00.00000000Z", false},
		{"2025-03-14T15:09:26.535897Z", false}, // RFC 3339 with fewer digits
		{"", false},
	} {
		if got := checkStoredTime(t, tc.s); got != tc.fast {
			t.Errorf("parseStoredTime(%q) took it: %v; want %v", tc.s, got, tc.fast)
		}
	}
}

// FuzzStoredTime: on any text, parseStoredTime agrees with time.Parse
// where it answers, and decodeTime with time.Parse always.
func FuzzStoredTime(f *testing.F) {
	for _, s := range []string{"2024-02-29T23:59:59.999999999Z", "2100-02-29T00:00:00.000000000Z", "2023-01-10T00:00:00,000000000Z", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkStoredTime(t, s) })
}

func BenchmarkDecodeTime(b *testing.B) {
	s := encodeTime(time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC))
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodeTime(s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("time.Parse", func(b *testing.B) {
		for b.Loop() {
			if _, err := time.Parse(timeLayout, s); err != nil {
				b.Fatal(err)
			}
		}
	})
}
