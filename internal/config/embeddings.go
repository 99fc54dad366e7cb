package config

import (
	"errors"
	"fmt"
	"net/url"
)

// The embeddings endpoint of semantic search (embed.HTTP). With no URL,
// atomcp embeds locally and needs no model.

const acceptedEmbeddingsURL = "accepted: the API base of an OpenAI-compatible embeddings endpoint, such as https://api.openai.com/v1 or http://localhost:11434/v1 (Ollama); atomcp posts to it + /embeddings"

func parseEmbeddingsURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("not an absolute http(s) URL; " + acceptedEmbeddingsURL)
	}
	if u.User != nil {
		return "", errors.New("must not contain a user name or password (give the key as ATOMCP_EMBEDDINGS_API_KEY); " + acceptedEmbeddingsURL)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", errors.New("must not have a query or fragment; " + acceptedEmbeddingsURL)
	}
	return s, nil
}

// shownEmbeddingsURL is a refused embeddings URL as an error shows it:
// without a password or a query (where some providers put keys).
func shownEmbeddingsURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "[not shown]"
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		u.RawQuery, u.ForceQuery, u.Fragment = "…", false, ""
	}
	return u.Redacted()
}

// embeddingsCheck: an endpoint needs a model name, and a model or key
// without an endpoint is unused.
func (r *resolver) embeddingsCheck(c *Config) {
	if c.EmbeddingsURL != "" && c.EmbeddingsModel == "" {
		r.errs = append(r.errs, fmt.Errorf("the embeddings URL (from %s) is set but no model; set ATOMCP_EMBEDDINGS_MODEL to the model the endpoint serves, e.g. text-embedding-3-small or nomic-embed-text", r.sources[KeyEmbeddingsURL]))
	}
	if c.EmbeddingsURL == "" && (c.EmbeddingsModel != "" || c.EmbeddingsAPIKey != "") {
		r.warnings = append(r.warnings, "ATOMCP_EMBEDDINGS_MODEL and ATOMCP_EMBEDDINGS_API_KEY are ignored because ATOMCP_EMBEDDINGS_URL is not set; atomcp embeds locally")
	}
}
