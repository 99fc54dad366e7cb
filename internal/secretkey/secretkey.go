// Package secretkey seals secrets stored in the database (the signing
// keys of the embedded authorization server) with a key-encryption key
// (KEK) that lives outside it, so that a copy of the database alone does
// not reveal them.
package secretkey

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Size is the length of a KEK: AES-256.
const Size = 32

// prefix starts every sealed value. It names the format version so that a
// later format can be told apart, and it cannot start PKCS #8 DER (0x30),
// the plaintext older databases hold.
var prefix = []byte("atomcp-kek1:")

// idLen is how many bytes of the SHA-256 of the KEK a sealed value
// carries, so that opening it with another KEK says so instead of a bare
// authentication failure.
const idLen = 8

// Key is a key-encryption key. It is safe for concurrent use.
type Key struct {
	aead cipher.AEAD
	id   [idLen]byte
}

// New returns the KEK of raw, which must be Size bytes.
func New(raw []byte) (*Key, error) {
	if len(raw) != Size {
		return nil, fmt.Errorf("the secret key is %d bytes; want %d (the base64 of 32 random bytes: `openssl rand -base64 32`)", len(raw), Size)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	k := &Key{aead: aead}
	sum := sha256.Sum256(raw)
	copy(k.id[:], sum[:idLen])
	return k, nil
}

// Parse returns the KEK that text encodes in standard (or URL-safe)
// base64, padded or not.
func Parse(text string) (*Key, error) {
	text = strings.TrimSpace(text)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(text); err == nil {
			return New(raw)
		}
	}
	return nil, errors.New("the secret key is not base64; want the base64 of 32 random bytes (`openssl rand -base64 32`)")
}

// Generate returns a new random KEK and its base64 text.
func Generate() (*Key, string, error) {
	raw := make([]byte, Size)
	if _, err := rand.Read(raw); err != nil {
		return nil, "", fmt.Errorf("generate a secret key: %w", err)
	}
	k, err := New(raw)
	if err != nil {
		return nil, "", err
	}
	return k, base64.StdEncoding.EncodeToString(raw), nil
}

// IsSealed reports whether b is a value Seal made (as opposed to a
// plaintext one stored by an older atomcp).
func IsSealed(b []byte) bool { return bytes.HasPrefix(b, prefix) }

// Seal encrypts plaintext with AES-256-GCM. aad (the row's id) is
// authenticated but not stored: a sealed value copied to another row does
// not open.
func (k *Key) Seal(plaintext, aad []byte) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("secretkey: crypto/rand failed: " + err.Error()) // rand.Read does not fail on supported platforms
	}
	out := make([]byte, 0, len(prefix)+idLen+len(nonce)+len(plaintext)+k.aead.Overhead())
	out = append(out, prefix...)
	out = append(out, k.id[:]...)
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, aad)
}

// ErrWrongKey is returned by Open for a value sealed with another KEK.
var ErrWrongKey = errors.New("sealed with another secret key (ATOMCP_SECRET_KEY / ATOMCP_SECRET_KEY_FILE)")

// Open decrypts a value Seal made with the same aad.
func (k *Key) Open(sealed, aad []byte) ([]byte, error) {
	if !IsSealed(sealed) {
		return nil, errors.New("not a sealed value")
	}
	rest := sealed[len(prefix):]
	ns := k.aead.NonceSize()
	if len(rest) < idLen+ns+k.aead.Overhead() {
		return nil, errors.New("sealed value is truncated")
	}
	if !bytes.Equal(rest[:idLen], k.id[:]) {
		return nil, ErrWrongKey
	}
	plain, err := k.aead.Open(nil, rest[idLen:idLen+ns], rest[idLen+ns:], aad)
	if err != nil {
		return nil, fmt.Errorf("sealed value does not authenticate: %w", err)
	}
	return plain, nil
}

// Source says where a KEK came from, for logs and `atomcp keys rotate
// --kek`.
type Source struct {
	// File is the key file; "" when the key came from ATOMCP_SECRET_KEY.
	File string
	// Created is set when Load generated the file just now.
	Created bool
}

// Load returns the KEK: text (ATOMCP_SECRET_KEY) when set, else the
// content of file (ATOMCP_SECRET_KEY_FILE), else that of DefaultFile(dbPath)
// for a SQLite database at dbPath, generated mode 0600 when it does not
// exist yet. With none of the three it fails. A key file that other users
// may read is refused unless allowInsecure.
func Load(text, file, dbPath string, allowInsecure bool) (*Key, Source, error) {
	if strings.TrimSpace(text) != "" {
		k, err := Parse(text)
		if err != nil {
			return nil, Source{}, fmt.Errorf("ATOMCP_SECRET_KEY: %w", err)
		}
		return k, Source{}, nil
	}
	explicit := file != ""
	if !explicit {
		if dbPath == "" {
			return nil, Source{}, errors.New("set ATOMCP_SECRET_KEY or ATOMCP_SECRET_KEY_FILE: the key that seals the signing keys in the database (`openssl rand -base64 32`); back it up with the database")
		}
		file = DefaultFile(dbPath)
	}
	k, err := readFile(file, allowInsecure)
	if err == nil {
		return k, Source{File: file}, nil
	}
	if explicit || !errors.Is(err, os.ErrNotExist) {
		return nil, Source{}, err
	}
	k, err = CreateFile(file)
	if err != nil {
		return nil, Source{}, err
	}
	return k, Source{File: file, Created: true}, nil
}

// DefaultFile is the key file of the SQLite database at dbPath when no
// key is configured: beside it, named after it.
func DefaultFile(dbPath string) string {
	abs, err := filepath.Abs(dbPath)
	if err != nil {
		abs = dbPath
	}
	return abs + ".key"
}

func readFile(file string, allowInsecure bool) (*Key, error) {
	st, err := os.Stat(file)
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 && !allowInsecure {
		return nil, fmt.Errorf("secret key file %s is mode %04o: other users can read it; fix it with `chmod 600 %s` (or set ATOMCP_ALLOW_INSECURE_FILES=true)",
			file, st.Mode().Perm(), file)
	}
	b, err := os.ReadFile(file) // #nosec G304 -- the key file the operator configured (ATOMCP_SECRET_KEY_FILE) or the one beside the database
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	k, err := Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", file, err)
	}
	return k, nil
}

// CreateFile generates a KEK into a new file, mode 0600.
func CreateFile(file string) (*Key, error) {
	k, text, err := Generate()
	if err != nil {
		return nil, err
	}
	if err := writeFile(file, text, os.O_EXCL); err != nil {
		return nil, err
	}
	return k, nil
}

// ReplaceFile writes text into file mode 0600, atomically: a reader sees
// the old key or the new one, never a part.
func ReplaceFile(file, text string) error {
	tmp := file + ".new"
	_ = os.Remove(tmp)
	if err := writeFile(tmp, text, os.O_EXCL); err != nil {
		return err
	}
	if err := os.Rename(tmp, file); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("replace secret key file: %w", err)
	}
	return nil
}

func writeFile(file, text string, flag int) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|flag, 0o600) // #nosec G304 -- the key file the operator configured (ATOMCP_SECRET_KEY_FILE) or the one beside the database
	if err != nil {
		return fmt.Errorf("create secret key file: %w", err)
	}
	err = errors.Join(f.Chmod(0o600), func() error { _, err := f.WriteString(text + "\n"); return err }(), f.Sync())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(file)
		return fmt.Errorf("write secret key file %s: %w", file, err)
	}
	return nil
}
