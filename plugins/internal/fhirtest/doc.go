// Package fhirtest is a loopback FHIR R4 REST server with a SMART Backend
// Services token endpoint, for testing the ehr-fhir plugin and for
// benchmarks that compare it with direct calls.
//
// It keeps the current version of each resource in memory. It serves read
// (GET [base]/[type]/[id]) and search (GET [base]/[type]?params, paged
// through Bundle "next" links). Create (POST [base]/[type]) returns 201
// with Location and ETag. Update (PUT [base]/[type]/[id]) checks If-Match
// and returns 412 on a stale version. Transaction Bundles (POST [base]) are
// applied all or nothing, with urn:uuid references rewritten to the new
// ids. Errors are OperationOutcome resources.
//
// Search supports _id, _count, patient, subject, identifier and code, which
// is what the plugin tests need. Conditional references such as
// "Practitioner?identifier=…" in Synthea bundles are stored unresolved.
//
// With a registered client, every FHIR request needs a bearer token from
// POST /auth/token. The token endpoint issues one for a client_credentials
// grant whose client_assertion JWT passes the checks of the SMART App
// Launch 2.x Backend Services specification. The JWT must be signed with
// the client's registered RS384 or ES384 key, its iss and sub must equal
// the client id and its aud the token URL, its exp must lie at most five
// minutes ahead, and its jti must not have been seen before.
package fhirtest
