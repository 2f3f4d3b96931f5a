// Package policies embeds the default HealthHub policy library: the Rego
// files of this directory, with their *_test.rego unit tests. The hub
// evaluates these policies when no policy directory is configured; operators
// copy the directory, edit it and point the hub at the copy.
//
// The entry point is data.healthhub.authz.decision; docs/policy.md describes
// its input and output. `opa test policies/` runs the tests without the hub.
package policies
