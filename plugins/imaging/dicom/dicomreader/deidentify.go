package dicomreader

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/healthhub/healthhub/sdk"
)

// ProfileName is the confidentiality profile Deidentify applies, as
// reported in sdk.DeidentifyResult.Profile.
const ProfileName = "PS3.15 basic"

// Request parameters of Deidentify.
const (
	// ParamPatientIDPseudonym is the value that replaces Patient ID
	// (0010,0020), such as the hub's pseudonym token for the patient.
	// Without it the attribute is emptied.
	ParamPatientIDPseudonym = "patient_id_pseudonym"
	// ParamPatientNamePseudonym is the value that replaces Patient's Name
	// (0010,0010). Without it the attribute is emptied.
	ParamPatientNamePseudonym = "patient_name_pseudonym"
)

// Code of the Basic Profile in De-identification Method Code Sequence, from
// PS3.16 Annex D (DCM 113100).
const (
	basicProfileCode    = "113100"
	basicProfileMeaning = "Basic Application Confidentiality Profile"
)

// deidentification applies the Basic Profile to one object and records what
// it changed.
type deidentification struct {
	// uids maps each replaced UID to its new UID, so a UID that occurs
	// several times gets the same replacement everywhere.
	uids map[string]string
	// pseudonyms replaces the Z action's empty value for these tags.
	pseudonyms map[tag.Tag]string
	actions    []string
}

// deidentifyObject returns the de-identified object, encoded as a Part 10
// file in the object's transfer syntax, and the actions applied.
func deidentifyObject(obj *object, params map[string]string, version string) ([]byte, []string, error) {
	if strings.EqualFold(obj.text(tag.BurnedInAnnotation), "YES") {
		return nil, nil, sdk.Errorf(sdk.CodeNotSupported, "de-identify: the object has burned-in annotation (0028,0301 is YES), which may show identifying text in the pixels; removing it (the Clean Pixel Data Option) is not supported")
	}
	sopClass, err := obj.requiredUID(tag.SOPClassUID, "SOPClassUID")
	if err != nil {
		return nil, nil, err
	}
	sopInstance, err := obj.requiredUID(tag.SOPInstanceUID, "SOPInstanceUID")
	if err != nil {
		return nil, nil, err
	}
	d, err := newDeidentification(params)
	if err != nil {
		return nil, nil, err
	}

	var body []*dicom.Element
	for _, e := range obj.dataset.Elements {
		if e.Tag.Group != 0x0002 {
			body = append(body, e)
		}
	}
	body, err = d.elements(body, "")
	if err != nil {
		return nil, nil, err
	}
	body = append(body, d.markers(version)...)
	slices.SortStableFunc(body, func(a, b *dicom.Element) int { return compareTags(a.Tag, b.Tag) })

	newInstance, err := d.uid(sopInstance)
	if err != nil {
		return nil, nil, err
	}
	meta := fileMeta(sopClass, newInstance, obj.syntax.UID, version)
	d.actions = append([]string{"File Meta Information (0002,xxxx) and preamble: replaced with this provider's"}, d.actions...)

	var out bytes.Buffer
	ds := dicom.Dataset{Elements: append(meta, body...)}
	if err := dicom.Write(&out, ds, dicom.SkipVRVerification()); err != nil {
		return nil, nil, sdk.Invalidf("", "de-identify: the de-identified object cannot be encoded, because the original has a value that does not match its VR: %v", err)
	}
	return out.Bytes(), d.actions, nil
}

func newDeidentification(params map[string]string) (*deidentification, error) {
	d := &deidentification{uids: map[string]string{}, pseudonyms: map[tag.Tag]string{}}
	pseudonyms := []struct {
		param string
		tag   tag.Tag
	}{
		{ParamPatientIDPseudonym, tag.PatientID},
		{ParamPatientNamePseudonym, tag.PatientName},
	}
	for _, p := range pseudonyms {
		value, ok := params[p.param]
		if !ok {
			continue
		}
		if value == "" || len(value) > 64 || strings.ContainsAny(value, "\\\r\n\x00") {
			return nil, sdk.Invalidf("/parameters/"+p.param, "de-identify: %s must be 1 to 64 characters without backslashes or line breaks", p.param)
		}
		d.pseudonyms[p.tag] = value
	}
	return d, nil
}

