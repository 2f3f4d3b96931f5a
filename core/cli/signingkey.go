package cli

import (
	"crypto/ed25519"
	"path/filepath"

	"github.com/healthhub/healthhub/core/config"
	"github.com/healthhub/healthhub/core/keys"
)

// tokenKeyFile is the name of the hub's token signing key in the data
// directory. It is apart from the audit trail's key, so that either can be
// rotated alone.
const tokenKeyFile = "token-signing.key"

func tokenKeyPath(cfg *config.Config) string {
	return filepath.Join(cfg.DataPath(), tokenKeyFile)
}

// loadOrCreateSigningKey reads the hub's Ed25519 token signing key, or
// creates it with mode 0600 when it does not exist.
func loadOrCreateSigningKey(path string) (ed25519.PrivateKey, error) {
	return keys.LoadOrCreate(path)
}
