// Package cli implements the hub command line: the daemon (hub serve) and
// the operator tools beside it. Each command lives in a file of its own and
// is added to the root in root.go.
package cli
