package cli

import (
	"crypto/ed25519"

	"github.com/healthhub/healthhub/core/keys"
)

// loadOrCreateSigningKey reads the hub's Ed25519 token signing key, or
// creates it with mode 0600 when it does not exist.
func loadOrCreateSigningKey(path string) (ed25519.PrivateKey, error) {
	return keys.LoadOrCreate(path)
}
