package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// redacted is what a set Secret prints as, wherever it is printed.
const redacted = "[redacted]"

// Secret is a configuration value that must never be printed or logged: an
// API key or a bearer token. Every way of formatting it (fmt verbs, JSON,
// slog) yields "[redacted]", or "" when it is empty, so that a Config can
// be dumped while debugging without leaking anything. Reveal returns the
// value for the one place that needs it.
type Secret string

// Reveal returns the secret value itself. Call it only where the value is
// used (comparing a bearer token, calling an API), never to print it.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

// String returns "[redacted]", or "" when the secret is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// Format implements fmt.Formatter so that no verb (%x, %q, %d …) can reach
// the underlying string: without it, %x of a Secret would still go through
// String, but a future change to fmt's rules should not become a leak.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, s.GoString())
	case verb == 'q':
		_, _ = fmt.Fprintf(f, "%q", s.String())
	default:
		_, _ = io.WriteString(f, s.String())
	}
}

// MarshalJSON encodes the secret as "[redacted]" (or "").
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText is used by encoders that prefer text (slog's text handler,
// map keys); it redacts too.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
