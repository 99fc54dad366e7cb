package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// sampleValues are tried in order as the value of each flag and variable
// of the settings table; the first one that loads and changes the
// setting's logged value is used. A new setting of a new kind may need a
// sample here, and the test says so.
var sampleValues = []string{
	"ci:" + secretValue + "-token", // first, so that every secret gets a findable value
	"127.0.0.1:8123", "8123", "https://example.com", "sqlite://other.db", "/other", "none", "AUTHKIT",
	"RS384", "debug", "json", "true", "2h", "10.0.0.0/8", "false",
}

// crossSettings satisfy the rules across settings that would otherwise
// refuse a sample (an embeddings URL needs a model, FASTMCP_SERVER_AUTH
// can only name AuthKit, which needs a domain). Each is left out when its
// own setting is under test.
var crossSettings = map[string]string{
	KeyAuthKitDomain:   "ATOMCP_AUTHKIT_DOMAIN=https://base.authkit.app",
	KeyEmbeddingsModel: "ATOMCP_EMBEDDINGS_MODEL=base-model",
	// A sign-in issuer needs a client id, a GitHub or Google client id a
	// secret, and the password form may be off only beside a connector
	// (AuthKit's, from the domain above and this client id).
	KeySigninOIDCClientID:         "ATOMCP_SIGNIN_OIDC_CLIENT_ID=base-client",
	"signin_github_client_secret": "ATOMCP_SIGNIN_GITHUB_CLIENT_SECRET=base-secret",
	"signin_google_client_secret": "ATOMCP_SIGNIN_GOOGLE_CLIENT_SECRET=base-secret",
	KeyWorkOSClientID:             "WORKOS_CLIENT_ID=client_base",
}

// derived lists the settings whose value may change with another one's.
var derived = map[string]string{KeyBaseURL: KeyAddr}

// TestEverySettingIsBound proves that a table entry is all a setting
// needs: each of its flags and variables is loaded into a field of its
// own, recorded in Sources, logged, kept out of every printed form when it
// is secret, and documented in docs/configuration.md. There is no per-key
// code left to forget.
func TestEverySettingIsBound(t *testing.T) {
	docRows := tableRows(section(t, readDoc(t), "## Settings"))
	for _, s := range settings {
		if s.bind.load == nil || s.bind.show == nil {
			t.Errorf("%s: no binder", s.key)
			continue
		}
		if _, ok := docRows[s.key]; !ok {
			t.Errorf("%s: not in the settings table of %s", s.key, docPath)
		}
		var base []string
		for k, kv := range crossSettings {
			if k != s.key {
				base = append(base, kv)
			}
		}
		channels := append([]string(nil), s.env...)
		if s.flag != "" {
			channels = append(channels, "--"+s.flag)
		}
		for _, ch := range channels {
			t.Run(s.key+"/"+ch, func(t *testing.T) {
				checkChannel(t, s, ch, base)
			})
		}
	}
}

// checkChannel loads one sample through the flag or variable ch of s.
func checkChannel(t *testing.T, s setting, ch string, base []string) {
	before, err := loadWith(ch, "", base)
	if err != nil {
		t.Fatalf("baseline: %v", err)
	}
	was := loggedValues(before)
	for _, v := range sampleValues {
		c, err := loadWith(ch, v, base)
		if err != nil {
			continue
		}
		now := loggedValues(c)
		if now[s.key] == was[s.key] {
			continue
		}
		wantSource := ch
		if flag, ok := strings.CutPrefix(ch, "--"); ok {
			wantSource = "flag --" + flag
		}
		if !strings.Contains(c.Sources[s.key], wantSource) || c.IsDefault(s.key) {
			t.Errorf("%s=%q: source %q, want %s", ch, v, c.Sources[s.key], wantSource)
		}
		for k, old := range was {
			if k != s.key && now[k] != old && derived[k] != s.key {
				t.Errorf("%s=%q also changed %s from %q to %q: two settings bound to one field?", ch, v, k, old, now[k])
			}
			if k != s.key && c.Sources[k] != before.Sources[k] {
				t.Errorf("%s=%q also changed the source of %s to %q", ch, v, k, c.Sources[k])
			}
		}
		if s.bind.secret {
			checkSecretHidden(t, c, ch)
		}
		return
	}
	t.Errorf("no sample value loads through %s and changes %s; add one to sampleValues", ch, s.key)
}

// loadWith loads the configuration with ch (a variable or --flag) set to
// value ("" for not at all) besides base.
func loadWith(ch, value string, base []string) (*Config, error) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	BindFlags(fs)
	env := base
	if value != "" {
		if strings.HasPrefix(ch, "--") {
			if err := fs.Parse([]string{ch + "=" + value}); err != nil {
				return nil, err
			}
		} else {
			// First, so that it wins over a base value of the same name.
			env = append([]string{ch + "=" + value}, base...)
		}
	}
	return Load(fs, env, "")
}

// loggedValues maps each key of LogAttrs to the value logged.
func loggedValues(c *Config) map[string]string {
	out := make(map[string]string)
	for _, a := range c.LogAttrs() {
		out[a.Key] = a.Value.Group()[0].Value.String()
	}
	return out
}

// checkSecretHidden looks for secretValue in every printed form of c and
// in the error for a malformed value of the secret variable ch.
func checkSecretHidden(t *testing.T, c *Config, ch string) {
	t.Helper()
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%+v %#v %d %x %q", *c, *c, *c, *c, *c), string(j), fmt.Sprint(c.LogAttrsAny()...)} {
		if strings.Contains(out, secretValue) {
			t.Errorf("%s: secret printed: %s", ch, out)
		}
	}
	_, err = Load(nil, []string{ch + "=" + secretValue + " x\x01"}, "")
	if err == nil || strings.Contains(err.Error(), secretValue) || !strings.Contains(err.Error(), ch) {
		t.Errorf("%s: malformed secret: error %v, want one naming %s without the value", ch, err, ch)
	}
}
