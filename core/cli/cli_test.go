package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/auth"
	"github.com/healthhub/healthhub/core/daemon"
	"github.com/healthhub/healthhub/core/keys"
)

// run executes the hub command line in a test's own data directory.
func run(t *testing.T, dataDir string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("HUB_DATA_DIR", dataDir)
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, Streams{In: strings.NewReader(""), Out: &stdout, Err: &stderr})
	return code, stdout.String(), stderr.String()
}

func TestTokenIssueVerifiesWithDataDirKey(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := run(t, dir, "token", "issue", "--subject", "dr-lee", "--role", "clinician,auditor", "--tenant", "north", "--scope", "user/*.rs", "--ttl", "30m")
	require.Equal(t, ExitOK, code, errOut)

	key, err := keys.Load(filepath.Join(dir, daemon.TokenKeyFile))
	require.NoError(t, err)
	authenticator, err := auth.NewAuthenticator(auth.Config{}, auth.Options{HubKey: key.Public().(ed25519.PublicKey), Logger: discard()})
	require.NoError(t, err)
	principal, err := authenticator.Verify(context.Background(), strings.TrimSpace(out))
	require.NoError(t, err)
	assert.Equal(t, "dr-lee", principal.ID)
	assert.Equal(t, []string{"clinician", "auditor"}, principal.Roles)
	assert.Equal(t, []string{"user/*.rs"}, principal.Scopes)

	assert.NotContains(t, errOut, "no SMART scopes")

	code, out, errOut = run(t, dir, "token", "issue", "--subject", "dr-lee", "--role", "clinician", "--tenant", "north", "--json")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, `"expires_at"`)
	assert.Contains(t, errOut, "no SMART scopes", "a token without scopes is denied by the default policies")
}

func TestTokenIssueRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing tenant", []string{"--subject", "s", "--role", "nurse"}, `"tenant" not set`},
		{"patient without id", []string{"--subject", "amy", "--role", "patient", "--tenant", "t"}, "names no patient"},
		{"ttl over maximum", []string{"--subject", "s", "--role", "nurse", "--tenant", "t", "--ttl", "48h"}, "longer than the maximum"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, t.TempDir(), append([]string{"token", "issue"}, tc.args...)...)
			assert.Equal(t, ExitUsage, code)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tc.want)
		})
	}
}

func TestSigningKeyWithOpenModeIsRejected(t *testing.T) {
	path := filepath.Join(t.TempDir(), daemon.TokenKeyFile)
	_, err := loadOrCreateSigningKey(path)
	require.NoError(t, err)
	require.NoError(t, os.Chmod(path, 0o644))
	_, err = loadOrCreateSigningKey(path)
	assert.ErrorContains(t, err, "chmod 600")
}

func TestAPIKeyCommands(t *testing.T) {
	dir := t.TempDir()
	code, key, errOut := run(t, dir, "apikey", "create", "--subject", "lab-feed", "--role", "service", "--tenant", "north", "--description", "nightly labs")
	require.Equal(t, ExitOK, code, errOut)
	key = strings.TrimSpace(key)
	require.True(t, strings.HasPrefix(key, auth.APIKeyPrefix))
	id := strings.SplitN(key, "_", 3)[1]

	code, out, _ := run(t, dir, "apikey", "list")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, id)
	assert.Contains(t, out, "nightly labs")
	assert.NotContains(t, out, strings.SplitN(key, "_", 3)[2], "list never shows the secret")

	code, _, _ = run(t, dir, "apikey", "revoke", id)
	assert.Equal(t, ExitOK, code)
	code, _, errOut = run(t, dir, "apikey", "revoke", id)
	assert.Equal(t, ExitFailure, code)
	assert.Contains(t, errOut, "no key with id")
}

func TestConfigCommands(t *testing.T) {
	dir := t.TempDir()
	code, out, _ := run(t, dir, "config", "check")
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out, "configuration is valid")

	bad := filepath.Join(dir, "hub.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("logging:\n  level: loud\n"), 0o600))
	code, _, errOut := run(t, dir, "config", "check", "--config", bad)
	assert.Equal(t, ExitFailure, code)
	assert.Contains(t, errOut, "logging.level: must be one of")

	t.Setenv("HUB_SERVER_LISTN", ":1")
	code, _, errOut = run(t, dir, "config", "check")
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, errOut, "HUB_SERVER_LISTN")

	code, out, _ = run(t, dir, "config", "env")
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out, "HUB_SERVER_LISTEN")
	assert.Contains(t, out, "server.listen")
}
