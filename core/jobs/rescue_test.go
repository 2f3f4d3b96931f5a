package jobs

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/units"
)

// dyingHubEnv names the database of a child test process that plays a hub
// which starts a job and is killed while running it.
const dyingHubEnv = "HUB_JOBS_TEST_DYING_HUB_DB"

func TestMain(m *testing.M) {
	if path := os.Getenv(dyingHubEnv); path != "" {
		os.Exit(runDyingHub(path))
	}
	os.Exit(m.Run())
}

// runDyingHub works the queue in path with a handler that prints "started"
// and then blocks until the process is killed.
func runDyingHub(path string) int {
	q, err := Open(context.Background(), fastConfig, Database{Path: path}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	err = q.Handle("slow", func(ctx context.Context, _ *Job, _ func(any) error) (any, error) {
		fmt.Println("started")
		<-ctx.Done()
		return nil, ctx.Err()
	})
	if err == nil {
		err = q.Start(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	select {}
}

func TestRescueJobOfKilledHub(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	first, err := Open(context.Background(), fastConfig, Database{Path: path}, nil)
	require.NoError(t, err)
	queued, err := first.Enqueue(context.Background(), Task{Kind: "slow", Tenant: "north"})
	require.NoError(t, err)
	require.NoError(t, first.Close(context.Background()))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	child := exec.CommandContext(ctx, os.Args[0])
	child.Env = append(os.Environ(), dyingHubEnv+"="+path)
	stdout, err := child.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, child.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "the child hub did not start the job")
	require.Equal(t, "started\n", line)
	require.NoError(t, child.Process.Kill())
	_ = child.Wait()

	running, err := Open(context.Background(), fastConfig, Database{Path: path}, nil)
	require.NoError(t, err)
	job, err := running.Get(context.Background(), "north", queued.ID)
	require.NoError(t, err)
	require.NoError(t, running.Close(context.Background()))
	assert.Equal(t, StateRunning, job.State, "the killed hub left the job running")

	cfg := fastConfig
	cfg.JobTimeout = units.Duration(time.Second)
	cfg.RescueAfter = units.Duration(2 * time.Second)
	second, err := Open(context.Background(), cfg, Database{Path: path}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = second.Close(context.Background()) })
	require.NoError(t, second.Handle("slow", func(context.Context, *Job, func(any) error) (any, error) { return "done", nil }))
	require.NoError(t, second.Start(context.Background()))

	job = waitFinished(t, second, "north", queued.ID)
	assert.Equal(t, StateCompleted, job.State)
	assert.Equal(t, 2, job.Attempt, "the attempt of the killed hub counts")
}
