// Package fhirclient is the EHR provider "ehr-fhir": a FHIR R4 REST client
// for an external electronic health record system.
//
// It reads (GET [base]/[type]/[id]), searches (GET [base]/[type]?params,
// then the Bundle's "next" links, which must stay under the base URL),
// creates (POST [base]/[type]), updates (PUT [base]/[type]/[id] with an
// optional If-Match version check) and submits transaction Bundles (POST
// [base]). Requests and responses use application/fhir+json. A server's
// OperationOutcome error body is passed on issue by issue, with source
// upstream.
//
// Only reads, searches and updates that carry If-Match are retried. A
// create or a transaction is never sent twice, because a second copy
// would create duplicate records.
//
// Three authorization types are supported: none, a static bearer token,
// and SMART Backend Services (SMART App Launch 2.x). The last is a client_credentials grant with a
// client_assertion JWT signed RS384 or ES384. The token endpoint comes
// from the configuration or from [base]/.well-known/smart-configuration.
// An access token is cached until shortly before it expires and dropped
// when the server responds 401. Tokens, keys and resource contents are
// never logged.
package fhirclient
