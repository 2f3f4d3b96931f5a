package dicomreader

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/dcmtime"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/healthhub/healthhub/sdk"
)

// Code systems of the FHIR resources.
const (
	systemDICOMUID = "urn:dicom:uid"
	systemDCM      = "http://dicom.nema.org/resources/ontology/DCM"
	systemRFC3986  = "urn:ietf:rfc:3986"
	systemSNOMED   = "http://snomed.info/sct"
	systemLOINC    = "http://loinc.org"
	systemV2_0203  = "http://terminology.hl7.org/CodeSystem/v2-0203"
)

// FHIR R4 data types, with the elements this package fills.
type (
	coding struct {
		System  string `json:"system,omitempty"`
		Code    string `json:"code,omitempty"`
		Display string `json:"display,omitempty"`
	}
	codeableConcept struct {
		Coding []coding `json:"coding,omitempty"`
		Text   string   `json:"text,omitempty"`
	}
	identifier struct {
		Type   *codeableConcept `json:"type,omitempty"`
		System string           `json:"system,omitempty"`
		Value  string           `json:"value"`
	}
	reference struct {
		Reference string `json:"reference"`
	}
	imagingStudy struct {
		ResourceType      string        `json:"resourceType"`
		Identifier        []identifier  `json:"identifier"`
		Status            string        `json:"status"`
		Modality          []coding      `json:"modality"`
		Subject           reference     `json:"subject"`
		Started           string        `json:"started,omitempty"`
		NumberOfSeries    int           `json:"numberOfSeries"`
		NumberOfInstances int           `json:"numberOfInstances"`
		Series            []studySeries `json:"series"`
	}
	studySeries struct {
		UID               string          `json:"uid"`
		Number            *int            `json:"number,omitempty"`
		Modality          coding          `json:"modality"`
		NumberOfInstances int             `json:"numberOfInstances"`
		BodySite          *coding         `json:"bodySite,omitempty"`
		Started           string          `json:"started,omitempty"`
		Instance          []studyInstance `json:"instance"`
	}
	studyInstance struct {
		UID      string `json:"uid"`
		SOPClass coding `json:"sopClass"`
		Number   *int   `json:"number,omitempty"`
	}
)

// imagingStudyJSON maps the object's study, series and instance attributes
// to a FHIR R4 ImagingStudy with one series and one instance. subject is
// the FHIR reference to the patient. zone is the time zone of times
// without a TimezoneOffsetFromUTC, or nil.
func imagingStudyJSON(obj *object, subject string, zone *time.Location) (json.RawMessage, error) {
	studyUID, err := obj.requiredUID(tag.StudyInstanceUID, "StudyInstanceUID")
	if err != nil {
		return nil, err
	}
	seriesUID, err := obj.requiredUID(tag.SeriesInstanceUID, "SeriesInstanceUID")
	if err != nil {
		return nil, err
	}
	instanceUID, err := obj.requiredUID(tag.SOPInstanceUID, "SOPInstanceUID")
	if err != nil {
		return nil, err
	}
	sopClass, err := obj.requiredUID(tag.SOPClassUID, "SOPClassUID")
	if err != nil {
		return nil, err
	}

	modality := modalityCoding(obj.text(tag.Modality))
	zone = objectZone(obj, zone)
	study := imagingStudy{
		ResourceType:      "ImagingStudy",
		Identifier:        studyIdentifiers(obj, studyUID),
		Status:            "available",
		Modality:          []coding{modality},
		Subject:           reference{Reference: subject},
		Started:           fhirDateTime(obj.text(tag.StudyDate), obj.text(tag.StudyTime), zone),
		NumberOfSeries:    1,
		NumberOfInstances: 1,
		Series: []studySeries{{
			UID:               seriesUID,
			Number:            nonNegative(obj.integer(tag.SeriesNumber)),
			Modality:          modality,
			NumberOfInstances: 1,
			BodySite:          bodySite(obj),
			Started:           fhirDateTime(obj.text(tag.SeriesDate), obj.text(tag.SeriesTime), zone),
			Instance: []studyInstance{{
				UID:      instanceUID,
				SOPClass: coding{System: systemRFC3986, Code: "urn:oid:" + sopClass},
				Number:   nonNegative(obj.integer(tag.InstanceNumber)),
			}},
		}},
	}
	return json.Marshal(study)
}

