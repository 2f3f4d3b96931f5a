package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/healthhub/healthhub/sdk/internal/pb"
)

// ---- transcription ----

type remoteTranscriber struct{ *remote }

type remoteStreamingTranscriber struct{ remoteTranscriber }

func newRemoteTranscriber(r *remote, info Info) Transcriber {
	base := remoteTranscriber{r}
	if info.HasCapability(CapabilityStream) {
		return remoteStreamingTranscriber{base}
	}
	return base
}

func transcribeHeader(req TranscriptionRequest) *pb.TranscribeRequest {
	return &pb.TranscribeRequest{Part: &pb.TranscribeRequest_Header{Header: &pb.TranscribeHeader{
		ContentType: req.ContentType, Language: req.Language, Model: req.Model, Prompt: req.Prompt,
	}}}
}

func transcribeChunk(c []byte) *pb.TranscribeRequest {
	return &pb.TranscribeRequest{Part: &pb.TranscribeRequest_Chunk{Chunk: c}}
}

func (t remoteTranscriber) Transcribe(ctx context.Context, req TranscriptionRequest) (*Transcript, error) {
	const op = "transcribe"
	c, err := t.conn(ctx)
	if err != nil {
		return nil, err
	}
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.transcriber.Transcribe(streamCtx)
	if err != nil {
		return nil, rpcError(ctx, op, err)
	}
	resp := &pb.Transcript{}
	send := func() error { return upload(stream.Send, transcribeHeader(req), req.Audio, transcribeChunk) }
	if err := uploadCall(ctx, op, cancel, stream, send, resp); err != nil {
		return nil, err
	}
	return transcriptFromPB(resp), nil
}

func (t remoteStreamingTranscriber) TranscribeStream(ctx context.Context, req TranscriptionRequest, emit func(Segment) error) (*Transcript, error) {
	const op = "transcribe stream"
	c, err := t.conn(ctx)
	if err != nil {
		return nil, err
	}
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.transcriber.TranscribeStream(streamCtx)
	if err != nil {
		return nil, rpcError(ctx, op, err)
	}
	sent := sendInBackground(cancel, func() error {
		if err := upload(stream.Send, transcribeHeader(req), req.Audio, transcribeChunk); err != nil {
			return err
		}
		return stream.CloseSend()
	})

	for {
		event, err := stream.Recv()
		if err != nil {
			return nil, sent.failure(ctx, op, err)
		}
		switch e := event.GetEvent().(type) {
		case *pb.TranscribeEvent_Segment:
			if err := emit(segmentFromPB(e.Segment)); err != nil {
				sent.stop(cancel)
				return nil, err
			}
		case *pb.TranscribeEvent_Transcript:
			sent.stop(cancel)
			return transcriptFromPB(e.Transcript), nil
		}
	}
}

// backgroundSend runs the sending half of a stream while the caller
// receives, so that a call ends as soon as the plugin fails or the context
// ends, even while the caller's reader is blocked.
//
// NOTE: when a call ends that way, the goroutine stays in the caller's
// Read until it returns and then drops the data. So a caller's reader may
// be read once after the call returned, as with net/http request bodies.
type backgroundSend struct{ done chan error }

// sendInBackground runs send in a goroutine. When the caller's reader
// fails, it records the error first and then cancels the stream, so that
// the plugin stops too and the receiving side finds the cause in done.
func sendInBackground(cancel context.CancelFunc, send func() error) backgroundSend {
	b := backgroundSend{done: make(chan error, 1)}
	go func() {
		err := send()
		b.done <- err
		var source *sourceError
		if errors.As(err, &source) {
			cancel()
		}
	}()
	return b
}

// stop ends the stream; the sender exits at its next Send.
func (b backgroundSend) stop(cancel context.CancelFunc) {
	cancel()
}

// failure returns the error of a stream whose receiving side failed with
// recvErr: the caller's reader error when that is what broke the stream,
// else the call's error.
func (b backgroundSend) failure(ctx context.Context, op string, recvErr error) error {
	select {
	case sendErr := <-b.done:
		var source *sourceError
		if errors.As(sendErr, &source) {
			return fmt.Errorf("%s: %w", op, source)
		}
	default:
	}
	if errors.Is(recvErr, io.EOF) {
		return errEndedEarly(op)
	}
	return rpcError(ctx, op, recvErr)
}