// elements de-identifies the elements of one data set. path prefixes the
// recorded actions with the sequence items that contain the data set.
func (d *deidentification) elements(in []*dicom.Element, path string) ([]*dicom.Element, error) {
	out := make([]*dicom.Element, 0, len(in))
	for _, e := range in {
		kept, err := d.element(e, path)
		if err != nil {
			return nil, err
		}
		if kept != nil {
			out = append(out, kept)
		}
	}
	return out, nil
}

// replacedMarkers are the attributes that state the de-identification.
// Any found in the object are dropped, and markers adds them anew.
var replacedMarkers = map[tag.Tag]bool{
	tag.PatientIdentityRemoved:             true,
	tag.DeidentificationMethod:             true,
	tag.DeidentificationMethodCodeSequence: true,
}

// element de-identifies one element and returns what replaces it, or nil
// when it is removed.
func (d *deidentification) element(e *dicom.Element, path string) (*dicom.Element, error) {
	// Group lengths would be wrong after the changes, and are retired
	// outside the File Meta Information.
	if e.Tag.Element == 0x0000 || replacedMarkers[e.Tag] {
		return nil, nil
	}
	isSequence := e.Value != nil && e.Value.ValueType() == dicom.Sequences
	action, listed := profileActionFor(e.Tag)
	switch {
	case listed:
	case isDateOrTime(e.RawValueRepresentation):
		// Note 4 of PS3.15 Annex E suggests handling dates and times by
		// VR, since the table lags behind the attributes the standard
		// adds. Those it does not list get a dummy.
		action = actionDummy
	default:
		action = actionKeep
	}
	name := path + formatTag(e.Tag) + " " + keyword(e.Tag)

	switch action.resolve(isSequence) {
	case actionRemove:
		d.record(name, "removed")
		return nil, nil
	case actionZero:
		return d.zero(e, name, isSequence)
	case actionDummy:
		return d.dummy(e, name, isSequence)
	case actionUID:
		return d.replaceUIDs(e, name)
	default:
		if isSequence {
			return d.sequence(e, path)
		}
		return e, nil
	}
}

func (d *deidentification) zero(e *dicom.Element, name string, isSequence bool) (*dicom.Element, error) {
	if pseudonym, ok := d.pseudonyms[e.Tag]; ok {
		d.record(name, "replaced with the pseudonym from the request")
		return withValue(e, []string{pseudonym})
	}
	d.record(name, "emptied")
	if isSequence {
		return withValue(e, [][]*dicom.Element{})
	}
	return withValue(e, emptyValue(e.RawValueRepresentation))
}

func (d *deidentification) dummy(e *dicom.Element, name string, isSequence bool) (*dicom.Element, error) {
	switch {
	case isSequence:
		d.record(name, "replaced with one empty item")
		return withValue(e, [][]*dicom.Element{{}})
	case e.RawValueRepresentation == "UI":
		return d.replaceUIDs(e, name)
	default:
		d.record(name, "replaced with a dummy value")
		return withValue(e, dummyValue(e.RawValueRepresentation))
	}
}

// replaceUIDs replaces each UID value with its new UID. An element whose
// value is not a list of strings cannot hold UIDs and is removed.
func (d *deidentification) replaceUIDs(e *dicom.Element, name string) (*dicom.Element, error) {
	if e.Value == nil || e.Value.ValueType() != dicom.Strings {
		d.record(name, "removed")
		return nil, nil
	}
	old := elementTexts(e)
	replaced := make([]string, len(old))
	for i, value := range old {
		if value == "" {
			continue
		}
		newUID, err := d.uid(value)
		if err != nil {
			return nil, err
		}
		replaced[i] = newUID
	}
	d.record(name, "replaced with a new UID")
	return withValue(e, replaced)
}

// sequence de-identifies every item of a kept sequence.
func (d *deidentification) sequence(e *dicom.Element, path string) (*dicom.Element, error) {
	items := e.Value.GetValue().([]*dicom.SequenceItemValue)
	cleaned := make([][]*dicom.Element, len(items))
	for i, item := range items {
		itemPath := fmt.Sprintf("%s%s[%d]>", path, formatTag(e.Tag), i)
		elements, err := d.elements(item.GetValue().([]*dicom.Element), itemPath)
		if err != nil {
			return nil, err
		}
		cleaned[i] = elements
	}
	return withValue(e, cleaned)
}

// uid returns the replacement of old, making one on first use.
func (d *deidentification) uid(old string) (string, error) {
	if replacement, ok := d.uids[old]; ok {
		return replacement, nil
	}
	replacement, err := newUID()
	if err != nil {
		return "", err
	}
	d.uids[old] = replacement
	return replacement, nil
}

