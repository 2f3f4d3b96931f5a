package sdk

import (
	"context"
	"errors"
	"io"
	"math"

	"github.com/healthhub/healthhub/sdk/internal/pb"
)

type remoteStorage struct{ *remote }

func (s remoteStorage) Put(ctx context.Context, key string, body io.Reader, opts PutOptions) (ObjectInfo, error) {
	const op = "storage put"
	c, err := s.conn(ctx)
	if err != nil {
		return ObjectInfo{}, err
	}
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.storage.Put(streamCtx)
	if err != nil {
		return ObjectInfo{}, rpcError(ctx, op, err)
	}

	header := &pb.PutRequest{Part: &pb.PutRequest_Header{Header: &pb.PutHeader{
		Key: key, ContentType: opts.ContentType, Metadata: opts.Metadata, Size: opts.Size,
	}}}
	chunk := func(c []byte) *pb.PutRequest { return &pb.PutRequest{Part: &pb.PutRequest_Chunk{Chunk: c}} }
	info := &pb.ObjectInfo{}
	send := func() error { return upload(stream.Send, header, body, chunk) }
	if err := uploadCall(ctx, op, cancel, stream, send, info); err != nil {
		return ObjectInfo{}, err
	}
	return objectInfoFromPB(info), nil
}

func (s remoteStorage) Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error) {
	const op = "storage get"
	c, err := s.conn(ctx)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	streamCtx, cancel := context.WithCancel(ctx)
	stream, err := c.storage.Get(streamCtx, &pb.GetRequest{Key: key})
	if err != nil {
		cancel()
		return nil, ObjectInfo{}, rpcError(ctx, op, err)
	}
	first, err := stream.Recv()
	if err != nil {
		cancel()
		return nil, ObjectInfo{}, rpcError(ctx, op, err)
	}
	if first.GetInfo() == nil {
		cancel()
		return nil, ObjectInfo{}, errEndedEarly(op)
	}

	body := &remoteBody{cancel: cancel}
	body.reader.next = func() ([]byte, error) {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if err != nil {
			return nil, rpcError(ctx, op, err)
		}
		return msg.GetChunk(), nil
	}
	return body, objectInfoFromPB(first.GetInfo()), nil
}

// remoteBody is the content of an object streaming from a plugin. Close
// ends the stream, also when it was not read to the end.
type remoteBody struct {
	reader chunkReader
	cancel context.CancelFunc
}

func (b *remoteBody) Read(p []byte) (int, error) { return b.reader.Read(p) }

func (b *remoteBody) Close() error {
	b.cancel()
	return nil
}

func (s remoteStorage) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return ObjectInfo{}, err
	}
	info, err := c.storage.Stat(ctx, &pb.StatRequest{Key: key})
	if err != nil {
		return ObjectInfo{}, rpcError(ctx, "storage stat", err)
	}
	return objectInfoFromPB(info), nil
}

func (s remoteStorage) Delete(ctx context.Context, key string) error {
	c, err := s.conn(ctx)
	if err != nil {
		return err
	}
	if _, err := c.storage.Delete(ctx, &pb.DeleteRequest{Key: key}); err != nil {
		return rpcError(ctx, "storage delete", err)
	}
	return nil
}

func (s remoteStorage) List(ctx context.Context, opts ListOptions) (ListPage, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return ListPage{}, err
	}
	if opts.Limit > math.MaxInt32 || opts.Limit < math.MinInt32 {
		return ListPage{}, Invalidf("", "storage list: limit %d is out of range; use 0 for the default or a smaller count", opts.Limit)
	}
	resp, err := c.storage.List(ctx, &pb.ListRequest{Prefix: opts.Prefix, Cursor: opts.Cursor, Limit: int32(opts.Limit)})
	if err != nil {
		return ListPage{}, rpcError(ctx, "storage list", err)
	}
	page := ListPage{NextCursor: resp.GetNextCursor(), Objects: make([]ObjectInfo, len(resp.GetObjects()))}
	for i, o := range resp.GetObjects() {
		page.Objects[i] = objectInfoFromPB(o)
	}
	return page, nil
}
