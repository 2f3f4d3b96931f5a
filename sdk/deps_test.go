package sdk_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSDKStaysThin fails when a package under sdk/ pulls in the policy
// engine, an HTTP client library, a utility belt or any hub package, all
// of which every plugin binary would then carry.
func TestSDKStaysThin(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/healthhub/healthhub/sdk/...").CombinedOutput()
	require.NoError(t, err, "go list: %s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "google.golang.org/grpc", "the dependency list is complete")

	forbidden := []string{
		"github.com/open-policy-agent/opa",
		"github.com/go-resty/resty",
		"resty.dev/",
		"github.com/samber/lo",
		"github.com/healthhub/healthhub/core",
	}
	for _, dep := range deps {
		for _, prefix := range forbidden {
			if strings.HasPrefix(dep, prefix) {
				t.Errorf("sdk depends on %s", dep)
			}
		}
	}
}
