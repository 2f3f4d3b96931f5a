package store

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/healthhub/healthhub/sdk"
)

// checkEntry checks one Bundle entry and turns it into a write or a read.
func checkEntry(i int, e entryJSON) (*bundleEntry, error) {
	fail := func(path string, code sdk.IssueCode, format string, args ...any) error {
		o := sdk.Errorf(code, "entry %d: "+format, append([]any{i}, args...)...)
		o.Issues[0].Path = fmt.Sprintf("/entry/%d%s", i, path)
		return o
	}
	if e.Request == nil {
		return nil, fail("/request", sdk.CodeRequired, "missing request: add request.method and request.url")
	}
	method := strings.ToUpper(e.Request.Method)
	target := strings.TrimPrefix(e.Request.URL, "/")
	be := &bundleEntry{index: i, fullURL: e.FullURL}

	switch method {
	case "POST":
		p, err := entryResource(i, e, fail)
		if err != nil {
			return nil, err
		}
		if target != p.scan.resourceType {
			return nil, fail("/request/url", sdk.CodeInvalid, "POST url %q does not name the resource type %s: use %q", e.Request.URL, p.scan.resourceType, p.scan.resourceType)
		}
		be.write = &writeOp{entry: i, kind: opCreate, resourceType: p.scan.resourceType, id: newID(), res: p}
		be.ifNoneExist = e.Request.IfNoneExist
	case "PUT", "DELETE":
		resourceType, id, err := instanceURL(target)
		if err != nil {
			return nil, fail("/request/url", sdk.CodeNotSupported, "%s url %q: %v", method, e.Request.URL, err)
		}
		be.write = &writeOp{entry: i, kind: opDelete, resourceType: resourceType, id: id, ifMatch: e.Request.IfMatch}
		if method == "PUT" {
			p, err := entryResource(i, e, fail)
			if err != nil {
				return nil, err
			}
			if err := checkBodyIdentity("update "+describe(resourceType, id), p, resourceType, id); err != nil {
				return nil, entryError(i, err)
			}
			be.write.kind, be.write.res = opUpdate, p
		}
	case "GET":
		read, err := readURL(target)
		if err != nil {
			return nil, fail("/request/url", sdk.CodeNotSupported, "GET url %q: %v", e.Request.URL, err)
		}
		be.read = read
	default:
		return nil, fail("/request/method", sdk.CodeNotSupported, "method %q is not supported: use POST, PUT, DELETE or GET", e.Request.Method)
	}
	return be, nil
}

func entryResource(i int, e entryJSON, fail func(string, sdk.IssueCode, string, ...any) error) (*prepared, error) {
	if len(e.Resource) == 0 {
		return nil, fail("/resource", sdk.CodeRequired, "missing resource: add the resource to write")
	}
	p, err := prepare(e.Resource)
	if err != nil {
		o := sdk.AsOutcome(err)
		issues := make([]sdk.Issue, len(o.Issues))
		for n, issue := range o.Issues {
			issue.Path = fmt.Sprintf("/entry/%d/resource%s", i, issue.Path)
			issue.Diagnostics = fmt.Sprintf("entry %d: %s", i, issue.Diagnostics)
			issues[n] = issue
		}
		return nil, sdk.NewOutcome(issues...)
	}
	return p, nil
}

// instanceURL splits "Type/id". Conditional forms (Type?search) are not
// supported for PUT and DELETE.
func instanceURL(target string) (string, string, error) {
	if strings.Contains(target, "?") {
		return "", "", fmt.Errorf("conditional update and delete are not supported: address the resource as Type/id")
	}
	resourceType, id, ok := strings.Cut(target, "/")
	if !ok || !validType(resourceType) || !validID(id) {
		return "", "", fmt.Errorf("expected Type/id, such as Patient/123")
	}
	return resourceType, id, nil
}

// readURL accepts Type/id, Type/id/_history/version and Type?search.
func readURL(target string) (*readRequest, error) {
	if resourceType, query, ok := strings.Cut(target, "?"); ok {
		if !validType(resourceType) {
			return nil, fmt.Errorf("expected Type?search, such as Observation?patient=123")
		}
		params, err := url.ParseQuery(query)
		if err != nil {
			return nil, fmt.Errorf("invalid search: %v", err)
		}
		return &readRequest{resourceType: resourceType, search: params}, nil
	}
	parts := strings.Split(target, "/")
	switch {
	case len(parts) == 2 && validType(parts[0]) && validID(parts[1]):
		return &readRequest{resourceType: parts[0], id: parts[1]}, nil
	case len(parts) == 4 && validType(parts[0]) && validID(parts[1]) && parts[2] == "_history" && parts[3] != "":
		return &readRequest{resourceType: parts[0], id: parts[1], version: parts[3]}, nil
	}
	return nil, fmt.Errorf("expected Type/id or Type/id/_history/version")
}

// checkDuplicates rejects a transaction that writes one resource twice,
// which FHIR forbids because the result would depend on entry order.
func checkDuplicates(entries []*bundleEntry) error {
	seen := map[string]int{}
	for _, e := range entries {
		if e.write == nil || e.write.kind == opCreate {
			continue
		}
		key := e.write.describe()
		if first, ok := seen[key]; ok {
			o := sdk.Invalidf(fmt.Sprintf("/entry/%d/request/url", e.index), "entry %d: %s is also written by entry %d: write each resource once per transaction", e.index, key, first)
			return o
		}
		seen[key] = e.index
	}
	return nil
}
