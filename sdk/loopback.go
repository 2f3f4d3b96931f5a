package sdk

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// loopbackStartTimeout bounds how long ServeLoopback waits for the
// in-process server to listen.
const loopbackStartTimeout = 10 * time.Second

// ServeLoopback serves p over the plugin protocol from a goroutine of the
// current process and returns a Provider that reaches it through a real
// gRPC connection, with the same chunking, error mapping and message limits
// as a plugin binary. It lets plugin authors run the sdktest suites across
// the wire format without building a binary. The returned stop function
// closes the connection and the server; it is safe to call more than once.
//
// Configure p before calling ServeLoopback, or through the returned
// Provider's Configurer.
func ServeLoopback(ctx context.Context, p Provider) (Provider, func(), error) {
	if p.Info.ProtocolVersion == 0 {
		p.Info.ProtocolVersion = ProtocolVersion
	}
	if err := validateServed(p); err != nil {
		return Provider{}, nil, fmt.Errorf("serve loopback: %w", err)
	}

	serveCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	cfg := serveConfig(p, hclog.NewNullLogger())
	cfg.Test = &plugin.ServeTestConfig{Context: serveCtx, ReattachConfigCh: reattach, CloseCh: closed}
	go plugin.Serve(cfg)

	var rc *plugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-closed:
		cancel()
		return Provider{}, nil, fmt.Errorf("serve loopback %q: the server stopped before it listened", p.Info.Name)
	case <-time.After(loopbackStartTimeout):
		cancel()
		return Provider{}, nil, fmt.Errorf("serve loopback %q: the server did not listen within %s", p.Info.Name, loopbackStartTimeout)
	}

	clientCfg := &plugin.ClientConfig{Reattach: rc, Logger: hclog.NewNullLogger()}
	ConfigureClient(clientCfg)
	client := plugin.NewClient(clientCfg)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			client.Kill()
			cancel()
			<-closed
		})
	}

	remote, err := dialLoopback(ctx, client)
	if err != nil {
		stop()
		return Provider{}, nil, fmt.Errorf("serve loopback %q: %w", p.Info.Name, err)
	}
	return remote, stop, nil
}

func dialLoopback(ctx context.Context, client *plugin.Client) (Provider, error) {
	rpc, err := client.Client()
	if err != nil {
		return Provider{}, err
	}
	conn, err := DispenseConn(rpc)
	if err != nil {
		return Provider{}, err
	}
	desc, err := conn.Describe(ctx)
	if err != nil {
		return Provider{}, err
	}
	return NewRemoteProvider(desc.Info, func(context.Context) (*Conn, error) { return conn, nil }), nil
}
