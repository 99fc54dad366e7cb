package authserver

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// argonParams are argon2id's cost parameters.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

// defaultArgon follows OWASP's argon2id recommendation (19 MiB, two
// passes, one lane): about 30 ms here, enough to make guessing expensive
// without letting a burst of logins exhaust memory.
var defaultArgon = argonParams{memory: 19 * 1024, time: 2, threads: 1}

const (
	argonSaltLen = 16
	argonKeyLen  = 32
	// MinPasswordLength and MaxPasswordLength bound accepted passwords;
	// the maximum keeps a hash from being made to cost arbitrarily much.
	MinPasswordLength = 8
	MaxPasswordLength = 1024
)

// CheckPassword says why a new password is not acceptable.
func CheckPassword(pw string) error {
	switch n := utf8.RuneCountInString(pw); {
	case n < MinPasswordLength:
		return fmt.Errorf("the password is too short: use at least %d characters", MinPasswordLength)
	case len(pw) > MaxPasswordLength:
		return fmt.Errorf("the password is too long: use at most %d bytes", MaxPasswordLength)
	}
	return nil
}

// hashPassword returns the argon2id hash of pw in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash), which records its parameters
// so that they can be raised later without breaking stored hashes.
func hashPassword(pw string, p argonParams) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// verifyPassword reports whether pw matches the hash, comparing in
// constant time.
func verifyPassword(pw, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("stored password hash is not argon2id")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, fmt.Errorf("stored password hash has unsupported version %q", parts[2])
	}
	var p argonParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return false, fmt.Errorf("stored password hash has bad parameters: %w", err)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("stored password hash has a bad salt: %w", err)
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errors.New("stored password hash has a bad key")
	}
	got := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, uint32(len(want))) // #nosec G115 -- want is a decoded hash of at most a few dozen bytes
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
