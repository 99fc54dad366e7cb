-- Invitations become something the invited person accepts (never a silent
-- join): a link carries a secret whose hash is token_hash, and an
-- invitation of a known user by id names that user (user_id) instead of
-- copying an email the inviter may not see.
ALTER TABLE invitations ADD COLUMN token_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE invitations ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
CREATE INDEX invitations_token_hash ON invitations (token_hash) WHERE token_hash <> '';
CREATE INDEX invitations_user_id ON invitations (user_id) WHERE user_id <> '';
CREATE INDEX audit_log_actor_id ON audit_log (actor_id);

-- One-time links beyond the first account: an account invitation (purpose
-- 'invite': create an account with this email) and a password reset
-- (purpose 'reset': set a new password of account_id); '' is the first
-- account's setup link.
ALTER TABLE oauth_setup_tokens ADD COLUMN purpose TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_setup_tokens ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_setup_tokens ADD COLUMN account_id TEXT NOT NULL DEFAULT '';
