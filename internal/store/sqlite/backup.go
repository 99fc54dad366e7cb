package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// BackupInfo describes a verified backup file.
type BackupInfo struct {
	Path          string
	Bytes         int64
	SchemaVersion int // the newest migration the backup has
}

// ErrInUse is returned, wrapped, by Restore when a process (a running
// atomcp serve) has the database open.
var ErrInUse = errors.New("the database is open in another process")

// Backup writes a consistent copy of the database at path to dst with
// VACUUM INTO, which reads one snapshot while other connections keep
// writing (WAL): the copy has every transaction committed before it
// started. dst must not exist; it is created mode 0600 (it holds what the
// database holds: password and token hashes, sealed keys) and verified
// before Backup returns.
func Backup(ctx context.Context, path, dst string) (BackupInfo, error) {
	abs, err := checkPath(path)
	if err != nil {
		return BackupInfo{}, err
	}
	if _, err := os.Stat(abs); err != nil {
		return BackupInfo{}, fmt.Errorf("no database to back up at %s: %w", abs, err)
	}
	dstAbs, err := filepath.Abs(dst)
	if err != nil {
		return BackupInfo{}, err
	}
	if dstAbs == abs {
		return BackupInfo{}, fmt.Errorf("the backup file %s is the database itself; name another file", dstAbs)
	}
	// An empty file may receive VACUUM INTO; creating it here makes it
	// 0600 whatever the umask, and refuses to overwrite anything.
	f, err := os.OpenFile(dstAbs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- the operator's own backup file argument of `atomcp db backup`; O_EXCL, never overwrites
	if errors.Is(err, os.ErrExist) {
		return BackupInfo{}, fmt.Errorf("the backup file %s exists already; name a new file (a backup never overwrites one)", dstAbs)
	}
	if err != nil {
		return BackupInfo{}, fmt.Errorf("create the backup file: %w", err)
	}
	if err := errors.Join(f.Chmod(0o600), f.Close()); err != nil {
		return BackupInfo{}, fmt.Errorf("create the backup file: %w", err)
	}
	fail := func(err error) (BackupInfo, error) {
		_ = os.Remove(dstAbs)
		return BackupInfo{}, err
	}
	db, err := openRaw(abs, false)
	if err != nil {
		return fail(err)
	}
	_, err = db.ExecContext(ctx, `VACUUM INTO ?`, dstAbs)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(fmt.Errorf("back up %s: %w", abs, err))
	}
	if err := syncFile(dstAbs); err != nil {
		return fail(err)
	}
	info, err := VerifyBackup(ctx, dstAbs)
	if err != nil {
		return fail(fmt.Errorf("the backup just written does not verify: %w", err))
	}
	return info, nil
}

// VerifyBackup checks that the file is an intact atomcp SQLite database
// (PRAGMA integrity_check) whose schema this atomcp can run (migrated
// at most to its newest version; older ones are migrated at start-up).
func VerifyBackup(ctx context.Context, file string) (BackupInfo, error) {
	st, err := os.Stat(file)
	if err != nil {
		return BackupInfo{}, err
	}
	db, err := openRaw(file, true)
	if err != nil {
		return BackupInfo{}, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("%s is not a SQLite database: %w", file, err)
	}
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return BackupInfo{}, err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return BackupInfo{}, fmt.Errorf("integrity check of %s: %w", file, err)
	}
	if len(problems) > 0 {
		if len(problems) > 5 {
			problems = append(problems[:5], "…")
		}
		return BackupInfo{}, fmt.Errorf("%s fails the integrity check: %s", file, strings.Join(problems, "; "))
	}
	var version sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&version); err != nil || !version.Valid {
		return BackupInfo{}, fmt.Errorf("%s is not an atomcp database (no schema_migrations)", file)
	}
	if latest := latestVersion(); int(version.Int64) > latest {
		return BackupInfo{}, fmt.Errorf("%w: %s has schema version %d but this atomcp knows versions up to %d; restore it with a newer atomcp",
			sqlcore.ErrNewerSchema, file, version.Int64, latest)
	}
	return BackupInfo{Path: file, Bytes: st.Size(), SchemaVersion: int(version.Int64)}, nil
}

