package fhirclient

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"

	"github.com/golang-jwt/jwt/v5"

	"github.com/healthhub/healthhub/sdk"
)

// minRSABits is the smallest RSA key accepted for RS384 client assertions,
// the minimum NIST SP 800-131A allows for signatures.
const minRSABits = 2048

// loadSigningKey reads the PEM private key and picks the signing method:
// the configured algorithm, or the one that fits the key.
func loadSigningKey(a AuthConfig) (crypto.Signer, jwt.SigningMethod, error) {
	data, err := os.ReadFile(a.PrivateKeyFile)
	if err != nil {
		return nil, nil, sdk.Invalidf("/auth/private_key_file", "configure %s: read private key: %v", Name, err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, nil, sdk.Invalidf("/auth/private_key_file", "configure %s: %s contains no PEM block; write the key in PEM form", Name, a.PrivateKeyFile)
	}
	key, err := parsePrivateKey(block.Bytes)
	if err != nil {
		return nil, nil, sdk.Invalidf("/auth/private_key_file", "configure %s: %s is not a PKCS #8, PKCS #1 or SEC 1 private key", Name, a.PrivateKeyFile)
	}

	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < minRSABits {
			return nil, nil, sdk.Invalidf("/auth/private_key_file", "configure %s: RSA key has %d bits; use at least %d", Name, k.N.BitLen(), minRSABits)
		}
		if a.Algorithm != "" && a.Algorithm != "RS384" {
			return nil, nil, sdk.Invalidf("/auth/algorithm", "configure %s: algorithm %s does not fit an RSA key; use RS384", Name, a.Algorithm)
		}
		return k, jwt.SigningMethodRS384, nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P384() {
			return nil, nil, sdk.Invalidf("/auth/private_key_file", "configure %s: ECDSA key is on curve %s; ES384 needs P-384", Name, k.Curve.Params().Name)
		}
		if a.Algorithm != "" && a.Algorithm != "ES384" {
			return nil, nil, sdk.Invalidf("/auth/algorithm", "configure %s: algorithm %s does not fit an ECDSA key; use ES384", Name, a.Algorithm)
		}
		return k, jwt.SigningMethodES384, nil
	}
	return nil, nil, sdk.Invalidf("/auth/private_key_file", "configure %s: key type %T is not supported; use RSA or ECDSA P-384", Name, key)
}

func parsePrivateKey(der []byte) (crypto.Signer, error) {
	if key, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if signer, ok := key.(crypto.Signer); ok {
			return signer, nil
		}
	}
	if key, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return key, nil
	}
	return x509.ParseECPrivateKey(der)
}