// clientStream is the part of a client-streaming call that uploadCall
// needs.
type clientStream interface {
	CloseSend() error
	RecvMsg(m any) error
}

// uploadCall runs a client-streaming call: send (header and chunks) in the
// background, then CloseSend, while this goroutine waits for the reply in
// resp. cancel must cancel the stream's context.
func uploadCall(ctx context.Context, op string, cancel context.CancelFunc, stream clientStream, send func() error, resp any) error {
	sent := sendInBackground(cancel, func() error {
		if err := send(); err != nil {
			return err
		}
		return stream.CloseSend()
	})
	if err := stream.RecvMsg(resp); err != nil {
		return sent.failure(ctx, op, err)
	}
	return nil
}

// ---- imaging ----

type remoteImaging struct{ *remote }

type remoteImagingStudy struct{ remoteImaging }

type remoteImagingDeidentify struct{ remoteImaging }

type remoteImagingFull struct{ remoteImaging }

func newRemoteImaging(r *remote, info Info) ImageAnalyzer {
	base := remoteImaging{r}
	study := info.HasCapability(CapabilityStudy)
	deidentify := info.HasCapability(CapabilityDeidentify)
	switch {
	case study && deidentify:
		return remoteImagingFull{base}
	case study:
		return remoteImagingStudy{base}
	case deidentify:
		return remoteImagingDeidentify{base}
	}
	return base
}

func imagingHeader(req ImagingRequest) *pb.ImagingRequest {
	return &pb.ImagingRequest{Part: &pb.ImagingRequest_Header{Header: &pb.ImagingHeader{
		ContentType: req.ContentType, Model: req.Model, Subject: req.Subject, Parameters: req.Parameters,
	}}}
}

func imagingChunk(c []byte) *pb.ImagingRequest {
	return &pb.ImagingRequest{Part: &pb.ImagingRequest_Chunk{Chunk: c}}
}

func (m remoteImaging) Analyze(ctx context.Context, req ImagingRequest) (*ImagingResult, error) {
	const op = "analyze"
	c, err := m.conn(ctx)
	if err != nil {
		return nil, err
	}
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.imaging.Analyze(streamCtx)
	if err != nil {
		return nil, rpcError(ctx, op, err)
	}
	resp := &pb.ImagingResult{}
	send := func() error { return upload(stream.Send, imagingHeader(req), req.Object, imagingChunk) }
	if err := uploadCall(ctx, op, cancel, stream, send, resp); err != nil {
		return nil, err
	}
	return imagingResultFromPB(resp), nil
}

func (m remoteImaging) readStudy(ctx context.Context, req ImagingRequest) (*Study, error) {
	const op = "read study"
	c, err := m.conn(ctx)
	if err != nil {
		return nil, err
	}
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.imaging.ReadStudy(streamCtx)
	if err != nil {
		return nil, rpcError(ctx, op, err)
	}
	resp := &pb.Study{}
	send := func() error { return upload(stream.Send, imagingHeader(req), req.Object, imagingChunk) }
	if err := uploadCall(ctx, op, cancel, stream, send, resp); err != nil {
		return nil, err
	}
	return &Study{ImagingStudy: resp.GetImagingStudy(), Preview: resp.GetPreview()}, nil
}

func (m remoteImaging) deidentify(ctx context.Context, req ImagingRequest, w io.Writer) (*DeidentifyResult, error) {
	const op = "deidentify"
	c, err := m.conn(ctx)
	if err != nil {
		return nil, err
	}
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.imaging.Deidentify(streamCtx)
	if err != nil {
		return nil, rpcError(ctx, op, err)
	}
	sent := sendInBackground(cancel, func() error {
		if err := upload(stream.Send, imagingHeader(req), req.Object, imagingChunk); err != nil {
			return err
		}
		return stream.CloseSend()
	})

	for {
		msg, err := stream.Recv()
		if err != nil {
			return nil, sent.failure(ctx, op, err)
		}
		switch part := msg.GetPart().(type) {
		case *pb.DeidentifyResponse_Chunk:
			if _, err := w.Write(part.Chunk); err != nil {
				sent.stop(cancel)
				return nil, fmt.Errorf("%s: write output: %w", op, err)
			}
		case *pb.DeidentifyResponse_Result:
			sent.stop(cancel)
			return &DeidentifyResult{Profile: part.Result.GetProfile(), Actions: part.Result.GetActions()}, nil
		}
	}
}