// RestoreInfo says what Restore did.
type RestoreInfo struct {
	BackupInfo
	// Previous is where the database that was replaced now is ("" when
	// there was none).
	Previous string
}

// Restore replaces the database at path with a verified copy of the
// backup file. It refuses while another process has the database open
// (ErrInUse). The database it replaces is checkpointed and kept as
// path.before-restore (or path.before-restore-TIME when that exists).
func Restore(ctx context.Context, backup, path string) (RestoreInfo, error) {
	abs, err := checkPath(path)
	if err != nil {
		return RestoreInfo{}, err
	}
	info, err := VerifyBackup(ctx, backup)
	if err != nil {
		return RestoreInfo{}, fmt.Errorf("the backup is not restorable: %w", err)
	}
	if inUse, err := openElsewhere(abs); err != nil {
		return RestoreInfo{}, err
	} else if inUse {
		return RestoreInfo{}, fmt.Errorf("%w: %s; stop atomcp serve (and any other atomcp using it) before restoring", ErrInUse, abs)
	}

	// Copy first, next to the database, so that the switch is a rename.
	tmp := abs + ".restoring"
	if err := copyPrivate(backup, tmp); err != nil {
		return RestoreInfo{}, err
	}
	out := RestoreInfo{BackupInfo: info}
	if _, err := os.Stat(abs); err == nil {
		// Fold the WAL into the old file so that it stands alone.
		db, err := openRaw(abs, false)
		if err == nil {
			_, err = db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
			err = errors.Join(err, db.Close())
		}
		if err != nil {
			_ = os.Remove(tmp)
			return RestoreInfo{}, fmt.Errorf("checkpoint the database being replaced: %w", err)
		}
		out.Previous = abs + ".before-restore"
		if _, err := os.Stat(out.Previous); err == nil {
			out.Previous += "-" + time.Now().UTC().Format("20060102T150405Z")
		}
		if err := os.Rename(abs, out.Previous); err != nil {
			_ = os.Remove(tmp)
			return RestoreInfo{}, fmt.Errorf("keep the old database: %w", err)
		}
	}
	// A WAL left beside the path belongs to another database file: SQLite
	// would replay it onto the restored one.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(abs + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			_ = os.Remove(tmp)
			return RestoreInfo{}, fmt.Errorf("remove the old database's %s file: %w", suffix, err)
		}
	}
	if err := os.Rename(tmp, abs); err != nil {
		return RestoreInfo{}, fmt.Errorf("put the restored database in place: %w", err)
	}
	if err := syncDir(filepath.Dir(abs)); err != nil {
		return RestoreInfo{}, err
	}
	out.Path = abs
	return out, nil
}

// openRaw opens a database file without the Store's pools.
func openRaw(path string, readOnly bool) (*sql.DB, error) {
	drv, err := newDriver()
	if err != nil {
		return nil, err
	}
	d := dsn(path, true)
	if readOnly {
		d = (&url.URL{Scheme: "file", Path: path, RawQuery: "mode=ro&_pragma=busy_timeout(5000)"}).String()
	}
	db := sql.OpenDB(connector{driver: drv, dsn: d})
	db.SetMaxOpenConns(1)
	return db, nil
}

func latestVersion() int {
	migs, err := sqlcore.EmbeddedMigrations(migrationFiles)
	if err != nil || len(migs) == 0 {
		return 0
	}
	return migs[len(migs)-1].Version
}

// copyPrivate copies src to a new file dst, mode 0600, synced.
func copyPrivate(src, dst string) error {
	in, err := os.Open(src) // #nosec G304 -- the operator's backup file argument of `atomcp db restore`, verified by VerifyBackup first
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // #nosec G304 -- the operator's configured database path + ".restoring", not request input
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	err = errors.Join(err, out.Chmod(0o600), out.Sync(), out.Close())
	if err != nil {
		_ = os.Remove(dst)
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0) // #nosec G304 -- the backup file Backup has just written, at the operator's own path
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

func syncDir(dir string) error {
	d, err := os.Open(dir) // #nosec G304 -- the directory of the operator's configured database path
	if err != nil {
		return err
	}
	// Some file systems cannot sync a directory; the rename is done anyway.
	_ = d.Sync()
	return d.Close()
}
