package dicomreader

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/healthhub/healthhub/sdk"
)

func TestReadStudyTestdataFiles(t *testing.T) {
	tests := []struct {
		file                              string
		study, series, instance, sopClass string
		modality, started                 string
		series1, instance1                int
		previewWidth, previewHeight       int
	}{
		{
			file:     "CT_small.dcm",
			study:    "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322",
			series:   "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322",
			instance: "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322",
			sopClass: "1.2.840.10008.5.1.4.1.1.2",
			modality: "CT", started: "2004-01-19T07:27:30-05:00",
			series1: 1, instance1: 1, previewWidth: 128, previewHeight: 128,
		},
		{
			file:     "MR_small.dcm",
			study:    "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457",
			series:   "1.3.6.1.4.1.5962.1.3.4.1.20040826185059.5457",
			instance: "1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457",
			sopClass: "1.2.840.10008.5.1.4.1.1.4",
			modality: "MR", started: "2004-08-26T18:50:59-04:00",
			series1: 1, instance1: 1, previewWidth: 64, previewHeight: 64,
		},
		{
			file:     "MR_small_implicit.dcm",
			study:    "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457",
			series:   "1.3.6.1.4.1.5962.1.3.4.1.20040826185059.5457",
			instance: "1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457",
			sopClass: "1.2.840.10008.5.1.4.1.1.4",
			modality: "MR", started: "2004-08-26T18:50:59-04:00",
			series1: 1, instance1: 1, previewWidth: 64, previewHeight: 64,
		},
		{
			// No preamble, no File Meta, no pixel data: an RT Plan.
			file:     "ExplVR_LitEndNoMeta.dcm",
			study:    "1.2.333.4444.5.6.7.8.9",
			series:   "1.2.333.4444.5.6.7.8.99",
			instance: "1.2.333.4444.5.6.7.8",
			sopClass: "1.2.840.10008.5.1.4.1.1.481.8",
			modality: "RTPLAN", started: "2015-05-15",
			series1: 1, instance1: 1,
		},
	}
	reader := &Reader{}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data := readTestFile(t, tc.file)
			result, err := readStudy(t, reader, data, nil)
			require.NoError(t, err)
			s := studyOf(t, result)

			assert.Equal(t, "ImagingStudy", s.ResourceType)
			assert.Equal(t, "available", s.Status)
			assert.Equal(t, []identifier{{System: "urn:dicom:uid", Value: "urn:oid:" + tc.study}}, s.Identifier)
			assert.Equal(t, "Patient/example", s.Subject.Reference)
			assert.Equal(t, tc.started, s.Started)
			assert.Equal(t, []coding{{System: systemDCM, Code: tc.modality}}, s.Modality)
			assert.Equal(t, 1, s.NumberOfSeries)
			assert.Equal(t, 1, s.NumberOfInstances)

			require.Len(t, s.Series, 1)
			series := s.Series[0]
			assert.Equal(t, tc.series, series.UID)
			require.NotNil(t, series.Number)
			assert.Equal(t, tc.series1, *series.Number)
			assert.Equal(t, coding{System: systemDCM, Code: tc.modality}, series.Modality)
			assert.Equal(t, 1, series.NumberOfInstances)
			require.Len(t, series.Instance, 1)
			assert.Equal(t, tc.instance, series.Instance[0].UID)
			assert.Equal(t, coding{System: "urn:ietf:rfc:3986", Code: "urn:oid:" + tc.sopClass}, series.Instance[0].SOPClass)
			require.NotNil(t, series.Instance[0].Number)
			assert.Equal(t, tc.instance1, *series.Instance[0].Number)

			if tc.previewWidth == 0 {
				assert.Nil(t, result.Preview)
				return
			}
			img, _ := decodePNG(t, result.Preview)
			assert.Equal(t, tc.previewWidth, img.Bounds().Dx())
			assert.Equal(t, tc.previewHeight, img.Bounds().Dy())
		})
	}
}

