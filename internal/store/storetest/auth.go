package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/store"
)

// The tests of the authorization server's storage (store.Auth) live in
// the auth*.go files; authTests gathers them for Run.
var authTests = concat(oauthClientTests, localAccountTests, authCodeTests, tokenFamilyTests, signingKeyTests, consentTests, setupTokenTests, signinTests, accountPageTests)

func concat(lists ...[]test) []test {
	var out []test
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// sameRecord fails the test unless got and want (pointers to structs of
// the store package) hold the same values, comparing times as instants
// so that a backend may hand them back in another location.
func sameRecord(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := normTimes(got), normTimes(want)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %+v; want %+v", what, reflect.ValueOf(got).Elem().Interface(), reflect.ValueOf(want).Elem().Interface())
	}
}

// normTimes returns a copy of the struct *p with every time.Time and
// *time.Time field in UTC.
func normTimes(p any) any {
	v := reflect.ValueOf(p).Elem()
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	for i := range c.NumField() {
		f := c.Field(i)
		switch x := f.Interface().(type) {
		case time.Time:
			f.Set(reflect.ValueOf(x.UTC()))
		case *time.Time:
			if x != nil {
				u := x.UTC()
				f.Set(reflect.ValueOf(&u))
			}
		}
	}
	return c.Interface()
}

func ptr[T any](v T) *T { return &v }

// family creates a token family of the client and account.
func (f *fixture) family(id, clientID, accountID string) *store.TokenFamily {
	f.t.Helper()
	fam := &store.TokenFamily{ID: id, ClientID: clientID, AccountID: accountID, Scope: "atoms:read atoms:write",
		Resource: "https://mcp.example/api/mcp", CreatedAt: f.now()}
	if err := f.s.CreateTokenFamily(f.ctx, fam); err != nil {
		f.t.Fatalf("CreateTokenFamily: %v", err)
	}
	return fam
}
