// Command hub-bench drives a running hub with concurrent clients for a fixed
// time. It reports throughput and latency percentiles for creating a
// Patient, reading it back and searching. Next to them it reports the
// floor, a trivial net/http handler on the same machine measured in the
// same run.
//
//	hub-bench --url http://127.0.0.1:8080 --token "$TOKEN" --clients 32 --duration 10s
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hub-bench:", err)
		os.Exit(1)
	}
}
