package e2e_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/healthhub/healthhub/internal/hubtest"
)

// hubBinary is the hub built once for the tests of this package.
var hubBinary string

func TestMain(m *testing.M) {
	binary, cleanup, err := hubtest.Build("../../cmd/hub")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hubBinary = binary
	code := m.Run()
	cleanup()
	os.Exit(code)
}
