package api

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// bundleLink is a Bundle.link: a relation such as "self" or "next" and its
// URL.
type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

// bundleEntry is one entry of a Bundle the hub writes. Resource is raw JSON
// as stored, or nil for a deleted version in a history.
type bundleEntry struct {
	FullURL  string
	Resource []byte
	// SearchMode is "match" for search results; empty outside a searchset.
	SearchMode string
	Request    *bundleRequest
	Response   *bundleResponse
}

type bundleRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

type bundleResponse struct {
	Status       string `json:"status"`
	Location     string `json:"location,omitempty"`
	Etag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
}

// marshalBundle writes a Bundle of bundleType. Resources are copied into the
// output as they are, without decoding, because they come from the store as
// valid JSON and decoding them again would cost more than the rest of the
// response. total is written when it is not negative.
func marshalBundle(bundleType string, total int, links []bundleLink, entries []bundleEntry) []byte {
	size := 256
	for _, entry := range entries {
		size += len(entry.Resource) + 256
	}
	b := bytes.NewBuffer(make([]byte, 0, size))
	b.WriteString(`{"resourceType":"Bundle","type":`)
	writeJSONString(b, bundleType)
	if total >= 0 {
		b.WriteString(`,"total":`)
		b.WriteString(strconv.Itoa(total))
	}
	if len(links) > 0 {
		b.WriteString(`,"link":`)
		writeJSONValue(b, links)
	}
	b.WriteString(`,"entry":[`)
	for i, entry := range entries {
		if i > 0 {
			b.WriteByte(',')
		}
		writeEntry(b, entry)
	}
	b.WriteString("]}")
	return b.Bytes()
}

func writeEntry(b *bytes.Buffer, entry bundleEntry) {
	b.WriteString(`{"fullUrl":`)
	writeJSONString(b, entry.FullURL)
	if entry.Resource != nil {
		b.WriteString(`,"resource":`)
		b.Write(entry.Resource)
	}
	if entry.SearchMode != "" {
		b.WriteString(`,"search":{"mode":`)
		writeJSONString(b, entry.SearchMode)
		b.WriteByte('}')
	}
	if entry.Request != nil {
		b.WriteString(`,"request":`)
		writeJSONValue(b, entry.Request)
	}
	if entry.Response != nil {
		b.WriteString(`,"response":`)
		writeJSONValue(b, entry.Response)
	}
	b.WriteByte('}')
}

func writeJSONString(b *bytes.Buffer, s string) { writeJSONValue(b, s) }

// writeJSONValue encodes values the hub builds itself (strings and small
// structs of strings), whose encoding cannot fail.
func writeJSONValue(b *bytes.Buffer, v any) {
	data, err := marshalJSON(v)
	if err != nil {
		panic("api: encode " + err.Error())
	}
	b.Write(data)
}

// baseURL returns the hub's external base URL: server.base_url, or the
// scheme and Host of the request.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.Server.BaseURL != "" {
		return strings.TrimRight(s.cfg.Server.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// pageLinks returns the self link of a search and, when next is not empty,
// the link to the following page: the same query with _cursor set to next.
func pageLinks(base string, r *http.Request, next string) []bundleLink {
	self := base + r.URL.Path
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	links := []bundleLink{{Relation: "self", URL: self}}
	if next != "" {
		query := r.URL.Query()
		query.Set("_cursor", next)
		links = append(links, bundleLink{Relation: "next", URL: base + r.URL.Path + "?" + query.Encode()})
	}
	return links
}

// fhirInstant formats t as a FHIR instant in UTC with milliseconds.
func fhirInstant(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// resourceURL returns base/fhir/Type/id, the fullUrl of a resource.
func resourceURL(base, resourceType, id string) string {
	return base + "/fhir/" + url.PathEscape(resourceType) + "/" + url.PathEscape(id)
}
