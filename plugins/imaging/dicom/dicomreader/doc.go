// Package dicomreader is the imaging provider "imaging-dicom": it reads
// DICOM objects on the hub's own machine, so nothing leaves it.
//
// ReadStudy maps the study, series and instance attributes of an object to
// a FHIR R4 ImagingStudy and renders its first frame as a PNG preview,
// with the rescale, the VOI window and MONOCHROME1 inversion applied.
// Deidentify applies the Basic Application Level Confidentiality Profile of
// DICOM PS3.15 Annex E. Analyze reports pixel value statistics of the first
// frame; the provider is a parser, not a model, and claims no findings.
//
// Objects are parsed with github.com/suyashkumar/dicom v1.1.0, in implicit
// and explicit VR little endian, explicit VR big endian and the
// encapsulated transfer syntaxes (whose pixel data is kept as it is). A
// framing check runs first and rejects truncated and malformed objects
// with ErrInvalid before they reach the parser. Objects without a
// preamble or File Meta Information are accepted: the check determines
// their transfer syntax and adds File Meta that states it.
package dicomreader
