package domain

// Identity is a verified identity, as the transport layer learned it (from
// a token, or the fixed local user): the issuer that vouches for the user
// and the user's subject there, with the profile the token carried.
type Identity struct {
	Issuer  string `json:"iss"`
	Subject string `json:"sub"`
	Email   string `json:"email,omitempty"`
	// EmailVerified gates the acceptance of invitations: only a verified
	// email may claim an invitation sent to it.
	EmailVerified bool   `json:"email_verified,omitempty"`
	Name          string `json:"name,omitempty"`
}
