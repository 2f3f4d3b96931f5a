package schema_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/healthhub/healthhub/core/schema"
	"github.com/healthhub/healthhub/sdk"
)

func ExampleValidator_Validate() {
	v, err := schema.New(context.Background(), schema.Config{}, nil)
	if err != nil {
		panic(err)
	}

	err = v.Validate(context.Background(), "Patient", []byte(`{
		"resourceType": "Patient",
		"name": [{"family": "Chalmers", "given": ["Peter", ""]}],
		"birthDate": "1974-13-01"
	}`))

	var outcome *sdk.Outcome
	if errors.As(err, &outcome) {
		for _, issue := range outcome.Issues {
			fmt.Printf("%s %s: %s\n", issue.Code, issue.Path, issue.Diagnostics)
		}
	}
	fmt.Println(errors.Is(err, sdk.ErrInvalid))
	// Output:
	// value /birthDate: "1974-13-01" is not a valid FHIR date: month 13 is out of range 01 to 12; use YYYY, YYYY-MM or YYYY-MM-DD, such as 1974, 1974-12 or 1974-12-25
	// value /name/0/given/1: "" is not a valid FHIR string: it is empty; leave the element out instead of sending an empty string
	// true
}

func ExampleCompileConfig() {
	s, err := schema.CompileConfig("storage-fs", []byte(`{
		"type": "object",
		"properties": {"root": {"type": "string", "minLength": 1}},
		"required": ["root"],
		"additionalProperties": false
	}`))
	if err != nil {
		panic(err)
	}

	err = s.Validate(context.Background(), []byte(`{"roots": "/srv/blobs"}`))
	fmt.Println(err)
	// Output:
	// missing required element "root"; add it (and 1 more issue)
}
