// Package pluginbench holds the benchmarks of the plugin runtime: a
// provider call through the full host path, the same call in process, and
// a bare go-plugin gRPC echo of the same payload as the floor, plus plugin
// start time. It has no code of its own; see bench_test.go and the
// "Plugin runtime" section of docs/benchmarks.md.
package pluginbench
