// Package auth authenticates requests to the hub and turns credentials into
// the subject that policies decide on.
//
// Three kinds of credential are accepted, all in the Authorization header
// as "Bearer <credential>":
//
//   - tokens the hub issues itself, JWTs signed with the hub's Ed25519 key
//     (EdDSA), for local users and tools (Issuer);
//   - tokens of an external OpenID Connect issuer, JWTs signed with RS256 or
//     ES256 keys from the issuer's JSON Web Key Set, read from a file or
//     fetched from a URL (KeySet);
//   - API keys of service accounts, whose SHA-256 hashes are kept in a file
//     and compared in constant time (KeyStore).
//
// Claims map to a Principal: subject id, roles, tenant, SMART v2 scopes and,
// for patient-role tokens, the patient. Two request headers complete it:
// X-Purpose-Of-Use carries the purpose of use (an HL7 PurposeOfUse code such
// as TREAT or HPAYMT) and X-Break-Glass-Reason the reason for an emergency
// access.
package auth
