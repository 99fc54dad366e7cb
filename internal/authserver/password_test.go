package authserver

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h, err := hashPassword("correct horse battery", defaultArgon)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not argon2id in PHC format with the default cost", h)
	}
	again, _ := hashPassword("correct horse battery", defaultArgon)
	if again == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		ok, err := verifyPassword(pw, h)
		if err != nil || ok != want {
			t.Errorf("verifyPassword(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	// Parameters come from the stored hash, so raising the default later
	// keeps old hashes working.
	cheap, _ := hashPassword("pw-cheap-one", testArgon)
	if ok, err := verifyPassword("pw-cheap-one", cheap); !ok || err != nil {
		t.Errorf("hash with other parameters: %v %v", ok, err)
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=18$m=1,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=x$c2FsdA$aGFzaA"} {
		if _, err := verifyPassword("x", bad); err == nil {
			t.Errorf("verifyPassword accepted the stored hash %q", bad)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for pw, ok := range map[string]bool{"1234567": false, "12345678": true, "éééééééé": true, strings.Repeat("x", MaxPasswordLength+1): false} {
		if err := CheckPassword(pw); (err == nil) != ok {
			t.Errorf("CheckPassword(%.10q…) = %v; want ok %v", pw, err, ok)
		}
	}
}