// newUID returns a UID under the root 2.25 from a random version 4 UUID, as
// PS3.5 Annex B.2 describes.
func newUID() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", fmt.Errorf("de-identify: generate a UID: %w", err)
	}
	u[6] = u[6]&0x0F | 0x40 // version 4
	u[8] = u[8]&0x3F | 0x80 // RFC 4122 variant
	return "2.25." + new(big.Int).SetBytes(u[:]).String(), nil
}

func (d *deidentification) record(name, what string) {
	d.actions = append(d.actions, name+": "+what)
}

// markers returns the attributes that state the de-identification: Patient
// Identity Removed YES, the method, and the Basic Profile code.
func (d *deidentification) markers(version string) []*dicom.Element {
	method := basicProfileMeaning + " (HealthHub " + version + ")"
	code := [][]*dicom.Element{{
		newElement(tag.CodeValue, "SH", []string{basicProfileCode}),
		newElement(tag.CodingSchemeDesignator, "SH", []string{"DCM"}),
		newElement(tag.CodeMeaning, "LO", []string{basicProfileMeaning}),
	}}
	d.record(formatTag(tag.PatientIdentityRemoved)+" PatientIdentityRemoved", "set to YES")
	d.record(formatTag(tag.DeidentificationMethod)+" DeidentificationMethod", "set")
	d.record(formatTag(tag.DeidentificationMethodCodeSequence)+" DeidentificationMethodCodeSequence", "set to (113100, DCM)")
	return []*dicom.Element{
		newElement(tag.PatientIdentityRemoved, "CS", []string{"YES"}),
		newElement(tag.DeidentificationMethod, "LO", []string{method}),
		newElement(tag.DeidentificationMethodCodeSequence, "SQ", code),
	}
}

// fileMeta returns File Meta Information that describes this provider as
// the writer of the de-identified object.
func fileMeta(sopClass, sopInstance, transferSyntax, version string) []*dicom.Element {
	return []*dicom.Element{
		newElement(tag.FileMetaInformationVersion, "OB", []byte{0, 1}),
		newElement(tag.MediaStorageSOPClassUID, "UI", []string{sopClass}),
		newElement(tag.MediaStorageSOPInstanceUID, "UI", []string{sopInstance}),
		newElement(tag.TransferSyntaxUID, "UI", []string{transferSyntax}),
		newElement(tag.ImplementationClassUID, "UI", []string{implementationClassUID}),
		newElement(tag.ImplementationVersionName, "SH", []string{"HEALTHHUB " + version}),
	}
}

// newElement builds an element from a value that dicom.NewValue accepts.
// The values here are fixed by this package, so an error is a bug.
func newElement(t tag.Tag, vr string, data any) *dicom.Element {
	value, err := dicom.NewValue(data)
	if err != nil {
		panic(fmt.Sprintf("dicomreader: element %s: %v", formatTag(t), err))
	}
	length := uint32(0)
	if vr == "SQ" {
		length = undefinedLength
	}
	return &dicom.Element{Tag: t, ValueRepresentation: tag.GetVRKind(t, vr), RawValueRepresentation: vr, ValueLength: length, Value: value}
}

// withValue returns a copy of e with a new value.
func withValue(e *dicom.Element, data any) (*dicom.Element, error) {
	value, err := dicom.NewValue(data)
	if err != nil {
		return nil, fmt.Errorf("de-identify: replace %s: %w", formatTag(e.Tag), err)
	}
	length := uint32(0)
	if value.ValueType() == dicom.Sequences {
		length = undefinedLength
	}
	return &dicom.Element{
		Tag:                    e.Tag,
		ValueRepresentation:    e.ValueRepresentation,
		RawValueRepresentation: e.RawValueRepresentation,
		ValueLength:            length,
		Value:                  value,
	}, nil
}

// keyword returns the dictionary keyword of a tag, "private" for a private
// attribute, or "" for one the dictionary does not know.
func keyword(t tag.Tag) string {
	if t.Group%2 == 1 {
		return "private"
	}
	if info, err := tag.Find(t); err == nil {
		return info.Keyword
	}
	return ""
}

func isDateOrTime(vr string) bool {
	return vr == "DA" || vr == "DT" || vr == "TM"
}

func compareTags(a, b tag.Tag) int {
	if c := cmp.Compare(a.Group, b.Group); c != 0 {
		return c
	}
	return cmp.Compare(a.Element, b.Element)
}
