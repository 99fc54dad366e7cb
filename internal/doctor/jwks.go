package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/MicahParks/jwkset"
)

// jwk is one usable public key of a JWKS.
type jwk struct {
	kid string
	alg string // "" when the JWK does not say
	use string
	kty string
	key any // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// asymmetricAlgs are the JWS algorithms a resource server can verify
// with a published key. HMAC and "none" are not among them.
var asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// checkJWKS fetches and checks the signing keys of each authorization
// server.
func (r *run) checkJWKS(ctx context.Context) {
	found := false
	for _, is := range r.issuers {
		if is.meta == nil {
			continue
		}
		found = true
		if is.meta.JWKSURI == "" {
			r.add(Finding{ID: IDJWKSFetch, Area: AreaJWKS, Status: Warn,
				Title:    "the authorization-server metadata has no jwks_uri",
				Observed: &Observed{URL: is.metaURL},
				Fix:      "Resource servers verify JWT access tokens with the keys at jwks_uri; without it they need token introspection. atomcp verifies JWTs only: publish jwks_uri."})
			continue
		}
		f, raw := r.fetchJWKS(ctx, is.meta.JWKSURI)
		r.add(f)
		if raw == nil {
			continue
		}
		f, keys := checkKeys(is.meta.JWKSURI, raw)
		r.add(f)
		is.keys = keys
		if f.Status != Fail {
			r.add(checkAlgorithms(is.meta.JWKSURI, keys))
		}
	}
	if !found {
		r.add(skip(IDJWKSFetch, AreaJWKS, "no authorization-server metadata, so no keys to check"))
	}
}

// fetchJWKS fetches the key set and returns its raw keys.
func (r *run) fetchJWKS(ctx context.Context, u string) (Finding, []json.RawMessage) {
	f := Finding{ID: IDJWKSFetch, Area: AreaJWKS}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	p, _, problem := r.getJSON(ctx, u, nil, &set)
	if problem != "" {
		f.Status, f.Title = Fail, "the JWKS is unusable: "+problem
		if p != nil {
			f.Observed = p.observed("Content-Type")
		} else {
			f.Observed = &Observed{Method: "GET", URL: u}
		}
		f.Fix = "Resource servers need the signing keys at jwks_uri (atomcp refuses every token until it can fetch them): the URL must answer 200 with {\"keys\": […]}."
		return f, nil
	}
	if set.Keys == nil {
		f.Status, f.Title = Fail, "the JWKS has no \"keys\" array"
		f.Observed = p.observed("Content-Type")
		f.Fix = "A JWK Set is a JSON object with a \"keys\" array (RFC 7517 section 5)."
		return f, nil
	}
	f.Status, f.Title = Pass, fmt.Sprintf("JWKS reachable at %s (%d %s)", u, len(set.Keys), plural(len(set.Keys), "key", "keys"))
	return f, set.Keys
}

// checkKeys parses each key; private key material in a published set is
// a leak.
func checkKeys(u string, raw []json.RawMessage) (Finding, []jwk) {
	f := Finding{ID: IDJWKSKeys, Area: AreaJWKS}
	var keys []jwk
	var bad, private []string
	for i, rk := range raw {
		var m jwkset.JWKMarshal
		if err := json.Unmarshal(rk, &m); err != nil {
			bad = append(bad, fmt.Sprintf("key %d: %v", i, err))
			continue
		}
		name := m.KID
		if name == "" {
			name = fmt.Sprintf("key %d", i)
		}
		if m.D != "" || m.P != "" || m.K != "" {
			private = append(private, name)
			continue
		}
		k, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		keys = append(keys, jwk{kid: m.KID, alg: string(m.ALG), use: string(m.USE), kty: string(m.KTY), key: k.Key()})
	}
	switch {
	case len(private) > 0:
		f.Status, f.Title = Fail, "the JWKS publishes private or symmetric key material: "+strings.Join(private, ", ")
		f.Observed = &Observed{URL: u}
		f.Fix = "Anyone can read this document and sign tokens with these keys: remove them from the JWKS at once, rotate the signing keys and revoke the tokens they signed. A JWKS holds public keys only (no \"d\", \"p\" or \"k\")."
		return f, keys
	case len(keys) == 0:
		f.Status, f.Title = Fail, "the JWKS has no usable key"
		f.Observed = &Observed{URL: u, Detail: strings.Join(bad, "; ")}
		f.Fix = "Publish the public keys the authorization server signs access tokens with (RSA, EC or OKP)."
		return f, nil
	case len(bad) > 0:
		f.Status, f.Title = Warn, fmt.Sprintf("%d keys parse, %d do not", len(keys), len(bad))
		f.Observed = &Observed{URL: u, Detail: strings.Join(bad, "; ")}
		f.Fix = "Remove or repair the keys that do not parse: verifiers may refuse the whole set."
		return f, keys
	}
	f.Status, f.Title = Pass, fmt.Sprintf("%d public %s %s", len(keys), plural(len(keys), "key", "keys"), plural(len(keys), "parses", "parse"))
	return f, keys
}

// checkAlgorithms checks that some key can verify signatures with an
// algorithm a resource server accepts.
func checkAlgorithms(u string, keys []jwk) Finding {
	f := Finding{ID: IDJWKSAlgorithms, Area: AreaJWKS}
	var usable, odd []string
	for _, k := range keys {
		alg := k.alg
		if alg == "" {
			alg = "(" + k.kty + ", no alg)"
		}
		switch {
		case k.use != "" && k.use != "sig":
			odd = append(odd, fmt.Sprintf("%s: use %q", k.kid, k.use))
		case k.alg != "" && !slices.Contains(asymmetricAlgs, k.alg):
			odd = append(odd, fmt.Sprintf("%s: alg %s", k.kid, k.alg))
		default:
			usable = append(usable, alg)
		}
	}
	slices.Sort(usable)
	usable = slices.Compact(usable)
	switch {
	case len(usable) == 0:
		f.Status, f.Title = Fail, "no key is usable for verifying signatures"
		f.Observed = &Observed{URL: u, Detail: strings.Join(odd, "; ")}
		f.Fix = "Publish signing keys (\"use\": \"sig\" or no \"use\") with an asymmetric algorithm (RS256, ES256, PS256, EdDSA …); HMAC keys and \"none\" cannot be verified by resource servers."
	default:
		f.Status, f.Title = Pass, "signing algorithms: "+strings.Join(usable, ", ")
		if len(odd) > 0 {
			f.Observed = &Observed{URL: u, Detail: "not for signatures: " + strings.Join(odd, "; ")}
		}
	}
	return f
}
