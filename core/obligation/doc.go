// Package obligation applies the obligations of a policy decision to
// payloads before they leave the hub: FHIR JSON resources and Bundles, and
// plain text such as chat messages.
//
// A Session serves one request. It removes or masks elements by FHIR path,
// replaces identifiers by pseudonym tokens, generalizes dates to the year or
// month, and scrubs free text of what identifies the patient: the names,
// identifiers, phone numbers, e-mail addresses and addresses given in Known
// or found in the Patient, RelatedPerson and Person resources of the
// payload, and the common patterns of phone numbers, e-mail addresses,
// social security numbers, record numbers and dates. Pseudonym tokens are
// random UUIDs, the same for the same value within the session, so a
// provider's reply can be mapped back with Restore when the decision allows
// it.
//
// Every call returns a Report of what changed, by which rule and where
// (JSON Pointers), which never contains the values themselves. JSON is
// rewritten with every number kept as written and every object's members
// kept in order.
//
// # Paths
//
// Obligation paths are a subset of FHIRPath: a resource type, or Resource
// for every type, followed by element names, such as "Patient.name" or
// "Resource.note.text". Elements that are arrays are traversed item by item.
// "value[x]" matches every choice element (valueString, valueQuantity, ...),
// "descendants()" every element below, and "extension('url')" the
// extensions with that url. Resources inside a Bundle (entry.resource) or
// contained in another resource are handled as resources of their own.
package obligation
