package store

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/healthhub/healthhub/sdk"
)

var (
	// tenantPattern keeps tenant names safe to use in storage keys.
	tenantPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	// typePattern matches FHIR resource type names.
	typePattern = regexp.MustCompile(`^[A-Z][A-Za-z]{0,63}$`)
	// idPattern is the FHIR id type.
	idPattern = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
)

func validType(s string) bool { return typePattern.MatchString(s) }
func validID(s string) bool   { return idPattern.MatchString(s) }

func checkTenant(op, tenant string) error {
	if !tenantPattern.MatchString(tenant) {
		return sdk.Errorf(sdk.CodeValue, "%s: invalid tenant %q: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", op, tenant)
	}
	return nil
}

func checkType(op, resourceType string) error {
	if !validType(resourceType) {
		return sdk.Errorf(sdk.CodeValue, "%s: invalid resource type %q: use a FHIR resource type name such as Patient", op, resourceType)
	}
	return nil
}

func checkID(op, id string) error {
	if !validID(id) {
		return sdk.Errorf(sdk.CodeValue, "%s: invalid id %q: use 1 to 64 letters, digits, '-' or '.'", op, id)
	}
	return nil
}

func checkTarget(op, tenant, resourceType, id string) error {
	if err := checkTenant(op, tenant); err != nil {
		return err
	}
	if err := checkType(op, resourceType); err != nil {
		return err
	}
	return checkID(op, id)
}

// parseVersion reads a version id from an ETag (W/"3"), a quoted or a bare
// number.
func parseVersion(op, s string) (int64, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "W/")
	t = strings.Trim(t, `"`)
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v < 1 {
		return 0, sdk.Errorf(sdk.CodeValue, "%s: invalid version %q: use a version id such as 3 or an ETag such as W/\"3\"", op, s)
	}
	return v, nil
}

func describe(resourceType, id string) string { return fmt.Sprintf("%s/%s", resourceType, id) }
