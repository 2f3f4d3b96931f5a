package store

import (
	"encoding/json"
	"testing"
	"time"
)

var timeZero = time.Unix(0, 0)

// FuzzPrepare feeds arbitrary bytes to the resource path: it must return an
// error or a scan whose spans lie inside the input, never panic.
func FuzzPrepare(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Patient","id":"a","meta":{"versionId":"1"},"subject":{"reference":"urn:uuid:1"}}`))
	f.Add([]byte(`{"resourceType":"Binary","data":"aGVsbG8="}`))
	f.Add([]byte(`{"a":[[[{"b":"\"\\"}]]]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := prepare(raw)
		if err != nil {
			return
		}
		sc := p.scan
		for _, r := range sc.refs {
			if r.value.start < 0 || r.value.end > len(raw) || r.value.start >= r.value.end {
				t.Fatalf("reference span %v outside the input of %d bytes", r.value, len(raw))
			}
		}
		body, _, err := splice(raw, identityEdits(sc, "x", 1, timeZero))
		if err == nil && !json.Valid(body) {
			t.Fatalf("setting id and meta made invalid JSON: %s", body)
		}
	})
}

// FuzzDecodeBundle feeds arbitrary bytes to the Bundle decoder.
func FuzzDecodeBundle(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]}`))
	f.Add([]byte(`{"entry":[{}, {"resource":[1,2,{"x":"]"}]}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := decodeBundle(raw)
		if err != nil {
			return
		}
		for _, e := range b.Entry {
			if len(e.Resource) > len(raw) {
				t.Fatalf("entry resource longer than the input")
			}
		}
	})
}
