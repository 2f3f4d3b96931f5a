// Package fhir holds the FHIR R4 resource types the hub writes itself, such
// as the OperationOutcome that carries an *sdk.Outcome to HTTP clients and
// the command line. It depends on nothing but the standard library and sdk.
package fhir
