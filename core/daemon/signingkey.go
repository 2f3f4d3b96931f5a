package daemon

import (
	"crypto/ed25519"
	"path/filepath"

	"github.com/healthhub/healthhub/core/config"
	"github.com/healthhub/healthhub/core/keys"
)

// TokenKeyFile is the name of the hub's token signing key in the data
// directory. It is apart from the audit trail's key, so that either can be
// rotated alone.
const TokenKeyFile = "token-signing.key"

// TokenKeyPath returns the path of the token signing key of cfg's data
// directory.
func TokenKeyPath(cfg *config.Config) string {
	return filepath.Join(cfg.DataPath(), TokenKeyFile)
}

// LoadSigningKey reads the hub's Ed25519 token signing key from cfg's data
// directory, creating it with mode 0600 when it does not exist. New takes
// this key, and tokens signed with it (see auth.NewIssuer) are accepted by
// every hub that shares the data directory.
func LoadSigningKey(cfg *config.Config) (ed25519.PrivateKey, error) {
	return keys.LoadOrCreate(TokenKeyPath(cfg))
}
