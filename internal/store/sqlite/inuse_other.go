//go:build !linux

package sqlite

// openElsewhere cannot tell on this system whether another process has
// the database open; the caller's documentation asks to stop serve first.
func openElsewhere(string) (bool, error) { return false, nil }
