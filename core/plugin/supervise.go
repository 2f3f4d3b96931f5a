package plugin

import (
	"context"
	"fmt"
	"time"
)

// setRunning makes inst the serving process and wakes waiting calls.
func (m *managed) setRunning(inst *instance) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.current = inst
	m.state = StateRunning
	m.wake()
}

// wake releases the calls waiting in conn. m.mu must be held.
func (m *managed) wake() {
	select {
	case <-m.ready:
	default:
		close(m.ready)
	}
}

// block makes later calls to conn wait for the next wake. m.mu must be
// held.
func (m *managed) block() {
	select {
	case <-m.ready:
		m.ready = make(chan struct{})
	default:
	}
}

// markDown takes the plugin out of service when the process of proc, the
// current one, exits, so that no call picks its connection any more.
func (m *managed) markDown(proc *processRunner) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.current == nil || m.current.runner != proc {
		return
	}
	m.current = nil
	m.block()
	if m.state == StateRunning {
		m.state = StateRestarting
	}
}

// recordCrash marks the plugin down after its process exited or a restart
// failed, and returns the backoff before the next attempt. It returns
// open=true when the crash opened the circuit breaker.
func (m *managed) recordCrash(err error) (backoff time.Duration, open bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.current = nil
	m.block()
	m.lastErr = err

	now := time.Now()
	cutoff := now.Add(-m.host.cfg.crashWindow)
	kept := m.crashes[:0]
	for _, t := range m.crashes {
		if t.After(cutoff) {
			kept = append(kept, t)
		}
	}
	m.crashes = append(kept, now)

	if len(m.crashes) >= m.host.cfg.maxCrashes {
		// Logged before the waiting calls wake and see the new state.
		m.logger.Error("plugin keeps crashing; circuit breaker open, no more restarts",
			"crashes", len(m.crashes), "window", m.host.cfg.crashWindow, "error", err)
		m.state = StateFailed
		m.wake()
		return 0, true
	}
	m.state = StateRestarting
	backoff = m.host.cfg.initialBackoff << (len(m.crashes) - 1)
	if backoff > m.host.cfg.maxBackoff || backoff <= 0 {
		backoff = m.host.cfg.maxBackoff
	}
	return backoff, false
}

func (m *managed) isClosing() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closing
}

// supervise waits for the process of inst to exit and restarts it, until
// the host closes or the breaker opens.
func (m *managed) supervise(inst *instance) {
	for inst != nil {
		<-inst.runner.exited
		if m.isClosing() {
			return
		}
		inst.client.Kill()
		status := inst.runner.exitStatus()
		m.logger.Error("plugin exited unexpectedly", "pid", inst.pid(), "status", status)
		inst = m.restart(&crashError{pid: inst.pid(), status: status})
	}
}

// restart relaunches the plugin with backoff. It returns the new instance,
// or nil when the breaker opened or the host is closing.
func (m *managed) restart(cause error) *instance {
	for {
		backoff, open := m.recordCrash(cause)
		if open {
			return nil
		}
		m.logger.Info("restarting plugin", "backoff", backoff)
		select {
		case <-time.After(backoff):
		case <-m.stopCh:
			return nil
		}

		ctx, cancel := context.WithTimeout(context.Background(), m.host.cfg.startTimeout)
		inst, err := m.launch(ctx)
		cancel()
		if err != nil {
			m.logger.Error("plugin restart failed", "error", err)
			cause = err
			continue
		}
		if m.isClosing() {
			inst.client.Kill()
			return nil
		}
		m.mu.Lock()
		m.restarts++
		m.mu.Unlock()
		m.setRunning(inst)
		m.logger.Info("plugin restarted", "pid", inst.pid())
		return inst
	}
}

// stop shuts the plugin down. go-plugin requests a graceful exit and kills
// the process after a grace period.
func (m *managed) stop() {
	m.mu.Lock()
	if m.closing {
		m.mu.Unlock()
		return
	}
	m.closing = true
	inst := m.current
	m.current = nil
	// Wake calls waiting for a restart; they now see StateStopped.
	m.wake()
	m.state = StateStopped
	close(m.stopCh)
	m.mu.Unlock()

	if inst != nil {
		inst.client.Kill()
		m.logger.Info("plugin stopped", "pid", inst.pid())
	}
}

// crashError describes a plugin process that exited on its own.
type crashError struct {
	pid    int
	status string
}

func (e *crashError) Error() string {
	return fmt.Sprintf("process %d exited: %s", e.pid, e.status)
}

// reset relaunches a plugin whose circuit breaker is open.
func (m *managed) reset(ctx context.Context) error {
	m.mu.Lock()
	if m.state != StateFailed {
		state := m.state
		m.mu.Unlock()
		return fmt.Errorf("restart plugin %q: it is %s; only a plugin whose circuit breaker is open is restarted by hand", m.manifest.Name, state)
	}
	m.crashes = nil
	m.state = StateRestarting
	m.block()
	m.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, m.host.cfg.startTimeout)
	inst, err := m.launch(ctx)
	cancel()
	if err == nil && m.isClosing() {
		inst.client.Kill()
		err = fmt.Errorf("restart plugin %q: the host is closing", m.manifest.Name)
	}
	if err != nil {
		m.mu.Lock()
		if m.state == StateRestarting {
			m.state = StateFailed
			m.lastErr = err
			m.wake()
		}
		m.mu.Unlock()
		return err
	}
	m.setRunning(inst)
	m.logger.Info("plugin restarted by hand", "pid", inst.pid())
	go m.supervise(inst)
	return nil
}
