package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// Browser opens the authorization page for the user.
type Browser interface {
	Open(ctx context.Context, url string) error
}

// ErrNoBrowser means no way to open a browser was found; the URL must be
// opened by hand.
var ErrNoBrowser = errors.New("no browser to open")

// SystemBrowser opens a URL the way the platform does: with the commands
// of $BROWSER when it is set (the Unix convention: a colon-separated list,
// each a command line where %s stands for the URL, appended when absent;
// the first that starts wins), else xdg-open (open on macOS, the URL
// handler on Windows).
type SystemBrowser struct {
	// Getenv and GOOS default to os.Getenv and runtime.GOOS (set in tests).
	Getenv func(string) string
	GOOS   string
	// Start starts a command without waiting for it (default: exec).
	Start func(name string, args ...string) error
}

// Open implements [Browser].
func (b SystemBrowser) Open(ctx context.Context, url string) error {
	getenv, goos, start := b.Getenv, b.GOOS, b.Start
	if getenv == nil {
		getenv = os.Getenv
	}
	if goos == "" {
		goos = runtime.GOOS
	}
	if start == nil {
		start = startDetached
	}
	var tried []string
	for _, cmdline := range browserCommands(getenv("BROWSER"), goos, url) {
		if err := start(cmdline[0], cmdline[1:]...); err != nil {
			tried = append(tried, fmt.Sprintf("%s (%v)", cmdline[0], err))
			continue
		}
		return nil
	}
	if len(tried) == 0 {
		return ErrNoBrowser
	}
	return fmt.Errorf("%w: tried %s", ErrNoBrowser, strings.Join(tried, ", "))
}

// browserCommands lists the command lines to try, in order.
func browserCommands(env, goos, url string) [][]string {
	var out [][]string
	for _, entry := range strings.Split(env, string(os.PathListSeparator)) {
		fields := strings.Fields(entry)
		if len(fields) == 0 {
			continue
		}
		replaced := false
		for i, f := range fields {
			if strings.Contains(f, "%s") {
				fields[i] = strings.ReplaceAll(f, "%s", url)
				replaced = true
			}
		}
		if !replaced {
			fields = append(fields, url)
		}
		out = append(out, fields)
	}
	if len(out) > 0 {
		return out
	}
	switch goos {
	case "darwin":
		return [][]string{{"open", url}}
	case "windows":
		return [][]string{{"rundll32", "url.dll,FileProtocolHandler", url}}
	default:
		return [][]string{{"xdg-open", url}, {"x-www-browser", url}}
	}
}

func startDetached(name string, args ...string) error {
	path, err := exec.LookPath(name)
	if err != nil {
		return err
	}
	cmd := exec.Command(path, args...) // #nosec G204 -- the platform's URL opener (or $BROWSER) with the authorization URL as one argument; no shell
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() // reap it; a browser may outlive the login
	return nil
}
