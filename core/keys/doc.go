// Package keys loads and creates the hub's Ed25519 signing keys. A key file
// holds one PKCS#8 private key in PEM form ("PRIVATE KEY") with mode 0600,
// in the data directory. Each signer (the audit trail, the token issuer)
// keeps its own file.
package keys
