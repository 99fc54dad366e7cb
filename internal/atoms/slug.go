package atoms

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// slugify turns a name into a lowercase, dash-separated ASCII slug.
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r): // accents dropped: "Café" → "cafe"
		case r == '\'' || r == '’': // "Alice's" → "alices", not "alice-s"
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	if b.Len() == 0 {
		return "untitled"
	}
	return b.String()
}

// uniqueSlug returns the slug of name, suffixed -2, -3 … until no entity of
// the kind (in the organization, for projects) has it. Deleted entities keep
// their slug, so that restoring one never collides.
func (s *Service) uniqueSlug(ctx context.Context, tx store.Ops, t domain.EntityType, organizationID, name string) (string, error) {
	base := slugify(name)
	for i := 1; i < 1000; i++ {
		candidate := base
		if i > 1 {
			candidate = fmt.Sprintf("%s-%d", base, i)
		}
		q := store.EntityQuery{Type: t, Equals: map[string]any{"slug": candidate}, Deleted: store.IncludeDeleted, Limit: 1}
		if t == domain.Organization {
			q.AllOrganizations = true // organization slugs are unique across the server
		} else {
			q.OrganizationIDs = []string{organizationID}
		}
		page, err := tx.ListEntities(ctx, q)
		if err != nil {
			return "", fmt.Errorf("check slug %q: %w", candidate, err)
		}
		if page.Total == 0 {
			return candidate, nil
		}
	}
	return "", fmt.Errorf("%w: no free slug for %q", domain.ErrConflict, name)
}

// checkSlugFree refuses a given organization slug that is not in slug
// form or that another organization (but self) has, deleted ones included.
func (s *Service) checkSlugFree(ctx context.Context, tx store.Ops, t domain.EntityType, slug, self string) error {
	if slugify(slug) != slug {
		return fmt.Errorf("%w: data.slug %q: a slug is lowercase letters, digits and dashes, e.g. %q", domain.ErrInvalid, slug, slugify(slug))
	}
	page, err := tx.ListEntities(ctx, store.EntityQuery{Type: t, AllOrganizations: true, Equals: map[string]any{"slug": slug}, Deleted: store.IncludeDeleted, Limit: 2})
	if err != nil {
		return fmt.Errorf("check slug %q: %w", slug, err)
	}
	for _, e := range page.Items {
		if e.ID != self {
			return fmt.Errorf("%w: data.slug %q is taken by another %s", domain.ErrConflict, slug, t)
		}
	}
	return nil
}
