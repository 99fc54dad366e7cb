package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// LogAttrs returns one group per setting, in a fixed order, each with the
// setting's "value" and its "source", for the start-up log line:
//
//	logger.Info("configuration", cfg.LogAttrsAny()...)
//
// Secrets appear only as "set" or "unset" (the names of static tokens are
// listed, their tokens are not), and a password in the database URL is
// replaced by "xxxxx".
func (c *Config) LogAttrs() []slog.Attr {
	attrs := make([]slog.Attr, 0, len(settings))
	for _, s := range settings {
		attrs = append(attrs, slog.Group(s.key, "value", s.bind.show(c), "source", c.source(s.key)))
	}
	return attrs
}

// LogAttrsAny is LogAttrs in the form slog.Logger.Info accepts.
func (c *Config) LogAttrsAny() []any {
	attrs := c.LogAttrs()
	out := make([]any, len(attrs))
	for i, a := range attrs {
		out[i] = a
	}
	return out
}

// source returns the recorded source of a setting; a Config built by
// hand, without Load, has none.
func (c *Config) source(key string) string {
	if s, ok := c.Sources[key]; ok {
		return s
	}
	return sourceDefault
}

// LogValue implements slog.LogValuer, so that logging a Config, by value
// or by pointer, prints LogAttrs and never a secret.
func (c Config) LogValue() slog.Value { return slog.GroupValue(c.LogAttrs()...) }

// String renders the settings as "{addr=… base_url=… …}" with the same
// redaction as LogAttrs. It has a value receiver so that printing a Config
// value, not only a pointer, cannot show the database password.
func (c Config) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range settings {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s.key)
		b.WriteByte('=')
		b.WriteString(s.bind.show(&c).String())
	}
	b.WriteByte('}')
	return b.String()
}

// MarshalJSON encodes the Config as LogAttrs does ({"addr": {"value":
// …, "source": …}, …}), so that encoding a Config cannot leak the
// database password either.
func (c Config) MarshalJSON() ([]byte, error) {
	m := make(map[string]map[string]any, len(settings))
	for _, s := range settings {
		m[s.key] = map[string]any{"value": s.bind.show(&c).Any(), "source": c.source(s.key)}
	}
	return json.Marshal(m)
}

// GoString makes %#v as safe as %v.
func (c Config) GoString() string { return "config.Config" + c.String() }

// Format implements fmt.Formatter. Without it, verbs that fmt does not
// route through String (%d, for one) would print the fields raw,
// database password included.
func (c Config) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, c.GoString())
	case verb == 'q':
		_, _ = fmt.Fprintf(f, "%q", c.String())
	default:
		_, _ = io.WriteString(f, c.String())
	}
}
