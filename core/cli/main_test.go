package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runHub runs the hub command line with args and no standard input, and
// returns the exit code, standard output and standard error.
func runHub(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runHubWithInput(t, "", args...)
}

// runHubWithInput runs the hub command line with stdin as standard input.
func runHubWithInput(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errOut})
	return code, out.String(), errOut.String()
}