func TestReadStudyMatchesLibrary(t *testing.T) {
	// The files with File Meta parse directly with the library; its
	// reading of the UIDs must agree with the ImagingStudy.
	for _, file := range []string{"CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm"} {
		t.Run(file, func(t *testing.T) {
			data := readTestFile(t, file)
			ds := parseWithLibrary(t, data)
			result, err := readStudy(t, &Reader{}, data, nil)
			require.NoError(t, err)
			s := studyOf(t, result)

			assert.Equal(t, "urn:oid:"+libraryText(t, ds, tag.StudyInstanceUID), s.Identifier[0].Value)
			assert.Equal(t, libraryText(t, ds, tag.SeriesInstanceUID), s.Series[0].UID)
			assert.Equal(t, libraryText(t, ds, tag.SOPInstanceUID), s.Series[0].Instance[0].UID)
		})
	}
}

func TestReadStudyNoMetaMatchesExplicitParse(t *testing.T) {
	// The library reads a bare explicit VR data set once File Meta states
	// its syntax, and the normalised object must parse to the same
	// elements.
	data := readTestFile(t, "ExplVR_LitEndNoMeta.dcm")
	normalized, s, err := normalizeObject(data)
	require.NoError(t, err)
	assert.Equal(t, "1.2.840.10008.1.2.1", s.UID)
	assert.True(t, hasPreamble(normalized))

	ds := parseWithLibrary(t, part10(data, "1.2.840.10008.1.2.1"))
	obj, err := parseObject(data)
	require.NoError(t, err)
	for _, tg := range []tag.Tag{tag.SOPInstanceUID, tag.StudyInstanceUID, tag.Modality, tag.RTPlanDate} {
		assert.Equal(t, libraryText(t, ds, tg), obj.text(tg), "element %s", formatTag(tg))
	}
	assert.Equal(t, "1.2.840.10008.5.1.4.1.1.481.8", obj.text(tag.MediaStorageSOPClassUID), "File Meta states the SOP class")
}

func TestReadStudyImplicitBareDataset(t *testing.T) {
	// A bare data set in implicit VR: the first element's length bytes
	// are no VR, so the scanner picks implicit.
	elements := []rawElement{
		text(tag.SOPClassUID, "UI", "1.2.840.10008.5.1.4.1.1.7"),
		text(tag.SOPInstanceUID, "UI", "1.2.3.9"),
		text(tag.Modality, "CS", "OT"),
		text(tag.StudyInstanceUID, "UI", "1.2.3.7"),
		text(tag.SeriesInstanceUID, "UI", "1.2.3.8"),
	}
	result, err := readStudy(t, &Reader{}, encodeDataset(elements, false), nil)
	require.NoError(t, err)
	s := studyOf(t, result)
	assert.Equal(t, "urn:oid:1.2.3.7", s.Identifier[0].Value)
	assert.Equal(t, "1.2.3.9", s.Series[0].Instance[0].UID)
	assert.Nil(t, s.Series[0].Number)
	assert.Empty(t, s.Started)
}

func TestReadStudyTimeZone(t *testing.T) {
	data := syntheticImage(imageSpec{rows: 1, columns: 1, photometric: "MONOCHROME2", pixels: []int16{0}})

	noZone, err := readStudy(t, &Reader{}, data, nil)
	require.NoError(t, err)
	assert.Equal(t, "2024-01-31", studyOf(t, noZone).Started, "a time without a zone is dropped")

	paris, err := New(Config{TimeZone: "Europe/Paris"})
	require.NoError(t, err)
	withZone, err := readStudy(t, paris, data, nil)
	require.NoError(t, err)
	assert.Equal(t, "2024-01-31T10:15:00+01:00", studyOf(t, withZone).Started)
}

