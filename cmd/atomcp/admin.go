package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/store"
)

// adminCmd is a leaf administration command: it reads the configuration
// (for the database URL) and runs fn on the migrated store.
func adminCmd(use, short string, args cobra.PositionalArgs, fn func(cmd *cobra.Command, st store.Store, args []string) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, logger, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			st, err := openStore(cmd.Context(), cfg, quietLogger(logger))
			if err != nil {
				return err
			}
			defer st.Close()
			return fn(cmd, st, args)
		},
	}
	config.BindFlagsFor(cmd.Flags(), storeSettings...)
	return cmd
}

// quietLogger keeps administration output to the command's own lines:
// only warnings and errors of the store are shown.
func quietLogger(l *slog.Logger) *slog.Logger {
	return slog.New(levelFilter{l.Handler(), slog.LevelWarn})
}

type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

// readSecretLine reads a password from the first line of r. From a
// terminal it prompts first; the input is visible there, so piping it in
// is better (`printf '%s\n' "$PW" | atomcp users add …`).
func readSecretLine(cmd *cobra.Command, prompt string) (string, error) {
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok && isTerminal(f) {
		fmt.Fprint(cmd.ErrOrStderr(), prompt+" (shown as you type; pipe it in to hide it): ")
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password given on standard input; pipe one in, or use --generate-password")
	}
	return line, nil
}
