package policies

import "embed"

// FS holds the default policy modules and their tests, at the root of the
// file system (access.rego, access_test.rego, ...).
//
//go:embed *.rego
var FS embed.FS