func TestReadStudyBodySite(t *testing.T) {
	item := encodeDataset([]rawElement{
		text(tag.CodeValue, "SH", "51185008"),
		text(tag.CodingSchemeDesignator, "SH", "SCT"),
		text(tag.CodeMeaning, "LO", "Thorax"),
	}, true)
	region := append([]byte{0xFE, 0xFF, 0x00, 0xE0}, byteLength(item)...)
	region = append(region, item...)

	tests := []struct {
		name  string
		extra []rawElement
		want  *coding
	}{
		{"none", nil, nil},
		{"body part examined", []rawElement{text(tag.BodyPartExamined, "CS", "CHEST")}, &coding{Display: "CHEST"}},
		{"anatomic region code", []rawElement{
			text(tag.BodyPartExamined, "CS", "CHEST"),
			{tag.AnatomicRegionSequence, "SQ", region},
		}, &coding{System: systemSNOMED, Code: "51185008", Display: "Thorax"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := syntheticImage(imageSpec{rows: 1, columns: 1, photometric: "MONOCHROME2", pixels: []int16{0}, extra: tc.extra})
			result, err := readStudy(t, &Reader{}, data, nil)
			require.NoError(t, err)
			assert.Equal(t, tc.want, studyOf(t, result).Series[0].BodySite)
		})
	}
}

func byteLength(b []byte) []byte {
	return []byte{byte(len(b)), byte(len(b) >> 8), byte(len(b) >> 16), byte(len(b) >> 24)}
}

func TestReadStudyRejects(t *testing.T) {
	ct := readTestFile(t, "CT_small.dcm")
	small, err := New(Config{MaxObjectBytes: 1000})
	require.NoError(t, err)

	tests := []struct {
		name     string
		reader   *Reader
		req      sdk.ImagingRequest
		sentinel error
		message  string
	}{
		{"no subject", &Reader{}, sdk.ImagingRequest{Object: bytes.NewReader(ct)}, sdk.ErrInvalid, "subject is empty"},
		{"no object", &Reader{}, sdk.ImagingRequest{Subject: "Patient/1"}, sdk.ErrInvalid, "no object"},
		{"png", &Reader{}, sdk.ImagingRequest{Object: bytes.NewReader(ct), Subject: "Patient/1", ContentType: "image/png"}, sdk.ErrNotSupported, `"image/png" is not supported`},
		{"too large", small, sdk.ImagingRequest{Object: bytes.NewReader(ct), Subject: "Patient/1"}, sdk.ErrTooLarge, "max_object_bytes (1000 bytes)"},
		{"not dicom", &Reader{}, sdk.ImagingRequest{Object: strings.NewReader("%PDF-1.7 this is not an image at all"), Subject: "Patient/1"}, sdk.ErrInvalid, "read dicom"},
		{"truncated", &Reader{}, sdk.ImagingRequest{Object: bytes.NewReader(ct[:20000]), Subject: "Patient/1"}, sdk.ErrInvalid, "truncated"},
		{"half window", &Reader{}, sdk.ImagingRequest{Object: bytes.NewReader(ct), Subject: "Patient/1", Parameters: map[string]string{ParamWindowCenter: "40"}}, sdk.ErrInvalid, "set both window_center and window_width"},
		{"bad width", &Reader{}, sdk.ImagingRequest{Object: bytes.NewReader(ct), Subject: "Patient/1", Parameters: map[string]string{ParamWindowCenter: "40", ParamWindowWidth: "0"}}, sdk.ErrInvalid, "window_width"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.reader.ReadStudy(context.Background(), tc.req)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.sentinel)
			assert.Contains(t, err.Error(), tc.message)
		})
	}
}

func TestReadStudyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&Reader{}).ReadStudy(ctx, sdk.ImagingRequest{Object: bytes.NewReader(readTestFile(t, "MR_small.dcm")), Subject: "Patient/1"})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		name, config, path string
		ok                 bool
	}{
		{"null", `null`, "", true},
		{"all settings", `{"max_object_bytes":1048576,"time_zone":"America/New_York"}`, "", true},
		{"unknown setting", `{"colour":"blue"}`, "/colour", false},
		{"wrong type", `{"max_object_bytes":"big"}`, "/max_object_bytes", false},
		{"negative size", `{"max_object_bytes":-1}`, "/max_object_bytes", false},
		{"unknown zone", `{"time_zone":"Mars/Olympus_Mons"}`, "/time_zone", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := (&Reader{}).Configure(context.Background(), json.RawMessage(tc.config))
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, sdk.ErrInvalid)
			var outcome *sdk.Outcome
			require.ErrorAs(t, err, &outcome)
			assert.Equal(t, tc.path, outcome.Issues[0].Path)
		})
	}
}

