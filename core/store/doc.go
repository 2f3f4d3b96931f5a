// Package store keeps the hub's FHIR-like resources, per tenant, in SQLite
// (the default, pure Go, WAL mode) or PostgreSQL, behind one Store
// interface. Open picks the backend from Config and applies the embedded
// schema migrations.
//
// # Storage
//
// A resource is stored as the bytes received, so decimal text, element
// order, escapes and whitespace survive a round trip. The store edits only
// what it must, in place:
//
//   - the value of "id" is set to the resource's id; a missing id is
//     inserted as ,"id":"..." right after the resourceType member;
//   - meta.versionId and meta.lastUpdated are set; when meta exists, missing
//     members are inserted at its start as "versionId":"1","lastUpdated":"..."
//     followed by a comma when meta has other members; when meta is missing,
//     ,"meta":{"versionId":"1","lastUpdated":"..."} is inserted right after
//     the id member;
//   - in transactions, "reference" values that name a bundle entry's
//     fullUrl, or a conditional reference such as
//     Practitioner?identifier=system|value, are rewritten to Type/id.
//
// Inserted text has no whitespace. meta.lastUpdated is an instant in UTC
// with microseconds, the precision both databases keep.
//
// Binary.data, and attachment data from Config.BlobThresholdBytes up,
// moves to the sdk.Storage provider given in Options. The database keeps
// the object key, its SHA-256 and the offset where the text belongs, and
// reads put the text back.
//
// # Search
//
// Search supports, on every type: _id, _lastUpdated, identifier, status,
// code (token: code, system|code, |code, system|), patient and subject
// (reference: id, Type/id, :Type modifier). On Patient, Practitioner,
// RelatedPerson and Person: name, family and given (string: starts with,
// case and accent insensitive; :exact; :contains); on Organization and
// Location: name. Dates: birthdate (Patient, RelatedPerson, Person), date
// and period on the types whose FHIR R4 date parameters the package maps
// (such as Observation.effective[x] and Encounter.period), with the
// prefixes eq, ne, gt, lt, ge, le, sa and eb. Commas separate alternatives;
// a repeated parameter must match every value. _count sets the page size,
// _sort one date key (prefix "-" for descending), and _cursor continues
// from SearchPage.Next. Paging is by key, so pages stay stable while other
// resources are written.
//
// # Transactions
//
// ProcessBundle runs transaction Bundles in one database transaction: POST
// (with ifNoneExist), PUT (with ifMatch), DELETE and GET (read, vread, and
// search, which returns a searchset Bundle). GET entries run after the
// writes and see them.
// Any failing entry fails the whole Bundle with an outcome naming the
// entry, such as /entry/3/resource/subject/reference. Batch Bundles run each
// entry in its own transaction and report each entry's status.
package store
