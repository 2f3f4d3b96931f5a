package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const (
	privateBlock = "PRIVATE KEY"
	publicBlock  = "PUBLIC KEY"
)

// LoadOrCreate loads the Ed25519 private key at path, or creates one there
// when the file does not exist. A new file is written to a temporary name,
// synced and linked into place, so a crash never leaves a partial key and
// two processes starting together end up with the same key.
func LoadOrCreate(path string) (ed25519.PrivateKey, error) {
	key, err := Load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := create(path); err != nil {
		return nil, err
	}
	return Load(path)
}

// Load reads the Ed25519 private key at path. It fails when the file is
// readable or writable by group or others, because the key signs audit
// checkpoints and anyone who reads it can forge them.
func Load(path string) (ed25519.PrivateKey, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load key %s: %w", path, err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("load key %s: mode %04o lets other users read the key: run chmod 600 %s", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load key %s: %w", path, err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != privateBlock {
		return nil, fmt.Errorf("load key %s: no PEM %q block found", path, privateBlock)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("load key %s: parse PKCS#8: %w", path, err)
	}
	key, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("load key %s: key is %T, expected Ed25519", path, parsed)
	}
	return key, nil
}

// LoadPublic reads an Ed25519 public key from path, which may hold either a
// private key as written by LoadOrCreate or a PKIX public key ("PUBLIC KEY"
// PEM block) as written by WritePublic. Verifiers that must not hold the
// private key use the second form.
func LoadPublic(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load public key %s: %w", path, err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("load public key %s: no PEM block found", path)
	}
	switch block.Type {
	case privateBlock:
		key, err := Load(path)
		if err != nil {
			return nil, err
		}
		return key.Public().(ed25519.PublicKey), nil
	case publicBlock:
		parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("load public key %s: parse PKIX: %w", path, err)
		}
		pub, ok := parsed.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("load public key %s: key is %T, expected Ed25519", path, parsed)
		}
		return pub, nil
	default:
		return nil, fmt.Errorf("load public key %s: PEM block is %q, expected %q or %q", path, block.Type, privateBlock, publicBlock)
	}
}

// EncodePublic returns pub as a PKIX "PUBLIC KEY" PEM block, the form
// LoadPublic reads.
func EncodePublic(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: publicBlock, Bytes: der}), nil
}

// WritePublic writes pub to path as a PKIX "PUBLIC KEY" PEM block with mode
// 0644, replacing any file there.
func WritePublic(path string, pub ed25519.PublicKey) error {
	data, err := EncodePublic(pub)
	if err != nil {
		return fmt.Errorf("write public key %s: %w", path, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write public key %s: %w", path, err)
	}
	return nil
}

// ID returns a short, stable identifier of a public key: the first 16 hex
// digits of the SHA-256 of its 32 bytes. It names the key in signatures so
// that a verifier can tell which key was used.
func ID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

func create(path string) error {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("create key %s: %w", path, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("create key %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create key %s: %w", path, err)
	}

	tmp, err := os.CreateTemp(dir, ".key-*.tmp")
	if err != nil {
		return fmt.Errorf("create key %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := writeSynced(tmp, pem.EncodeToMemory(&pem.Block{Type: privateBlock, Bytes: der})); err != nil {
		return fmt.Errorf("create key %s: %w", path, err)
	}

	// Link fails when path exists: another process created the key first,
	// and Load then reads that one.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create key %s: %w", path, err)
	}
	return syncDir(dir)
}

func writeSynced(f *os.File, data []byte) error {
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
