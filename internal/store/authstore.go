package store

import (
	"context"
	"errors"
	"time"
)

// This file holds the storage of the embedded OAuth 2.1 authorization
// server (internal/authserver): registered clients, local accounts,
// authorization codes, refresh-token families, signing keys, the deny-list
// of revoked access tokens, consents, first-user setup tokens, sign-ins in
// progress at upstream providers and the identities linked to accounts.
//
// Secrets are never stored: codes, refresh tokens, setup tokens and client
// secrets are kept as hashes chosen by the caller (the authorization server
// hashes them with SHA-256; they are high-entropy random values, so a fast
// hash is enough), passwords as argon2id hashes. Signing keys are the
// exception: the server must sign with them, so the database holds them and
// must be protected like a key file.

// ErrAlreadyUsed is returned, wrapped, when a single-use record (an
// authorization code, a refresh token, a setup token) is presented a second
// time. The record is returned alongside it so that the caller can revoke
// what was issued from it.
var ErrAlreadyUsed = errors.New("already used")

// Auth is the storage of the embedded authorization server. Every backend
// implements it on the same database as the rest of the store, so that a
// transaction (Store.InTx) can consume a code and record the tokens issued
// for it all or nothing.
type Auth interface {
	OAuthClients
	LocalAccounts
	AuthCodes
	TokenFamilies
	SigningKeys
	Consents
	SetupTokens
	SigninRequests
	LinkedIdentities
	BrowserSessions
}

// OAuthClient is an OAuth client registered with the embedded authorization
// server, by Dynamic Client Registration (RFC 7591) or by an operator
// (`atomcp clients add`). Clients identified by a metadata document URL are
// not stored: their document is fetched and cached instead.
type OAuthClient struct {
	ID string
	// SecretHash is the hash of the client secret of a confidential
	// client; empty for a public client.
	SecretHash              string
	Name                    string
	RedirectURIs            []string
	GrantTypes              []string
	ResponseTypes           []string
	TokenEndpointAuthMethod string // none, client_secret_basic, client_secret_post
	ApplicationType         string // web or native
	Scope                   string // space-separated; empty means any supported scope
	ClientURI               string
	LogoURI                 string
	// Source says how it was registered: "dcr" or "cli".
	Source    string
	CreatedAt time.Time
	// RevokedAt is set when an operator revoked the client; a revoked
	// client can no longer authorize or obtain tokens.
	RevokedAt *time.Time
}

// OAuthClients stores registered clients.
type OAuthClients interface {
	// CreateOAuthClient inserts c; an existing id is a conflict.
	CreateOAuthClient(ctx context.Context, c *OAuthClient) error
	// GetOAuthClient returns the client, revoked or not, or domain.ErrNotFound.
	GetOAuthClient(ctx context.Context, id string) (*OAuthClient, error)
	// ListOAuthClients returns every client, oldest first.
	ListOAuthClients(ctx context.Context) ([]*OAuthClient, error)
	// RevokeOAuthClient marks the client revoked and revokes every token
	// family issued to it. Revoking a revoked client changes nothing.
	RevokeOAuthClient(ctx context.Context, id string, at time.Time) error
}

