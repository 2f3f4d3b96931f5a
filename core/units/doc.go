// Package units holds the value types that configuration files use for
// durations and sizes, so that operators write "30s" and "8MiB" instead of
// nanoseconds and bytes. Both types read and write JSON strings and convert
// to the standard library's types at the point of use.
package units
