package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// refreshMargin is how long before its expiry a token is refreshed, at
// most; a short-lived token is refreshed after three quarters of its life.
const refreshMargin = 60 * time.Second

// tokenSource is the token of one MCP server: it refreshes the token
// before it expires and stores every new token in the cache.
//
// It never returns a nil token without an error: a token that has expired
// and cannot be refreshed is returned as it is, the server answers 401, and
// the transport starts a new login.
type tokenSource struct {
	store  *Store // nil: nothing persisted
	warn   func(error)
	now    func() time.Time
	conf   *oauth2.Config // nil: no refresh possible
	client *http.Client   // for refreshes (adds resource)

	mu       sync.Mutex
	rec      TokenRecord
	obtained time.Time
}

func newTokenSource(store *Store, warn func(error), now func() time.Time, rec TokenRecord, conf *oauth2.Config, oauthClient *http.Client) *tokenSource {
	s := &tokenSource{store: store, warn: warn, now: now, conf: conf, rec: rec, obtained: rec.SavedAt}
	if conf != nil {
		base := oauthClient.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		c := *oauthClient
		c.Transport = &resourceTransport{base: base, tokenURL: conf.Endpoint.TokenURL, resource: rec.Resource}
		s.client = &c
	}
	if s.obtained.IsZero() {
		s.obtained = now()
	}
	return s
}

// record returns a copy of the current token record.
func (s *tokenSource) record() TokenRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rec
	r.Scopes = append([]string(nil), s.rec.Scopes...)
	return r
}

// fresh reports whether the token can be used without refreshing.
func (s *tokenSource) fresh(now time.Time) bool {
	if s.rec.Expiry.IsZero() {
		return true
	}
	margin := refreshMargin
	if life := s.rec.Expiry.Sub(s.obtained); life > 0 && life/4 < margin {
		margin = life / 4
	}
	return now.Add(margin).Before(s.rec.Expiry)
}

// Token implements oauth2.TokenSource.
func (s *tokenSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.fresh(now) || s.rec.RefreshToken == "" || s.conf == nil {
		return s.rec.Token(), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.client)
	tok, err := s.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: s.rec.RefreshToken}).Token()
	if err != nil {
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && refusedGrant(re) {
			// The refresh token is no good any more: forget it, and let the
			// server's 401 start a new login.
			s.warn(fmt.Errorf("the authorization server %s refused to refresh the token (%s); logging in again", s.rec.Issuer, refusalCode(re)))
			s.rec.RefreshToken = ""
			if s.store != nil {
				if err := s.store.DeleteToken(s.rec.ServerURL); err != nil {
					s.warn(err)
				}
				if re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client" {
					if err := s.store.DeleteClient(s.rec.Issuer); err != nil {
						s.warn(err)
					}
				}
			}
			return s.rec.Token(), nil
		}
		return nil, describeTokenError(s.conf.Endpoint.TokenURL, err)
	}
	s.rec.AccessToken = tok.AccessToken
	s.rec.TokenType = tok.TokenType
	if tok.RefreshToken != "" {
		s.rec.RefreshToken = tok.RefreshToken
	}
	s.rec.Expiry = tok.Expiry
	if sc, ok := tok.Extra("scope").(string); ok && sc != "" {
		s.rec.Scopes = strings.Fields(sc)
	}
	s.rec.SavedAt = now
	s.obtained = now
	if s.store != nil {
		if err := s.store.SaveToken(&s.rec); err != nil {
			s.warn(fmt.Errorf("the refreshed token works but could not be saved: %w", err))
		}
	}
	return s.rec.Token(), nil
}

func refusedGrant(re *oauth2.RetrieveError) bool {
	switch re.ErrorCode {
	case "invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope", "invalid_target":
		return true
	}
	return re.ErrorCode == "" && re.Response != nil && (re.Response.StatusCode == 400 || re.Response.StatusCode == 401)
}

func refusalCode(re *oauth2.RetrieveError) string {
	if re.ErrorCode != "" {
		return re.ErrorCode
	}
	if re.Response != nil {
		return fmt.Sprintf("HTTP %d", re.Response.StatusCode)
	}
	return "refused"
}
