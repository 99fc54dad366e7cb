package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// dotenvEntry is one assignment read from a .env file.
type dotenvEntry struct {
	value string
	line  int // 1-based line on which the assignment starts
}

// readDotenv reads and parses the .env file at path. A missing file is not
// an error (zero configuration must work) and yields no entries; a file
// that exists but cannot be read or parsed is.
func readDotenv(path string) (map[string]dotenvEntry, error) {
	data, err := os.ReadFile(path) // #nosec G304 -- the .env file of the working directory, or the one the operator names
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read .env file: %w", err)
	}
	return parseDotenv(path, string(data))
}

// parseDotenv parses the contents of a .env file; name is the file name
// used in error messages. It accepts what python-dotenv accepts in
// practice, so that the .env of the Python server keeps working:
//
//	KEY=value                 unquoted; surrounding spaces are trimmed
//	export KEY=value          the "export " prefix is ignored
//	KEY = value               spaces around "=" are allowed
//	KEY=value # comment       " #" (space or tab, then #) starts a comment
//	KEY='literal'             single quotes: no escapes, may span lines
//	KEY="a\nb \"q\" \\"       double quotes: \n \r \t \" \\ escapes, may span lines
//	# comment, blank lines    ignored
//
// There is deliberately no variable expansion: "${HOME}" stays as written.
// Expansion would make the value depend on the environment of whoever
// starts the server, and a secret containing "$" would be silently mangled.
// A later assignment to the same key replaces an earlier one.
//
// Errors name the file and line but never quote the line, which may hold a
// secret.
func parseDotenv(name, data string) (map[string]dotenvEntry, error) {
	data = strings.TrimPrefix(data, "\uFEFF") // editors on Windows add a BOM
	lines := strings.Split(data, "\n")
	out := make(map[string]dotenvEntry)
	for n := 0; n < len(lines); n++ {
		lineNo := n + 1
		text := strings.TrimLeft(strings.TrimSuffix(lines[n], "\r"), " \t")
		if text == "" || text[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(text, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			text = strings.TrimLeft(rest, " \t")
		}
		eq := strings.IndexByte(text, '=')
		if eq < 0 {
			return nil, fmt.Errorf("%s:%d: not a KEY=VALUE line", name, lineNo)
		}
		key := strings.TrimRight(text[:eq], " \t")
		if !validDotenvKey(key) {
			return nil, fmt.Errorf("%s:%d: invalid variable name; accepted: letters, digits, _ . - (not starting with a digit)", name, lineNo)
		}
		raw := text[eq+1:]
		val := strings.TrimLeft(raw, " \t")
		if val != "" && (val[0] == '\'' || val[0] == '"') {
			quote := val[0]
			body := val[1:]
			end := closingQuote(body, quote)
			// A quoted value continues on the next lines until its
			// closing quote, as in python-dotenv (PEM keys, for example).
			for end < 0 {
				if n+1 >= len(lines) {
					return nil, fmt.Errorf("%s:%d: %s has no closing %c quote", name, lineNo, key, quote)
				}
				n++
				body += "\n" + strings.TrimSuffix(lines[n], "\r")
				end = closingQuote(body, quote)
			}
			after := strings.TrimLeft(body[end+1:], " \t")
			if after != "" && after[0] != '#' {
				return nil, fmt.Errorf("%s:%d: %s has text after its closing quote; accepted: a comment starting with #", name, lineNo, key)
			}
			val = body[:end]
			if quote == '"' {
				val = unescapeDouble(val)
			}
		} else {
			// A "#" is a comment only after a space or tab, so that
			// URLs with fragments and tokens containing "#" survive.
			if i := inlineComment(raw); i >= 0 {
				raw = raw[:i]
			}
			val = strings.Trim(raw, " \t")
		}
		out[key] = dotenvEntry{value: val, line: lineNo}
	}
	return out, nil
}

// validDotenvKey reports whether k is an acceptable variable name.
func validDotenvKey(k string) bool {
	if k == "" || (k[0] >= '0' && k[0] <= '9') {
		return false
	}
	for _, r := range k {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
		default:
			return false
		}
	}
	return true
}

// closingQuote returns the index in s of the quote that closes a value
// opened with quote, or -1. Inside double quotes a backslash escapes the
// next character.
func closingQuote(s string, quote byte) int {
	for i := 0; i < len(s); i++ {
		switch {
		case quote == '"' && s[i] == '\\':
			i++
		case s[i] == quote:
			return i
		}
	}
	return -1
}

// unescapeDouble resolves the escapes of a double-quoted value. A backslash
// before any other character is kept as written, as python-dotenv does.
func unescapeDouble(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '"', '\\':
			b.WriteByte(s[i])
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// inlineComment returns the index of the whitespace that starts a " #"
// comment in an unquoted value, or -1. A value that is only a comment
// ("KEY= # note") is empty.
func inlineComment(s string) int {
	for i := 0; i < len(s); i++ {
		if (s[i] == ' ' || s[i] == '\t') && i+1 < len(s) {
			j := i
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			if j < len(s) && s[j] == '#' {
				return i
			}
			i = j - 1
		}
	}
	return -1
}
