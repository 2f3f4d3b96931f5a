package fsstore

import (
	"encoding/base64"
	"os"
	"strings"

	"github.com/healthhub/healthhub/sdk"
)

// Config configures a Store. The JSON form is the plugin's configuration
// object in the hub configuration.
type Config struct {
	// Root is the directory objects are stored under. Required. It is
	// created with mode 0700 when missing.
	Root string `json:"root"`
	// EncryptionKey is a base64-encoded 32-byte key. When set, objects are
	// encrypted at rest with AES-256-GCM. Prefer EncryptionKeyFile, which
	// keeps the key out of the configuration file. Default: no encryption.
	EncryptionKey string `json:"encryption_key,omitempty"`
	// EncryptionKeyFile is the path of a file that contains the base64
	// key. At most one of EncryptionKey and EncryptionKeyFile may be set.
	EncryptionKeyFile string `json:"encryption_key_file,omitempty"`
	// MaxObjectSize is the largest object Put accepts, in bytes. 0 means no
	// limit.
	MaxObjectSize int64 `json:"max_object_size,omitempty"`
}

// encryptionKey returns the decoded 32-byte key, or nil when encryption is
// off. Errors are outcomes with the configuration path of the bad setting.
func (c Config) encryptionKey() ([]byte, error) {
	if c.EncryptionKey != "" && c.EncryptionKeyFile != "" {
		return nil, sdk.Invalidf("/encryption_key_file", "configure storage-fs: set encryption_key or encryption_key_file, not both")
	}

	encoded, path := c.EncryptionKey, "/encryption_key"
	if c.EncryptionKeyFile != "" {
		data, err := os.ReadFile(c.EncryptionKeyFile)
		if err != nil {
			return nil, sdk.Invalidf("/encryption_key_file", "configure storage-fs: read encryption key file: %v", err)
		}
		encoded, path = strings.TrimSpace(string(data)), "/encryption_key_file"
	}
	if encoded == "" {
		return nil, nil
	}

	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		// The error text of the base64 package names only an offset, never
		// key material, so it is safe to include.
		return nil, sdk.Invalidf(path, "configure storage-fs: encryption key is not valid base64: %v", err)
	}
	if len(key) != 32 {
		return nil, sdk.Invalidf(path, "configure storage-fs: encryption key must be 32 bytes for AES-256, got %d; generate one with: head -c 32 /dev/urandom | base64", len(key))
	}
	return key, nil
}

func (c Config) validate() error {
	if c.Root == "" {
		return sdk.Invalidf("/root", "configure storage-fs: root is empty; set it to the directory objects are stored under")
	}
	if c.MaxObjectSize < 0 {
		return sdk.Invalidf("/max_object_size", "configure storage-fs: max_object_size is %d; use 0 for no limit or a positive byte count", c.MaxObjectSize)
	}
	return nil
}
