package storetest

import (
	"reflect"
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
)

var userTests = []test{
	{"CreateGetUpdate", testUserCreateGetUpdate},
	{"UniqueSubject", testUserUniqueSubject},
}

// sameUser compares users, times with Equal.
func sameUser(t *testing.T, got, want *domain.User) {
	t.Helper()
	g, w := *got, *want
	if !g.CreatedAt.Equal(w.CreatedAt) || !g.UpdatedAt.Equal(w.UpdatedAt) {
		t.Errorf("user times = %v, %v; want %v, %v", g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt)
	}
	g.CreatedAt, g.UpdatedAt = w.CreatedAt, w.UpdatedAt // compared above
	if !reflect.DeepEqual(g, w) {
		t.Errorf("user = %+v; want %+v", g, w)
	}
}

func testUserCreateGetUpdate(t *testing.T, f *fixture) {
	u := f.user("alice")
	got, err := f.s.GetUser(f.ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameUser(t, got, u)
	got, err = f.s.GetUserBySubject(f.ctx, u.Issuer, u.Subject)
	if err != nil {
		t.Fatal(err)
	}
	sameUser(t, got, u)

	changed := *u
	changed.Email, changed.Name, changed.UpdatedAt = "alice@new.example", "Alice Liddell", f.now()
	if err := f.s.UpdateUser(f.ctx, &changed); err != nil {
		t.Fatal(err)
	}
	got, err = f.s.GetUser(f.ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameUser(t, got, &changed)

	_, err = f.s.GetUser(f.ctx, "nobody")
	wantErr(t, err, domain.ErrNotFound)
	_, err = f.s.GetUserBySubject(f.ctx, u.Issuer, "nobody")
	wantErr(t, err, domain.ErrNotFound)
	_, err = f.s.GetUserBySubject(f.ctx, "https://other.example", u.Subject)
	wantErr(t, err, domain.ErrNotFound)
	missing := changed
	missing.ID = "nobody"
	wantErr(t, f.s.UpdateUser(f.ctx, &missing), domain.ErrNotFound)
}

func testUserUniqueSubject(t *testing.T, f *fixture) {
	u := f.user("alice")
	tests := []struct {
		name   string
		change func(*domain.User)
		want   error
	}{
		{"same issuer and subject", func(d *domain.User) { d.ID = "other-id" }, domain.ErrConflict},
		{"same id", func(d *domain.User) { d.Subject = "other-subject" }, domain.ErrConflict},
		{"same subject at another issuer", func(d *domain.User) { d.ID, d.Issuer = "third-id", "https://other.example" }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := *u
			tc.change(&d)
			err := f.s.CreateUser(f.ctx, &d)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, tc.want)
		})
	}
}
