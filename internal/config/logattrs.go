package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
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
		attrs = append(attrs, slog.Group(s.key, "value", c.logValue(s.key), "source", c.source(s.key)))
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

// logValue is the printable value of one setting.
func (c *Config) logValue(key string) slog.Value {
	switch key {
	case KeyAddr:
		return slog.StringValue(c.Addr)
	case KeyBaseURL:
		return slog.StringValue(c.BaseURL)
	case KeyMCPPath:
		return slog.StringValue(c.MCPPath)
	case KeyDatabaseURL:
		return slog.StringValue(redactDatabaseURL(c.DatabaseURL))
	case KeyAuth:
		return slog.StringValue(c.Auth)
	case KeyAuthKitDomain:
		return slog.StringValue(c.AuthKitDomain)
	case KeyOIDCIssuer:
		return slog.StringValue(c.OIDCIssuer)
	case KeyAudience:
		return slog.StringValue(c.Audience)
	case KeyAlgorithms:
		return slog.StringValue(strings.Join(c.Algorithms, ","))
	case KeyRequiredScopes:
		return slog.StringValue(strings.Join(c.RequiredScopes, ","))
	case KeyScopeRead:
		return slog.StringValue(c.ScopeRead)
	case KeyScopeWrite:
		return slog.StringValue(c.ScopeWrite)
	case KeyWorkOSClientID:
		return slog.StringValue(c.WorkOSClientID)
	case KeyWorkOSAPIKey:
		return setOrUnset(c.WorkOSAPIKey != "")
	case KeyInternalToken:
		return setOrUnset(c.InternalToken != "")
	case KeyStaticTokens:
		if len(c.StaticTokens) == 0 {
			return setOrUnset(false)
		}
		names := make([]string, 0, len(c.StaticTokens))
		for n := range c.StaticTokens {
			names = append(names, n)
		}
		sort.Strings(names)
		return slog.StringValue("set (" + strings.Join(names, ",") + ")")
	case KeyLogLevel:
		return slog.StringValue(levelName(c.LogLevel))
	case KeyLogFormat:
		return slog.StringValue(c.LogFormat)
	case KeyStateless:
		return slog.BoolValue(c.Stateless)
	case KeyMaxBodyBytes:
		return slog.Int64Value(c.MaxBodyBytes)
	case KeyAllowedHosts:
		return slog.StringValue(strings.Join(c.AllowedHosts, ","))
	case KeyAllowedOrigins:
		return slog.StringValue(strings.Join(c.AllowedOrigins, ","))
	case KeyTrustedProxies:
		ps := make([]string, len(c.TrustedProxies))
		for i, p := range c.TrustedProxies {
			ps[i] = p.String()
		}
		return slog.StringValue(strings.Join(ps, ","))
	case KeyAllowUnauthenticatedRemote:
		return slog.BoolValue(c.AllowUnauthenticatedRemote)
	case KeyShutdownTimeout:
		// Durations as text: the JSON handler would print nanoseconds.
		return slog.StringValue(c.ShutdownTimeout.String())
	case KeySessionTimeout:
		return slog.StringValue(c.SessionTimeout.String())
	case KeyAccessTokenTTL:
		return slog.StringValue(c.AccessTokenTTL.String())
	case KeyRefreshTokenTTL:
		return slog.StringValue(c.RefreshTokenTTL.String())
	case KeyCIMDAllowPrivate:
		return slog.BoolValue(c.CIMDAllowPrivate)
	case KeyEmbeddingsURL:
		return slog.StringValue(c.EmbeddingsURL)
	case KeyEmbeddingsModel:
		return slog.StringValue(c.EmbeddingsModel)
	case KeyEmbeddingsAPIKey:
		return setOrUnset(c.EmbeddingsAPIKey != "")
	}
	panic("config: no log value for setting " + key)
}

func setOrUnset(set bool) slog.Value {
	if set {
		return slog.StringValue("set")
	}
	return slog.StringValue("unset")
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
		b.WriteString(c.logValue(s.key).String())
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
		m[s.key] = map[string]any{"value": c.logValue(s.key).Any(), "source": c.source(s.key)}
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