// LocalAccount is a person who logs in to the embedded authorization server
// with a password. Its ID is the subject (sub) of the tokens it obtains.
type LocalAccount struct {
	ID string
	// Email is the login name, stored lower-case; unique.
	Email        string
	Name         string
	PasswordHash string // argon2id, in the PHC string format
	// Role is "owner" for the account created at first start, "user"
	// otherwise.
	Role       string
	DisabledAt *time.Time
	// FailedLogins counts consecutive wrong passwords; LockedUntil is the
	// back-off it earned. Both are reset by a successful login.
	FailedLogins int
	LockedUntil  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// LocalAccounts stores local accounts.
type LocalAccounts interface {
	// CreateLocalAccount inserts a; an existing id or email is a conflict.
	CreateLocalAccount(ctx context.Context, a *LocalAccount) error
	// UpdateLocalAccount writes every field of a but its id and created_at.
	UpdateLocalAccount(ctx context.Context, a *LocalAccount) error
	// GetLocalAccount returns the account or domain.ErrNotFound.
	GetLocalAccount(ctx context.Context, id string) (*LocalAccount, error)
	// GetLocalAccountByEmail looks the (lower-case) email up, or returns
	// domain.ErrNotFound.
	GetLocalAccountByEmail(ctx context.Context, email string) (*LocalAccount, error)
	// ListLocalAccounts returns every account, oldest first.
	ListLocalAccounts(ctx context.Context) ([]*LocalAccount, error)
	// CountLocalAccounts returns how many accounts exist, disabled or not.
	CountLocalAccounts(ctx context.Context) (int, error)
	// RecordLoginFailure adds one to the account's failed logins and sets
	// its lock-out to lockedUntil(failures), atomically, so that parallel
	// wrong guesses all count. It returns the new count.
	RecordLoginFailure(ctx context.Context, id string, lockedUntil func(failures int) time.Time) (int, error)
}

// AuthCode is an authorization code, bound to the request that produced it.
type AuthCode struct {
	Hash                string // hash of the code; the code itself is never stored
	ClientID            string
	AccountID           string
	RedirectURI         string
	Scope               string
	Resource            string
	CodeChallenge       string // S256 only
	CodeChallengeMethod string
	// FamilyID names the token family that the tokens issued for this
	// code will belong to, so that a replayed code can revoke them.
	FamilyID  string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// AuthCodes stores authorization codes.
type AuthCodes interface {
	CreateAuthCode(ctx context.Context, c *AuthCode) error
	// GetAuthCode returns the code, used or not, or domain.ErrNotFound.
	GetAuthCode(ctx context.Context, hash string) (*AuthCode, error)
	// ConsumeAuthCode marks the code used and returns it, atomically: of
	// several concurrent calls exactly one succeeds. A code used before is
	// returned with an error wrapping ErrAlreadyUsed; an unknown one gives
	// domain.ErrNotFound. Expiry is the caller's to check.
	ConsumeAuthCode(ctx context.Context, hash string, at time.Time) (*AuthCode, error)
}

// TokenFamily is everything issued from one authorization code: the first
// access and refresh token, and every token obtained by rotating that
// refresh token. Reuse of a code or of a rotated refresh token revokes the
// whole family.
type TokenFamily struct {
	ID        string
	ClientID  string
	AccountID string
	Scope     string
	Resource  string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// RefreshToken is one refresh token of a family.
type RefreshToken struct {
	Hash      string
	FamilyID  string
	ClientID  string
	AccountID string
	Scope     string
	Resource  string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is set when it was exchanged (rotated) for a new one.
	UsedAt *time.Time
}

// AccessToken records an issued access token (a JWT) by its jti, so that
// revoking its family can deny-list it.
type AccessToken struct {
	JTI       string
	FamilyID  string
	ExpiresAt time.Time
}

// TokenFamilies stores token families, their refresh tokens, the access
// tokens issued in them, and the deny-list of revoked access tokens.
type TokenFamilies interface {
	CreateTokenFamily(ctx context.Context, f *TokenFamily) error
	// GetTokenFamily returns the family or domain.ErrNotFound.
	GetTokenFamily(ctx context.Context, id string) (*TokenFamily, error)
	// RevokeTokenFamily marks the family revoked and deny-lists every
	// access token issued in it until it expires. Revoking twice is not
	// an error; an unknown family is domain.ErrNotFound.
	RevokeTokenFamily(ctx context.Context, id string, at time.Time) error

	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// GetRefreshToken returns the token, used or not, or domain.ErrNotFound.
	GetRefreshToken(ctx context.Context, hash string) (*RefreshToken, error)
	// UseRefreshToken marks the token used and returns it, atomically: of
	// several concurrent calls exactly one succeeds, and the others get the
	// token with an error wrapping ErrAlreadyUsed (a replay: the caller
	// revokes the family). Expiry and family revocation are the caller's
	// to check.
	UseRefreshToken(ctx context.Context, hash string, at time.Time) (*RefreshToken, error)

	// RecordAccessToken remembers an issued access token's jti and family.
	RecordAccessToken(ctx context.Context, t *AccessToken) error
	// DenyAccessToken deny-lists the jti until expiresAt (RFC 7009
	// revocation of an access token). Deny-listing twice is not an error.
	DenyAccessToken(ctx context.Context, jti string, expiresAt time.Time) error
	// AccessTokenDenied reports whether the jti is deny-listed.
	AccessTokenDenied(ctx context.Context, jti string) (bool, error)
	// AccessTokenRefused answers, in one query, whether the jti is
	// deny-listed and whether the local account accountID is disabled
	// (false for an id that is no local account).
	AccessTokenRefused(ctx context.Context, jti, accountID string) (TokenRefusal, error)

	// ListActiveFamilies returns the account's families that can still
	// be used at now (not revoked, with an unused unexpired refresh
	// token or an unexpired access token), oldest first: the grants the
	// account page lists as connected apps.
	ListActiveFamilies(ctx context.Context, accountID string, now time.Time) ([]*ActiveFamily, error)
	// RevokeClientGrants revokes every family of the account and client,
	// deny-lists their access tokens and deletes the account's consent for
	// the client, all or nothing, so that the client must ask again.
	// Revoking what is revoked (or was never granted) is not an error.
	RevokeClientGrants(ctx context.Context, accountID, clientID string, at time.Time) error

	// PurgeExpiredTokens deletes codes, refresh tokens, access token
	// records, deny-list entries and browser sessions that expired
	// before now, and returns how many rows went.
	PurgeExpiredTokens(ctx context.Context, now time.Time) (int, error)
}

// ActiveFamily is a family that can still be used, with the time its
// latest refresh token was issued (nil for a client without refresh
// tokens): when the client last obtained tokens.
type ActiveFamily struct {
	TokenFamily
	LastIssuedAt *time.Time
}

// TokenRefusal is why an access token must be refused, if at all
// (AccessTokenRefused).
type TokenRefusal struct {
	Denied          bool // its jti is deny-listed
	AccountDisabled bool // its subject's local account is disabled
}

// SigningKey is a key the authorization server signs access tokens with.
type SigningKey struct {
	ID        string // the JWS kid
	Algorithm string // ES256 or RS256
	// PrivateKey is the key in PKCS #8 DER form, sealed by package
	// secretkey (older databases hold it in plaintext until the next
	// start re-seals it).
	PrivateKey []byte
	CreatedAt  time.Time
	// RetiredAt is set when a newer key replaced it: it no longer signs,
	// but is still published until the tokens it signed have expired.
	RetiredAt *time.Time
}

// SigningKeys stores the signing keys.
type SigningKeys interface {
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// ListSigningKeys returns every stored key, newest first.
	ListSigningKeys(ctx context.Context) ([]*SigningKey, error)
	// UpdateSigningKeyMaterial replaces the stored PrivateKey of a key
	// (re-sealed under another key-encryption key).
	UpdateSigningKeyMaterial(ctx context.Context, id string, privateKey []byte) error
	// RetireSigningKeys marks every key that is not retired yet, except
	// keepID, retired at the given time.
	RetireSigningKeys(ctx context.Context, keepID string, at time.Time) error
	// DeleteSigningKeysRetiredBefore deletes keys retired before t.
	DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) (int, error)
}

// Consent records the scopes a user granted a client, so that the consent
// page is shown again only when a client asks for more.
type Consent struct {
	AccountID string
	ClientID  string
	Scope     string // space-separated
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Consents stores consents.
type Consents interface {
	// PutConsent adds the consent or replaces the scope of an existing one.
	PutConsent(ctx context.Context, c *Consent) error
	// GetConsent returns the consent or domain.ErrNotFound.
	GetConsent(ctx context.Context, accountID, clientID string) (*Consent, error)
	// DeleteConsents deletes every consent of an account.
	DeleteConsents(ctx context.Context, accountID string) error
}

// SetupToken is a one-time token that lets the first account be created
// through the browser.
type SetupToken struct {
	Hash      string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	// Purpose is "" for the first account's setup link,
	// SetupPurposeInvite (create an account with Email) or
	// SetupPurposeReset (set a new password of AccountID).
	Purpose   string
	Email     string
	AccountID string
}

// Purposes of one-time links other than the first account's.
const (
	SetupPurposeInvite = "invite"
	SetupPurposeReset  = "reset"
)

// SetupTokens stores first-user setup tokens.
type SetupTokens interface {
	CreateSetupToken(ctx context.Context, t *SetupToken) error
	// ConsumeSetupToken marks the token used and returns it, atomically;
	// one used before gives ErrAlreadyUsed (wrapped), an unknown one
	// domain.ErrNotFound. Expiry is the caller's to check.
	ConsumeSetupToken(ctx context.Context, hash string, at time.Time) (*SetupToken, error)
}

// SigninRequest is a sign-in in progress at an upstream identity provider
// (internal/authserver/connector): kept in the database, not in memory, so
// that the provider may return to another replica, or after a restart.
// It is single use and lives ten minutes.
type SigninRequest struct {
	// StateHash is the hash of the state sent to the provider.
	StateHash string
	Connector string
	// Nonce and Verifier (PKCE) are sent to, or checked against, the
	// provider when it returns; they are worthless without the code the
	// provider gives only to the browser.
	Nonce    string
	Verifier string
	// Authz is the MCP client's authorization request (its query string),
	// carried through the sign-in; empty for a sign-in to this server's
	// own pages, which returns to ReturnPath instead.
	Authz string
	// ReturnPath is the local path (below the issuer) a sign-in without
	// an authorization request returns to, such as /account.
	ReturnPath string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     *time.Time
}

// SigninRequests stores sign-ins in progress.
type SigninRequests interface {
	CreateSigninRequest(ctx context.Context, r *SigninRequest) error
	// ConsumeSigninRequest marks the request used and returns it,
	// atomically; one used before gives ErrAlreadyUsed (wrapped) with the
	// request, an unknown one domain.ErrNotFound. Expiry is the caller's
	// to check. Expired requests go with PurgeExpiredTokens.
	ConsumeSigninRequest(ctx context.Context, stateHash string, at time.Time) (*SigninRequest, error)
}

// LinkedIdentity is an account's identity at an upstream provider: who
// the provider says signed in (Connector, Subject) is this account.
type LinkedIdentity struct {
	Connector string
	Subject   string
	AccountID string
	// Email is the address the provider gave at the last sign-in.
	Email string
	// OrgID is the WorkOS organization chosen at the last sign-in.
	OrgID      string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// LinkedIdentities stores linked identities. Deleting an account deletes
// its identities.
type LinkedIdentities interface {
	// PutLinkedIdentity inserts the identity, or updates the email, org
	// and last use of the one with its connector and subject. Linking an
	// identity of another account is a conflict (domain.ErrConflict).
	PutLinkedIdentity(ctx context.Context, id *LinkedIdentity) error
	// GetLinkedIdentity returns the identity or domain.ErrNotFound.
	GetLinkedIdentity(ctx context.Context, connector, subject string) (*LinkedIdentity, error)
	// ListLinkedIdentities returns the account's identities, by
	// connector then subject.
	ListLinkedIdentities(ctx context.Context, accountID string) ([]*LinkedIdentity, error)
	// DeleteLinkedIdentities unlinks the account's identities at the
	// connector and returns how many went.
	DeleteLinkedIdentities(ctx context.Context, accountID, connector string) (int, error)
}

// BrowserSession is a sign-in in one browser: the session cookie names it,
// so that revoking it (sign out, sign out everywhere, a password change)
// ends the cookie at once although the cookie itself is a signed token.
type BrowserSession struct {
	ID        string
	AccountID string
	// UserAgent is the browser's User-Agent at sign-in (shortened), to
	// tell the sessions apart on the account page.
	UserAgent string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
}

// BrowserSessions stores browser sessions. Deleting an account deletes
// its sessions; expired ones go with PurgeExpiredTokens.
type BrowserSessions interface {
	// CreateBrowserSession inserts s; its account must exist.
	CreateBrowserSession(ctx context.Context, s *BrowserSession) error
	// GetBrowserSession returns the session, revoked or not, or
	// domain.ErrNotFound.
	GetBrowserSession(ctx context.Context, id string) (*BrowserSession, error)
	// ListBrowserSessions returns the account's sessions that are neither
	// revoked nor expired at now, newest first.
	ListBrowserSessions(ctx context.Context, accountID string, now time.Time) ([]*BrowserSession, error)
	// RevokeBrowserSession revokes one session; revoking twice is not an
	// error, an unknown id is domain.ErrNotFound.
	RevokeBrowserSession(ctx context.Context, id string, at time.Time) error
	// RevokeBrowserSessions revokes every session of the account that is
	// not revoked yet, except exceptID ("" for none), and returns how many
	// it revoked.
	RevokeBrowserSessions(ctx context.Context, accountID, exceptID string, at time.Time) (int, error)
}