func (m remoteImagingStudy) ReadStudy(ctx context.Context, req ImagingRequest) (*Study, error) {
	return m.readStudy(ctx, req)
}

func (m remoteImagingDeidentify) Deidentify(ctx context.Context, req ImagingRequest, w io.Writer) (*DeidentifyResult, error) {
	return m.deidentify(ctx, req, w)
}

func (m remoteImagingFull) ReadStudy(ctx context.Context, req ImagingRequest) (*Study, error) {
	return m.readStudy(ctx, req)
}

func (m remoteImagingFull) Deidentify(ctx context.Context, req ImagingRequest, w io.Writer) (*DeidentifyResult, error) {
	return m.deidentify(ctx, req, w)
}

// ---- llm ----

type remoteChat struct{ *remote }

type remoteChatStreamer struct{ remoteChat }

func newRemoteChat(r *remote, info Info) ChatModel {
	base := remoteChat{r}
	if info.HasCapability(CapabilityStream) {
		return remoteChatStreamer{base}
	}
	return base
}

func (m remoteChat) Chat(ctx context.Context, req ChatRequest) (*ChatResponse, error) {
	c, err := m.conn(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := c.chat.Chat(ctx, chatRequestToPB(req))
	if err != nil {
		return nil, rpcError(ctx, "chat", err)
	}
	return chatResponseFromPB(resp), nil
}

func (m remoteChatStreamer) ChatStream(ctx context.Context, req ChatRequest, emit func(ChatDelta) error) (*ChatResponse, error) {
	const op = "chat stream"
	c, err := m.conn(ctx)
	if err != nil {
		return nil, err
	}
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.chat.ChatStream(streamCtx, chatRequestToPB(req))
	if err != nil {
		return nil, rpcError(ctx, op, err)
	}
	for {
		event, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, errEndedEarly(op)
		}
		if err != nil {
			return nil, rpcError(ctx, op, err)
		}
		switch e := event.GetEvent().(type) {
		case *pb.ChatEvent_Delta:
			if err := emit(ChatDelta{Content: e.Delta}); err != nil {
				return nil, err
			}
		case *pb.ChatEvent_Response:
			return chatResponseFromPB(e.Response), nil
		}
	}
}

// ---- ehr ----

type remoteEHR struct{ *remote }

type remoteEHRTransaction struct{ remoteEHR }

func newRemoteEHR(r *remote, info Info) EHRConnector {
	base := remoteEHR{r}
	if info.HasCapability(CapabilityTransaction) {
		return remoteEHRTransaction{base}
	}
	return base
}

func (e remoteEHR) Read(ctx context.Context, resourceType, id string) (json.RawMessage, error) {
	c, err := e.conn(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := c.ehr.Read(ctx, &pb.ReadRequest{ResourceType: resourceType, Id: id})
	if err != nil {
		return nil, rpcError(ctx, "read", err)
	}
	return resp.GetJson(), nil
}

func (e remoteEHR) Search(ctx context.Context, req SearchRequest) (*SearchPage, error) {
	c, err := e.conn(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := c.ehr.Search(ctx, searchRequestToPB(req))
	if err != nil {
		return nil, rpcError(ctx, "search", err)
	}
	return searchPageFromPB(resp), nil
}

func (e remoteEHR) Create(ctx context.Context, resource json.RawMessage) (json.RawMessage, error) {
	c, err := e.conn(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := c.ehr.Create(ctx, &pb.Resource{Json: resource})
	if err != nil {
		return nil, rpcError(ctx, "create", err)
	}
	return resp.GetJson(), nil
}

func (e remoteEHR) Update(ctx context.Context, resource json.RawMessage, ifMatch string) (json.RawMessage, error) {
	c, err := e.conn(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := c.ehr.Update(ctx, &pb.UpdateRequest{Json: resource, IfMatch: ifMatch})
	if err != nil {
		return nil, rpcError(ctx, "update", err)
	}
	return resp.GetJson(), nil
}

func (e remoteEHRTransaction) Transaction(ctx context.Context, bundle json.RawMessage) (json.RawMessage, error) {
	c, err := e.conn(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := c.ehr.Transaction(ctx, &pb.Resource{Json: bundle})
	if err != nil {
		return nil, rpcError(ctx, "transaction", err)
	}
	return resp.GetJson(), nil
}
