package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestEmbeddingsSettings(t *testing.T) {
	c := mustLoad(t, input{
		env:    []string{"ATOMCP_EMBEDDINGS_URL=http://localhost:11434/v1", "ATOMCP_EMBEDDINGS_MODEL=nomic-embed-text"},
		dotenv: "ATOMCP_EMBEDDINGS_API_KEY=" + secretValue + "\n",
	})
	if c.EmbeddingsURL != "http://localhost:11434/v1" || c.EmbeddingsModel != "nomic-embed-text" || c.EmbeddingsAPIKey.Reveal() != secretValue {
		t.Fatalf("url %q, model %q, key set %v", c.EmbeddingsURL, c.EmbeddingsModel, c.EmbeddingsAPIKey.IsSet())
	}
	if c.Sources[KeyEmbeddingsAPIKey] != ".env ATOMCP_EMBEDDINGS_API_KEY" || len(c.Warnings) != 0 {
		t.Fatalf("source %q, warnings %q", c.Sources[KeyEmbeddingsAPIKey], c.Warnings)
	}
	for _, shown := range []string{c.String(), fmt.Sprintf("%v %+v %#v %d", c, c, c, c)} {
		if strings.Contains(shown, secretValue) || !strings.Contains(shown, "embeddings_api_key=set") {
			t.Fatalf("printed config: %s", shown)
		}
	}
	// Unset: the local embedder, nothing to configure.
	if c := mustLoad(t, input{}); c.EmbeddingsURL != "" || c.Sources[KeyEmbeddingsURL] != "default" {
		t.Fatalf("default: %q from %s", c.EmbeddingsURL, c.Sources[KeyEmbeddingsURL])
	}
}

func TestEmbeddingsSettingsErrors(t *testing.T) {
	for _, c := range []struct {
		env  []string
		want string
	}{
		{[]string{"ATOMCP_EMBEDDINGS_URL=localhost:11434", "ATOMCP_EMBEDDINGS_MODEL=m"}, `ATOMCP_EMBEDDINGS_URL="localhost:11434": not an absolute http(s) URL; accepted: the API base`},
		{[]string{"ATOMCP_EMBEDDINGS_URL=https://u:" + secretValue + "@api.example/v1", "ATOMCP_EMBEDDINGS_MODEL=m"}, `"https://u:xxxxx@api.example/v1": must not contain a user name or password`},
		{[]string{"ATOMCP_EMBEDDINGS_URL=https://api.example/v1?k=1", "ATOMCP_EMBEDDINGS_MODEL=m"}, `"https://api.example/v1?…": must not have a query or fragment`},
		{[]string{"ATOMCP_EMBEDDINGS_URL=https://api.example/v1"}, "the embeddings URL (from ATOMCP_EMBEDDINGS_URL) is set but no model; set ATOMCP_EMBEDDINGS_MODEL"},
		{[]string{"ATOMCP_EMBEDDINGS_URL=https://api.example/v1", "ATOMCP_EMBEDDINGS_MODEL=m", "ATOMCP_EMBEDDINGS_API_KEY=sk " + secretValue}, "ATOMCP_EMBEDDINGS_API_KEY: contains spaces or control characters"},
	} {
		_, err := Load(nil, c.env, "")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v; want %q", c.env, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), secretValue) || strings.Contains(err.Error(), "k=1") {
			t.Errorf("error shows a secret: %v", err)
		}
	}
	c := mustLoad(t, input{env: []string{"ATOMCP_EMBEDDINGS_MODEL=m", "ATOMCP_EMBEDDINGS_API_KEY=k"}})
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "ignored because ATOMCP_EMBEDDINGS_URL is not set") {
		t.Fatalf("warnings %q", c.Warnings)
	}
}
