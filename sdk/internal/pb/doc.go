// Package pb holds the wire types and gRPC service stubs of the plugin
// protocol, generated from plugin.proto by scripts/proto.sh. Only package
// sdk uses them; they never appear in an exported signature.
package pb
