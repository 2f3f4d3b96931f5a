package sdk

import (
	"context"
	"encoding/json"
	"io"
	"sync/atomic"

	"google.golang.org/grpc"

	"github.com/healthhub/healthhub/sdk/internal/pb"
)

// Conn is a gRPC connection to a running plugin process, as the go-plugin
// client dispenses it (see ConfigureClient). Its methods are the plugin's
// meta calls; NewRemoteProvider turns connections into provider
// implementations.
type Conn struct {
	meta        pb.PluginClient
	storage     pb.StorageClient
	transcriber pb.TranscriberClient
	imaging     pb.ImageAnalyzerClient
	chat        pb.ChatModelClient
	ehr         pb.EHRConnectorClient
}

func newConn(cc *grpc.ClientConn) *Conn {
	return &Conn{
		meta:        pb.NewPluginClient(cc),
		storage:     pb.NewStorageClient(cc),
		transcriber: pb.NewTranscriberClient(cc),
		imaging:     pb.NewImageAnalyzerClient(cc),
		chat:        pb.NewChatModelClient(cc),
		ehr:         pb.NewEHRConnectorClient(cc),
	}
}

// Description is a plugin's report about itself, from the Describe call.
type Description struct {
	Info Info
	// Configurable is true when the provider implements Configurer.
	Configurable bool
}

// Describe requests the plugin's Info.
func (c *Conn) Describe(ctx context.Context) (Description, error) {
	resp, err := c.meta.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return Description{}, rpcError(ctx, "describe", err)
	}
	return Description{Info: infoFromPB(resp.GetInfo()), Configurable: resp.GetConfigurable()}, nil
}

// Configure passes the provider's configuration object to the plugin and
// returns the data-use declaration in force afterwards.
func (c *Conn) Configure(ctx context.Context, config json.RawMessage) (DataUse, error) {
	resp, err := c.meta.Configure(ctx, &pb.ConfigureRequest{Config: config})
	if err != nil {
		return DataUse{}, rpcError(ctx, "configure", err)
	}
	return dataUseFromPB(resp.GetDataUse()), nil
}

// CheckHealth runs the plugin's health check and returns nil when the
// plugin can serve.
func (c *Conn) CheckHealth(ctx context.Context) error {
	if _, err := c.meta.Health(ctx, &pb.HealthRequest{}); err != nil {
		return rpcError(ctx, "health", err)
	}
	return nil
}

// ConnFunc returns the connection a call is made on. A host passes one that
// returns the current plugin process's connection, waiting for a restart
// when the process has died.
type ConnFunc func(ctx context.Context) (*Conn, error)

// NewRemoteProvider returns a Provider whose implementations call a plugin
// through conn, one implementation per kind in info.Kinds. Each
// implementation satisfies the optional interface of a capability (such as
// ChatStreamer for "stream") exactly when info declares the capability, and
// every one is a Configurer, HealthChecker and DataUseReporter that calls
// the plugin's meta service.
func NewRemoteProvider(info Info, conn ConnFunc) Provider {
	r := &remote{conn: conn}
	dataUse := info.DataUse
	r.dataUse.Store(&dataUse)

	p := Provider{Info: info}
	if info.HasKind(KindStorage) {
		p.Storage = remoteStorage{r}
	}
	if info.HasKind(KindTranscription) {
		p.Transcriber = newRemoteTranscriber(r, info)
	}
	if info.HasKind(KindImaging) {
		p.ImageAnalyzer = newRemoteImaging(r, info)
	}
	if info.HasKind(KindLLM) {
		p.ChatModel = newRemoteChat(r, info)
	}
	if info.HasKind(KindEHR) {
		p.EHR = newRemoteEHR(r, info)
	}
	return p
}

// remote is the state the implementations of one plugin share.
type remote struct {
	conn    ConnFunc
	dataUse atomic.Pointer[DataUse]
}

// Configure implements Configurer.
func (r *remote) Configure(ctx context.Context, config json.RawMessage) error {
	c, err := r.conn(ctx)
	if err != nil {
		return err
	}
	dataUse, err := c.Configure(ctx, config)
	if err != nil {
		return err
	}
	r.dataUse.Store(&dataUse)
	return nil
}

// CheckHealth implements HealthChecker.
func (r *remote) CheckHealth(ctx context.Context) error {
	c, err := r.conn(ctx)
	if err != nil {
		return err
	}
	return c.CheckHealth(ctx)
}

// DataUse implements DataUseReporter with the declaration the plugin
// reported on its last Configure, or the one in its Info.
func (r *remote) DataUse() DataUse {
	return *r.dataUse.Load()
}

// upload sends header and then body in chunks on a client stream. It
// returns a *sourceError when body fails, or else the error of Send. Send
// returns io.EOF when the plugin ended the stream, and the receiving side
// then gets the status.
func upload[Req any](send func(Req) error, header Req, body io.Reader, chunk func([]byte) Req) error {
	if err := send(header); err != nil {
		return err
	}
	if body == nil {
		return nil
	}
	return sendChunks(body, func(c []byte) error { return send(chunk(c)) })
}

// errEndedEarly reports a stream that ended without its final message.
func errEndedEarly(op string) error {
	return Errorf(CodeException, "%s: the plugin ended the stream without a result", op)
}
