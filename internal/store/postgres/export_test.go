package postgres

// LatestVersion is the newest schema version this binary knows, for the
// tests.
func LatestVersion() int {
	migs, err := embeddedMigrations()
	if err != nil {
		return 0
	}
	return migs[len(migs)-1].Version
}