func TestInfoDeclaresNoEgress(t *testing.T) {
	info := Info()
	assert.False(t, info.DataUse.Egress)
	assert.Zero(t, info.DataUse.RetentionDays)
	assert.True(t, info.HasCapability(sdk.CapabilityStudy))
	assert.True(t, info.HasCapability(sdk.CapabilityDeidentify))
	assert.NoError(t, sdk.Provider{Info: info, ImageAnalyzer: &Reader{}}.Validate())
	assert.NoError(t, (&Reader{}).CheckHealth(context.Background()))
}

func TestReadStudyExplicitBigEndian(t *testing.T) {
	// Explicit VR big endian (retired, still found in old archives): the
	// tags, lengths and 16-bit pixels are big endian.
	var dataset []byte
	add := func(g, e uint16, vr string, value []byte) {
		dataset = binary.BigEndian.AppendUint16(dataset, g)
		dataset = binary.BigEndian.AppendUint16(dataset, e)
		dataset = append(dataset, vr...)
		if vr == "OW" {
			dataset = append(dataset, 0, 0)
			dataset = binary.BigEndian.AppendUint32(dataset, uint32(len(value)))
		} else {
			dataset = binary.BigEndian.AppendUint16(dataset, uint16(len(value)))
		}
		dataset = append(dataset, value...)
	}
	u16 := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
	add(0x0008, 0x0016, "UI", []byte("1.2.840.10008.5.1.4.1.1.7\x00"))
	add(0x0008, 0x0018, "UI", []byte("1.2.3.9\x00"))
	add(0x0008, 0x0060, "CS", []byte("OT"))
	add(0x0020, 0x000D, "UI", []byte("1.2.3.7\x00"))
	add(0x0020, 0x000E, "UI", []byte("1.2.3.8\x00"))
	add(0x0028, 0x0002, "US", u16(1))
	add(0x0028, 0x0004, "CS", []byte("MONOCHROME2 "))
	add(0x0028, 0x0010, "US", u16(1))
	add(0x0028, 0x0011, "US", u16(2))
	add(0x0028, 0x0100, "US", u16(16))
	add(0x0028, 0x0101, "US", u16(16))
	add(0x0028, 0x0102, "US", u16(15))
	add(0x0028, 0x0103, "US", u16(0))
	add(0x7FE0, 0x0010, "OW", []byte{0x01, 0x00, 0x02, 0x00}) // 256 and 512

	result, err := readStudy(t, &Reader{}, part10(dataset, "1.2.840.10008.1.2.2"), nil)
	require.NoError(t, err)
	assert.Equal(t, "urn:oid:1.2.3.7", studyOf(t, result).Identifier[0].Value)
	_, gray := decodePNG(t, result.Preview)
	assert.Equal(t, []uint8{0, 255}, gray, "256 is the minimum and 512 the maximum")
}

// endlessReader returns zeros slowly and never ends.
type endlessReader struct{}

func (endlessReader) Read(p []byte) (int, error) {
	time.Sleep(time.Millisecond)
	n := min(len(p), 512)
	clear(p[:n])
	return n, nil
}

func TestReadStudyCancelDuringUpload(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	object := io.MultiReader(bytes.NewReader(readTestFile(t, "MR_small.dcm")), endlessReader{})
	time.AfterFunc(50*time.Millisecond, cancel)

	_, err := (&Reader{}).ReadStudy(ctx, sdk.ImagingRequest{Object: object, Subject: "Patient/1"})
	assert.ErrorIs(t, err, context.Canceled)
}
