package main

import (
	"errors"
	"log/slog"
	"os"

	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/secretkey"
	"github.com/atomcp/atomcp/internal/store/storeopen"
)

// loadSecretKey returns the key-encryption key that seals the signing
// keys in the database (ATOMCP_SECRET_KEY, ATOMCP_SECRET_KEY_FILE, or the
// file beside a SQLite database, generated on first use) and where it
// came from. A generated file is logged: it must be backed up with the
// database.
func loadSecretKey(cfg *config.Config, logger *slog.Logger) (*secretkey.Key, secretkey.Source, error) {
	dbPath := ""
	if backend, path, err := storeopen.ParseURL(cfg.DatabaseURL); err == nil && backend == storeopen.BackendSQLite {
		dbPath = path
	}
	k, src, err := secretkey.Load(cfg.SecretKey.Reveal(), cfg.SecretKeyFile, dbPath, cfg.AllowInsecureFiles)
	if err != nil {
		return nil, src, err
	}
	if src.Created {
		logger.Warn("generated the secret key that seals the signing keys in the database; back it up with the database (without it no token can be signed or verified)",
			"file", src.File)
	}
	return k, src, nil
}

func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
