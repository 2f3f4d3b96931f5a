package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"

	"github.com/healthhub/healthhub/sdk"
)

var (
	// resourceTypePattern is the form of FHIR resource type names.
	resourceTypePattern = regexp.MustCompile(`^[A-Z][A-Za-z]{0,63}$`)
	// idPattern is the FHIR id datatype: 1 to 64 letters, digits, '-' and
	// '.'.
	idPattern = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
)

// checkID rejects a logical id that is not a FHIR id.
func checkID(id string) error {
	if !idPattern.MatchString(id) {
		return hubError(sdk.CodeInvalid, "id %q is not a FHIR id: use 1 to 64 letters, digits, '-' or '.'", truncate(id, 80))
	}
	return nil
}

// resourceHead is the part of a resource the routes check before
// validation.
type resourceHead struct {
	ResourceType *string `json:"resourceType"`
	ID           *string `json:"id"`
}

// readResource reads a request body that must be a JSON resource of
// resourceType. When id is not empty the body's id must equal it, as FHIR
// requires of an update. Syntax errors name the line and column.
func readResource(r *http.Request, resourceType, id string) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, err
		}
		return nil, hubError(sdk.CodeIncomplete, "read request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, hubError(sdk.CodeRequired, "request body is empty: send a %s resource as JSON", resourceType)
	}

	var head resourceHead
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, syntaxOutcome(body, err)
	}
	switch {
	case head.ResourceType == nil:
		return nil, issueAt(sdk.CodeRequired, "/resourceType", "resourceType", "resource has no resourceType: add \"resourceType\": %q", resourceType)
	case *head.ResourceType != resourceType:
		return nil, issueAt(sdk.CodeInvalid, "/resourceType", "resourceType", "resourceType %q does not match the URL, which names %s", truncate(*head.ResourceType, 80), resourceType)
	}
	if id == "" {
		return body, nil
	}
	switch {
	case head.ID == nil:
		return nil, issueAt(sdk.CodeRequired, "/id", resourceType+".id", "an update needs the id in the resource: add \"id\": %q", id)
	case *head.ID != id:
		return nil, issueAt(sdk.CodeInvalid, "/id", resourceType+".id", "id %q in the resource differs from id %q in the URL", truncate(*head.ID, 80), id)
	}
	return body, nil
}

// syntaxOutcome describes a JSON decoding error with its line and column.
func syntaxOutcome(body []byte, err error) error {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		// The offset counts the offending byte, which is at Offset-1.
		line, column := position(body, syntax.Offset-1)
		return hubError(sdk.CodeStructure, "request body is not valid JSON: %v at line %d, column %d", syntax, line, column)
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field == "" {
			return hubError(sdk.CodeStructure, "request body must be a JSON object, got %s", typeErr.Value)
		}
		return issueAt(sdk.CodeStructure, "/"+typeErr.Field, typeErr.Field, "%s must be a string, got %s", typeErr.Field, typeErr.Value)
	}
	return hubError(sdk.CodeStructure, "request body is not valid JSON: %v", err)
}

// position converts a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (int, int) {
	offset = min(max(offset, 0), int64(len(data)))
	prefix := data[:offset]
	line := bytes.Count(prefix, []byte("\n")) + 1
	column := int(offset) - bytes.LastIndexByte(prefix, '\n')
	return line, column
}

// issueAt returns an outcome with one issue at a JSON Pointer and its
// FHIRPath.
func issueAt(code sdk.IssueCode, path, expression, format string, args ...any) *sdk.Outcome {
	o := hubError(code, format, args...)
	o.Issues[0].Path = path
	o.Issues[0].Expression = expression
	return o
}

// truncate shortens s to at most n bytes for messages, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("%s...", s[:n])
}
