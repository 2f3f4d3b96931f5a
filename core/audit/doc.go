// Package audit keeps the hub's tamper-evident audit trail: one SHA-256
// hash chain of events per tenant, in the same database as the resource
// store, with checkpoints signed by the hub's Ed25519 key.
//
// Every request that touches patient data and every provider call appends
// an Event. Append returns only after the event is durable, and returns an
// error otherwise, so the caller can refuse the request (fail closed).
// Appends from many goroutines are group-committed: events that arrive
// while a commit is in flight share the next commit, so that durability
// costs one sync per batch rather than per request. Several processes may
// append to one PostgreSQL database; each commit locks the chain head row
// of its tenants, so every tenant keeps one valid chain.
//
// Events hold the identifiers an accounting of disclosures needs (who,
// what, when, for which patient, why, and what the policy decided) and no
// other PHI: payloads are represented by their SHA-256 only.
//
// Verify checks a whole chain offline and reports the first broken link;
// Export writes events as FHIR AuditEvent resources. The canonical form
// that each hash covers is documented at Canonical.
package audit
