// Package api is the hub's HTTP server: the routes under /fhir and /v1, the
// health, metrics and OpenAPI endpoints, and the middleware every request
// passes through.
//
// Every request passes the same middleware, outermost first. It gets a
// request id (X-Request-ID), a structured access log line without query
// strings or other PHI, request metrics per route pattern, panic recovery
// that returns an OperationOutcome 500, and the request deadline. Then each
// route checks authentication, a per-subject token bucket (429 with
// Retry-After), the content type (415) and the body size (413).
//
// The provider operations under /v1 (chat, transcriptions, imaging
// studies and analyses, EHR import and push) send data to provider plugins
// under the policy's egress decision. The decision's obligations are
// applied to what the plugin receives, and each call is audited with the
// SHA-256 of that payload. Long operations run as jobs of core/jobs, which
// clients poll under /v1/jobs.
//
// Errors reach the client as FHIR OperationOutcome resources. StatusFor
// maps an *sdk.Outcome or a sentinel error to the HTTP status.
package api