// studyIdentifiers returns the Study Instance UID as an urn:oid identifier,
// and the accession number when the object has one.
func studyIdentifiers(obj *object, studyUID string) []identifier {
	ids := []identifier{{System: systemDICOMUID, Value: "urn:oid:" + studyUID}}
	if accession := obj.text(tag.AccessionNumber); accession != "" {
		ids = append(ids, identifier{
			Type:  &codeableConcept{Coding: []coding{{System: systemV2_0203, Code: "ACSN"}}},
			Value: accession,
		})
	}
	return ids
}

// modalityCoding returns the DICOM modality code. An object without
// Modality, which its IOD requires, gets OT (other).
func modalityCoding(modality string) coding {
	if modality == "" {
		return coding{System: systemDCM, Code: "OT", Display: "Other"}
	}
	return coding{System: systemDCM, Code: modality}
}

// bodySite returns the first code of Anatomic Region Sequence, or the
// Body Part Examined term as display text, or nil.
func bodySite(obj *object) *coding {
	if e := obj.element(tag.AnatomicRegionSequence); e != nil && e.Value.ValueType() == dicom.Sequences {
		items := e.Value.GetValue().([]*dicom.SequenceItemValue)
		if len(items) > 0 {
			item := &object{dataset: dicom.Dataset{Elements: items[0].GetValue().([]*dicom.Element)}}
			code := coding{
				System:  codingSystem(item.text(tag.CodingSchemeDesignator)),
				Code:    item.text(tag.CodeValue),
				Display: item.text(tag.CodeMeaning),
			}
			if code.Code != "" && code.System != "" {
				return &code
			}
		}
	}
	if part := obj.text(tag.BodyPartExamined); part != "" {
		return &coding{Display: part}
	}
	return nil
}

// codingSystem maps a DICOM coding scheme designator to its FHIR system,
// or "" for one without a FHIR URI here.
func codingSystem(designator string) string {
	switch designator {
	case "SCT":
		return systemSNOMED
	case "DCM":
		return systemDCM
	case "LN":
		return systemLOINC
	}
	return ""
}

func nonNegative(n int, ok bool) *int {
	if !ok || n < 0 {
		return nil
	}
	return &n
}

// objectZone returns the zone of the object's Timezone Offset From UTC
// (0008,0201), such as "-0500", or fallback.
func objectZone(obj *object, fallback *time.Location) *time.Location {
	offset := obj.text(tag.TimezoneOffsetFromUTC)
	if len(offset) != 5 || (offset[0] != '+' && offset[0] != '-') {
		return fallback
	}
	hours, errH := strconv.Atoi(offset[1:3])
	minutes, errM := strconv.Atoi(offset[3:5])
	if errH != nil || errM != nil || hours > 14 || minutes > 59 {
		return fallback
	}
	seconds := (hours*60 + minutes) * 60
	if offset[0] == '-' {
		seconds = -seconds
	}
	return time.FixedZone(offset, seconds)
}

// fhirDateTime combines a DICOM date (DA) and time (TM) into a FHIR
// dateTime. FHIR requires a zone with a time, so without zone only the
// date is returned. It returns "" when the date does not parse.
func fhirDateTime(da, tm string, zone *time.Location) string {
	date, err := dcmtime.ParseDate(da)
	if err != nil {
		return ""
	}
	day := date.Time.Format("2006-01-02")
	switch date.Precision {
	case dcmtime.PrecisionYear:
		return day[:4]
	case dcmtime.PrecisionMonth:
		return day[:7]
	}
	if zone == nil || tm == "" {
		return day
	}
	clock, err := dcmtime.ParseTime(tm)
	if err != nil {
		return day
	}

	t := clock.Time
	local := time.Date(date.Time.Year(), date.Time.Month(), date.Time.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), zone)
	layout := "2006-01-02T15:04:05"
	if t.Nanosecond() != 0 {
		layout += ".000"
	}
	return local.Format(layout + "-07:00")
}

// checkSubject checks the FHIR reference the ImagingStudy's subject takes.
func checkSubject(subject string) error {
	if subject == "" {
		return sdk.Invalidf("/subject", "read study: subject is empty; set it to the patient's FHIR reference, such as Patient/123")
	}
	if strings.ContainsAny(subject, " \t\r\n") {
		return sdk.Invalidf("/subject", "read study: subject %q is not a FHIR reference; use the form Patient/123", subject)
	}
	return nil
}

// String returns the coding as "system|code", for test failures.
func (c coding) String() string { return fmt.Sprintf("%s|%s", c.System, c.Code) }
