package main

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/authserver"
	"github.com/atomcp/atomcp/internal/secretkey"
	"github.com/atomcp/atomcp/internal/store"
)

// newKeysCmd is `atomcp keys`: the signing keys of the embedded
// authorization server.
func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the signing keys of the embedded authorization server",
	}
	var kek bool
	rotate := adminCmd("rotate [--kek]", "Generate a new signing key (the old one keeps verifying until its tokens expire), or with --kek a new secret key that seals them", cobra.NoArgs,
		func(cmd *cobra.Command, st store.Store, _ []string) error {
			cfg, _, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			// A generated key file is reported after the result line.
			current, src, err := loadSecretKey(cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				return err
			}
			if kek {
				return rotateSecretKey(cmd, st, current, src)
			}
			kid, err := authserver.RotateKeys(cmd.Context(), st, current, authserver.KeyRetention(cfg.AccessTokenTTL), time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "new signing key %s; a running server signs with it within a minute\n", kid)
			if src.Created {
				fmt.Fprintf(cmd.OutOrStdout(), "generated the secret key that seals it in %s: back that file up with the database\n", src.File)
			}
			return nil
		})
	rotate.Flags().BoolVar(&kek, "kek", false, "replace the secret key (key-encryption key) and re-seal every signing key under the new one")
	cmd.AddCommand(rotate)
	return cmd
}

// rotateSecretKey re-seals every signing key under a new key-encryption
// key. The new key is written beside the old file first (file.new), the
// database is changed in one transaction, then the file is renamed over
// the old one: a failure at any step leaves a key that opens what the
// database holds. A key given in ATOMCP_SECRET_KEY is printed instead,
// for the operator to put in its place.
func rotateSecretKey(cmd *cobra.Command, st store.Store, current *secretkey.Key, src secretkey.Source) error {
	next, text, err := secretkey.Generate()
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if src.File == "" {
		if err := authserver.ResealKeys(cmd.Context(), st, current, next, false); err != nil {
			return err
		}
		fmt.Fprintf(out, "re-sealed the signing keys under a new secret key; set ATOMCP_SECRET_KEY to it and restart every server:\n%s\n", text)
		return nil
	}
	pending := src.File + ".new"
	if err := secretkey.ReplaceFile(pending, text); err != nil {
		return err
	}
	if err := authserver.ResealKeys(cmd.Context(), st, current, next, false); err != nil {
		return errors.Join(err, removeFile(pending))
	}
	if err := secretkey.ReplaceFile(src.File, text); err != nil {
		return fmt.Errorf("the database is sealed under the key in %s, but it could not replace %s: %w", pending, src.File, err)
	}
	_ = removeFile(pending)
	fmt.Fprintf(out, "re-sealed the signing keys under a new secret key in %s; restart every server, and back the file up with the database\n", src.File)
	return nil
}
