package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "regenerate the companion bundle in testdata/synthea-companion")

const (
	syntheaDir    = "../../testdata/synthea-r4"
	companionPath = "../../testdata/synthea-companion/practitioners-organizations-locations.json"
)

// conditionalTarget is a resource that Synthea bundles reference by a
// conditional reference such as "Practitioner?identifier=system|value":
// practitioners, organizations and locations.
type conditionalTarget struct {
	resourceType string
	system       string
	value        string
	display      string
}

// syntheaBundles lists the Synthea transaction bundles.
func syntheaBundles(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(syntheaDir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	return paths
}

// collectTargets finds every conditional Practitioner, Organization and
// Location reference in the bundles, with the first display name given for
// it.
func collectTargets(t *testing.T, paths []string) []conditionalTarget {
	t.Helper()
	found := map[string]*conditionalTarget{}
	var walk func(any)
	walk = func(node any) {
		switch node := node.(type) {
		case map[string]any:
			if ref, ok := node["reference"].(string); ok {
				addTarget(found, ref, node["display"])
			}
			for _, child := range node {
				walk(child)
			}
		case []any:
			for _, child := range node {
				walk(child)
			}
		}
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		var bundle any
		require.NoError(t, json.Unmarshal(data, &bundle))
		walk(bundle)
	}

	targets := make([]conditionalTarget, 0, len(found))
	for _, target := range found {
		targets = append(targets, *target)
	}
	slices.SortFunc(targets, func(a, b conditionalTarget) int {
		return strings.Compare(a.resourceType+a.value, b.resourceType+b.value)
	})
	return targets
}

func addTarget(found map[string]*conditionalTarget, ref string, display any) {
	resourceType, query, ok := strings.Cut(ref, "?identifier=")
	if !ok || (resourceType != "Practitioner" && resourceType != "Organization" && resourceType != "Location") {
		return
	}
	system, value, ok := strings.Cut(query, "|")
	if !ok {
		return
	}
	target, exists := found[ref]
	if !exists {
		target = &conditionalTarget{resourceType: resourceType, system: system, value: value}
		found[ref] = target
	}
	if name, ok := display.(string); ok && target.display == "" {
		target.display = name
	}
}

// companionBundle builds a transaction Bundle that creates each target
// unless a resource with its identifier exists.
func companionBundle(targets []conditionalTarget) map[string]any {
	entries := make([]any, 0, len(targets))
	for _, target := range targets {
		resource := map[string]any{
			"resourceType": target.resourceType,
			"identifier":   []any{map[string]any{"system": target.system, "value": target.value}},
		}
		switch target.resourceType {
		case "Practitioner":
			resource["active"] = true
			resource["name"] = []any{practitionerName(target.display)}
		case "Organization":
			resource["active"] = true
			resource["name"] = target.display
		case "Location":
			resource["status"] = "active"
			resource["name"] = target.display
		}
		entries = append(entries, map[string]any{
			"fullUrl":  "urn:uuid:" + fmt.Sprintf("00000000-0000-4000-8000-%012d", len(entries)+1),
			"resource": resource,
			"request": map[string]any{
				"method":      "POST",
				"url":         target.resourceType,
				"ifNoneExist": "identifier=" + target.system + "|" + target.value,
			},
		})
	}
	return map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}
}

// practitionerName splits a Synthea display name such as
// "Dr. Alexis664 Bogisich202" into a HumanName.
func practitionerName(display string) map[string]any {
	words := strings.Fields(display)
	name := map[string]any{"use": "official", "text": display}
	if len(words) > 0 && strings.HasSuffix(words[0], ".") {
		name["prefix"] = []any{words[0]}
		words = words[1:]
	}
	if len(words) > 0 {
		name["family"] = words[len(words)-1]
	}
	if len(words) > 1 {
		given := make([]any, 0, len(words)-1)
		for _, word := range words[:len(words)-1] {
			given = append(given, word)
		}
		name["given"] = given
	}
	return name
}

func TestCompanionBundleMatchesSynthea(t *testing.T) {
	targets := collectTargets(t, syntheaBundles(t))
	require.Len(t, targets, 12, "the two bundles reference four practitioners, four organizations and four locations")
	for _, target := range targets {
		assert.NotEmpty(t, target.display, "%s %s has a display name", target.resourceType, target.value)
	}

	generated, err := json.MarshalIndent(companionBundle(targets), "", "  ")
	require.NoError(t, err)
	generated = append(generated, '\n')
	path := companionPath
	if *update {
		require.NoError(t, os.WriteFile(path, generated, 0o644))
	}
	committed, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(generated), string(committed), "run go test ./cmd/hub -run TestCompanionBundle -update")
}

func TestPractitionerName(t *testing.T) {
	assert.Equal(t, map[string]any{
		"use": "official", "text": "Dr. Alexis664 Bogisich202", "prefix": []any{"Dr."}, "family": "Bogisich202", "given": []any{"Alexis664"},
	}, practitionerName("Dr. Alexis664 Bogisich202"))
	assert.Equal(t, map[string]any{"use": "official", "text": "Solo", "family": "Solo"}, practitionerName("Solo"))
}
