package plugin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"

	"github.com/hashicorp/go-plugin/runner"
)

// captureLimit is how many bytes of a plugin's stdout and stderr a runner
// keeps for error messages.
const captureLimit = 4 << 10

// processRunner starts a plugin binary for go-plugin. Unlike go-plugin's
// own runner, it sets Pdeathsig so that the kernel kills the plugin when
// the hub dies. It keeps the start of stdout, to quote text the plugin
// printed before its handshake, and the end of stderr for crash reports.
// It closes exited when the process ends.
type processRunner struct {
	name    string
	cmd     *exec.Cmd
	spawner *spawner
	stdout  io.ReadCloser
	stderr  io.ReadCloser

	stdoutHead *capture
	stderrTail *capture

	pid int
	// onExit runs when the process has exited, before exited is closed.
	onExit   func()
	exited   chan struct{}
	exitOnce sync.Once
	exitErr  error
}

var _ runner.Runner = (*processRunner)(nil)

func newProcessRunner(name string, cmd *exec.Cmd, s *spawner) (*processRunner, error) {
	// Pdeathsig is tied to the thread that forks, not the process, which
	// is why the spawner forks from one thread that outlives every plugin.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	r := &processRunner{
		name:       name,
		cmd:        cmd,
		spawner:    s,
		stdoutHead: &capture{keepHead: true},
		stderrTail: &capture{},
		exited:     make(chan struct{}),
	}
	r.stdout = readCloser{io.TeeReader(stdout, r.stdoutHead), stdout}
	r.stderr = readCloser{io.TeeReader(stderr, r.stderrTail), stderr}
	return r, nil
}

func (r *processRunner) Start(context.Context) error {
	if err := r.spawner.start(r.cmd); err != nil {
		return err
	}
	r.pid = r.cmd.Process.Pid
	return nil
}

func (r *processRunner) Wait(context.Context) error {
	err := r.cmd.Wait()
	r.exitOnce.Do(func() {
		r.exitErr = err
		if r.onExit != nil {
			r.onExit()
		}
		close(r.exited)
	})
	return err
}

func (r *processRunner) Kill(context.Context) error {
	if r.cmd.Process == nil {
		return nil
	}
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

func (r *processRunner) Stdout() io.ReadCloser { return r.stdout }
func (r *processRunner) Stderr() io.ReadCloser { return r.stderr }
func (r *processRunner) Name() string          { return r.name }

func (r *processRunner) ID() string {
	if r.pid == 0 {
		return ""
	}
	return strconv.Itoa(r.pid)
}

func (r *processRunner) Diagnose(context.Context) string {
	return fmt.Sprintf("plugin binary %s; check that it calls sdk.Serve and prints nothing to stdout", r.cmd.Path)
}

func (r *processRunner) PluginToHost(network, address string) (string, string, error) {
	return network, address, nil
}

func (r *processRunner) HostToPlugin(network, address string) (string, string, error) {
	return network, address, nil
}

// exitStatus describes how the process ended, such as "signal: killed".
func (r *processRunner) exitStatus() string {
	select {
	case <-r.exited:
		if r.exitErr == nil {
			return "exit status 0"
		}
		return r.exitErr.Error()
	default:
		return "running"
	}
}

type readCloser struct {
	io.Reader
	io.Closer
}

// capture keeps the first (keepHead) or the last captureLimit bytes
// written to it.
type capture struct {
	mu       sync.Mutex
	keepHead bool
	buf      []byte
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keepHead {
		if room := captureLimit - len(c.buf); room > 0 {
			c.buf = append(c.buf, p[:min(room, len(p))]...)
		}
		return len(p), nil
	}
	c.buf = append(c.buf, p...)
	if over := len(c.buf) - captureLimit; over > 0 {
		c.buf = append(c.buf[:0], c.buf[over:]...)
	}
	return len(p), nil
}

func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(bytes.TrimSpace(c.buf))
}

// spawner starts processes from one goroutine locked to its own OS thread.
// Linux sends a child its Pdeathsig when the thread that forked it exits,
// not only when the process exits. Forking from a thread that lives as long
// as the host makes Pdeathsig fire only when the hub process dies.
type spawner struct {
	requests chan spawnRequest
	stopOnce sync.Once
}

type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

func newSpawner() *spawner {
	s := &spawner{requests: make(chan spawnRequest)}
	go s.loop()
	return s
}

func (s *spawner) loop() {
	// The thread is never unlocked, so it ends with this goroutine, after
	// stop, when no plugin it started is left running.
	runtime.LockOSThread()
	for req := range s.requests {
		req.done <- req.cmd.Start()
	}
}

func (s *spawner) start(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	s.requests <- spawnRequest{cmd: cmd, done: done}
	return <-done
}

func (s *spawner) stop() {
	s.stopOnce.Do(func() { close(s.requests) })
}
