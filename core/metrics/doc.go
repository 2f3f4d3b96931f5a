// Package metrics defines the hub's Prometheus metrics and records them:
// HTTP request latency per route pattern, plugin call latency and errors,
// policy decision latency, validation failures and audit appends.
//
// Metrics live in a registry of their own, created by New and passed to the
// parts that record into it, never in the global default registry. Labels
// carry route patterns, plugin names, resource types and outcome codes,
// never ids or query strings, so that no PHI reaches a scraper.
package metrics
