package sqlite

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// shmDMS is the byte of the -shm file on which every connection to a WAL
// database holds a shared lock while it is open (SQLite's unix VFS,
// UNIX_SHM_DMS).
const shmDMS = 128

// openElsewhere reports whether some connection has the database at path
// open: one holds a lock on its -shm file. An open-file-description lock
// query sees the POSIX locks SQLite takes, in this process too.
func openElsewhere(path string) (bool, error) {
	f, err := os.OpenFile(path+"-shm", os.O_RDWR, 0) // #nosec G304 -- the -shm file of the operator's configured database path, not request input
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // no WAL index: nobody has it open in WAL mode
	}
	if err != nil {
		return false, fmt.Errorf("check whether the database is in use: %w", err)
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: shmDMS, Len: 1}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
		return false, fmt.Errorf("check whether the database is in use: %w", err)
	}
	return lk.Type != unix.F_UNLCK, nil
}
