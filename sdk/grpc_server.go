package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"io"

	"google.golang.org/grpc"

	"github.com/healthhub/healthhub/sdk/internal/pb"
)

// registerServers registers the meta service and one service per kind p
// implements on s.
func registerServers(s *grpc.Server, p Provider) {
	pb.RegisterPluginServer(s, &metaServer{provider: p})
	if p.Storage != nil {
		pb.RegisterStorageServer(s, &storageServer{impl: p.Storage})
	}
	if p.Transcriber != nil {
		pb.RegisterTranscriberServer(s, &transcriberServer{impl: p.Transcriber})
	}
	if p.ImageAnalyzer != nil {
		pb.RegisterImageAnalyzerServer(s, &imagingServer{impl: p.ImageAnalyzer})
	}
	if p.ChatModel != nil {
		pb.RegisterChatModelServer(s, &chatServer{impl: p.ChatModel})
	}
	if p.EHR != nil {
		pb.RegisterEHRConnectorServer(s, &ehrServer{impl: p.EHR})
	}
}

// errNoResult is returned when a provider returns neither a result nor an
// error, which breaks the contract of every kind.
func errNoResult(op string) error {
	return Errorf(CodeException, "%s: the provider returned no result and no error", op)
}

// errProtocol reports a stream whose messages came in the wrong order,
// which only a client not built with this package can cause.
func errProtocol(op, detail string) error {
	return statusError(Errorf(CodeStructure, "%s: plugin protocol violation: %s", op, detail))
}

// errUnsupported reports a call to an optional interface the provider does
// not implement.
func errUnsupported(op string) error {
	return statusError(Errorf(CodeNotSupported, "%s: the provider does not implement it", op))
}

type metaServer struct {
	pb.UnimplementedPluginServer
	provider Provider
}

func (s *metaServer) Describe(context.Context, *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	return &pb.DescribeResponse{
		Info:         infoToPB(s.provider.Info),
		Configurable: s.provider.Configurable(),
	}, nil
}

func (s *metaServer) Configure(ctx context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	if err := s.provider.Configure(ctx, json.RawMessage(req.GetConfig())); err != nil {
		return nil, statusError(err)
	}
	return &pb.ConfigureResponse{DataUse: dataUseToPB(s.provider.DataUse())}, nil
}

func (s *metaServer) Health(ctx context.Context, _ *pb.HealthRequest) (*pb.HealthResponse, error) {
	if err := s.provider.CheckHealth(ctx); err != nil {
		return nil, statusError(err)
	}
	return &pb.HealthResponse{}, nil
}

type storageServer struct {
	pb.UnimplementedStorageServer
	impl Storage
}

func (s *storageServer) Put(stream pb.Storage_PutServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	header := first.GetHeader()
	if header == nil {
		return errProtocol("storage put", "the first message carries no header")
	}
	body := &chunkReader{next: func() ([]byte, error) {
		msg, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		return msg.GetChunk(), nil
	}}
	opts := PutOptions{ContentType: header.GetContentType(), Metadata: header.GetMetadata(), Size: header.GetSize()}
	info, err := s.impl.Put(stream.Context(), header.GetKey(), body, opts)
	if err != nil {
		return statusError(err)
	}
	return stream.SendAndClose(objectInfoToPB(info))
}

func (s *storageServer) Get(req *pb.GetRequest, stream pb.Storage_GetServer) error {
	body, info, err := s.impl.Get(stream.Context(), req.GetKey())
	if err != nil {
		return statusError(err)
	}
	defer body.Close()

	if err := stream.Send(&pb.GetResponse{Part: &pb.GetResponse_Info{Info: objectInfoToPB(info)}}); err != nil {
		return err
	}
	return sendStreamChunks(body, func(chunk []byte) error {
		return stream.Send(&pb.GetResponse{Part: &pb.GetResponse_Chunk{Chunk: chunk}})
	})
}

// sendStreamChunks sends r in chunks and turns a failure to read r, which is
// the provider's fault, into a status error with its outcome.
func sendStreamChunks(r io.Reader, send func([]byte) error) error {
	err := sendChunks(r, send)
	var source *sourceError
	if errors.As(err, &source) {
		return statusError(source.err)
	}
	return err
}

func (s *storageServer) Stat(ctx context.Context, req *pb.StatRequest) (*pb.ObjectInfo, error) {
	info, err := s.impl.Stat(ctx, req.GetKey())
	if err != nil {
		return nil, statusError(err)
	}
	return objectInfoToPB(info), nil
}

func (s *storageServer) Delete(ctx context.Context, req *pb.DeleteRequest) (*pb.DeleteResponse, error) {
	if err := s.impl.Delete(ctx, req.GetKey()); err != nil {
		return nil, statusError(err)
	}
	return &pb.DeleteResponse{}, nil
}

func (s *storageServer) List(ctx context.Context, req *pb.ListRequest) (*pb.ListResponse, error) {
	page, err := s.impl.List(ctx, ListOptions{Prefix: req.GetPrefix(), Cursor: req.GetCursor(), Limit: int(req.GetLimit())})
	if err != nil {
		return nil, statusError(err)
	}
	out := &pb.ListResponse{NextCursor: page.NextCursor, Objects: make([]*pb.ObjectInfo, len(page.Objects))}
	for i, o := range page.Objects {
		out.Objects[i] = objectInfoToPB(o)
	}
	return out, nil
}

type transcriberServer struct {
	pb.UnimplementedTranscriberServer
	impl Transcriber
}

// transcribeStream is the receiving half of both transcription calls.
type transcribeStream interface {
	Recv() (*pb.TranscribeRequest, error)
}

func receiveTranscription(stream transcribeStream) (TranscriptionRequest, error) {
	first, err := stream.Recv()
	if err != nil {
		return TranscriptionRequest{}, err
	}
	header := first.GetHeader()
	if header == nil {
		return TranscriptionRequest{}, errProtocol("transcribe", "the first message carries no header")
	}
	audio := &chunkReader{next: func() ([]byte, error) {
		msg, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		return msg.GetChunk(), nil
	}}
	return TranscriptionRequest{
		Audio:       audio,
		ContentType: header.GetContentType(),
		Language:    header.GetLanguage(),
		Model:       header.GetModel(),
		Prompt:      header.GetPrompt(),
	}, nil
}

func (s *transcriberServer) Transcribe(stream pb.Transcriber_TranscribeServer) error {
	req, err := receiveTranscription(stream)
	if err != nil {
		return err
	}
	transcript, err := s.impl.Transcribe(stream.Context(), req)
	if err == nil && transcript == nil {
		err = errNoResult("transcribe")
	}
	if err != nil {
		return statusError(err)
	}
	return stream.SendAndClose(transcriptToPB(transcript))
}

func (s *transcriberServer) TranscribeStream(stream pb.Transcriber_TranscribeStreamServer) error {
	streamer, ok := s.impl.(StreamingTranscriber)
	if !ok {
		return errUnsupported("transcribe stream")
	}
	req, err := receiveTranscription(stream)
	if err != nil {
		return err
	}
	emit := func(seg Segment) error {
		return stream.Send(&pb.TranscribeEvent{Event: &pb.TranscribeEvent_Segment{Segment: segmentToPB(seg)}})
	}
	transcript, err := streamer.TranscribeStream(stream.Context(), req, emit)
	if err == nil && transcript == nil {
		err = errNoResult("transcribe stream")
	}
	if err != nil {
		return statusError(err)
	}
	return stream.Send(&pb.TranscribeEvent{Event: &pb.TranscribeEvent_Transcript{Transcript: transcriptToPB(transcript)}})
}

type imagingServer struct {
	pb.UnimplementedImageAnalyzerServer
	impl ImageAnalyzer
}

// imagingStream is the receiving half of every imaging call.
type imagingStream interface {
	Recv() (*pb.ImagingRequest, error)
}

func receiveImaging(op string, stream imagingStream) (ImagingRequest, error) {
	first, err := stream.Recv()
	if err != nil {
		return ImagingRequest{}, err
	}
	header := first.GetHeader()
	if header == nil {
		return ImagingRequest{}, errProtocol(op, "the first message carries no header")
	}
	object := &chunkReader{next: func() ([]byte, error) {
		msg, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		return msg.GetChunk(), nil
	}}
	return ImagingRequest{
		Object:      object,
		ContentType: header.GetContentType(),
		Model:       header.GetModel(),
		Subject:     header.GetSubject(),
		Parameters:  header.GetParameters(),
	}, nil
}

func (s *imagingServer) Analyze(stream pb.ImageAnalyzer_AnalyzeServer) error {
	req, err := receiveImaging("analyze", stream)
	if err != nil {
		return err
	}
	result, err := s.impl.Analyze(stream.Context(), req)
	if err == nil && result == nil {
		err = errNoResult("analyze")
	}
	if err != nil {
		return statusError(err)
	}
	return stream.SendAndClose(imagingResultToPB(result))
}

func (s *imagingServer) ReadStudy(stream pb.ImageAnalyzer_ReadStudyServer) error {
	reader, ok := s.impl.(StudyReader)
	if !ok {
		return errUnsupported("read study")
	}
	req, err := receiveImaging("read study", stream)
	if err != nil {
		return err
	}
	study, err := reader.ReadStudy(stream.Context(), req)
	if err == nil && study == nil {
		err = errNoResult("read study")
	}
	if err != nil {
		return statusError(err)
	}
	return stream.SendAndClose(&pb.Study{ImagingStudy: study.ImagingStudy, Preview: study.Preview})
}

func (s *imagingServer) Deidentify(stream pb.ImageAnalyzer_DeidentifyServer) error {
	deidentifier, ok := s.impl.(Deidentifier)
	if !ok {
		return errUnsupported("deidentify")
	}
	req, err := receiveImaging("deidentify", stream)
	if err != nil {
		return err
	}
	out := &chunkWriter{send: func(chunk []byte) error {
		return stream.Send(&pb.DeidentifyResponse{Part: &pb.DeidentifyResponse_Chunk{Chunk: chunk}})
	}}
	result, err := deidentifier.Deidentify(stream.Context(), req, out)
	if err == nil && result == nil {
		err = errNoResult("deidentify")
	}
	if err != nil {
		return statusError(err)
	}
	if err := out.Flush(); err != nil {
		return err
	}
	pbResult := &pb.DeidentifyResult{Profile: result.Profile, Actions: result.Actions}
	return stream.Send(&pb.DeidentifyResponse{Part: &pb.DeidentifyResponse_Result{Result: pbResult}})
}

type chatServer struct {
	pb.UnimplementedChatModelServer
	impl ChatModel
}

func (s *chatServer) Chat(ctx context.Context, req *pb.ChatRequest) (*pb.ChatResponse, error) {
	resp, err := s.impl.Chat(ctx, chatRequestFromPB(req))
	if err == nil && resp == nil {
		err = errNoResult("chat")
	}
	if err != nil {
		return nil, statusError(err)
	}
	return chatResponseToPB(resp), nil
}

func (s *chatServer) ChatStream(req *pb.ChatRequest, stream pb.ChatModel_ChatStreamServer) error {
	streamer, ok := s.impl.(ChatStreamer)
	if !ok {
		return errUnsupported("chat stream")
	}
	emit := func(delta ChatDelta) error {
		return stream.Send(&pb.ChatEvent{Event: &pb.ChatEvent_Delta{Delta: delta.Content}})
	}
	resp, err := streamer.ChatStream(stream.Context(), chatRequestFromPB(req), emit)
	if err == nil && resp == nil {
		err = errNoResult("chat stream")
	}
	if err != nil {
		return statusError(err)
	}
	return stream.Send(&pb.ChatEvent{Event: &pb.ChatEvent_Response{Response: chatResponseToPB(resp)}})
}

type ehrServer struct {
	pb.UnimplementedEHRConnectorServer
	impl EHRConnector
}

// resourceResult wraps the resource an EHR call returned, or its error.
func resourceResult(op string, resource json.RawMessage, err error) (*pb.Resource, error) {
	if err == nil && resource == nil {
		err = errNoResult(op)
	}
	if err != nil {
		return nil, statusError(err)
	}
	return &pb.Resource{Json: resource}, nil
}

func (s *ehrServer) Read(ctx context.Context, req *pb.ReadRequest) (*pb.Resource, error) {
	resource, err := s.impl.Read(ctx, req.GetResourceType(), req.GetId())
	return resourceResult("read", resource, err)
}

func (s *ehrServer) Search(ctx context.Context, req *pb.SearchRequest) (*pb.SearchPage, error) {
	page, err := s.impl.Search(ctx, searchRequestFromPB(req))
	if err == nil && page == nil {
		err = errNoResult("search")
	}
	if err != nil {
		return nil, statusError(err)
	}
	return searchPageToPB(page), nil
}

func (s *ehrServer) Create(ctx context.Context, req *pb.Resource) (*pb.Resource, error) {
	resource, err := s.impl.Create(ctx, req.GetJson())
	return resourceResult("create", resource, err)
}

func (s *ehrServer) Update(ctx context.Context, req *pb.UpdateRequest) (*pb.Resource, error) {
	resource, err := s.impl.Update(ctx, req.GetJson(), req.GetIfMatch())
	return resourceResult("update", resource, err)
}

func (s *ehrServer) Transaction(ctx context.Context, req *pb.Resource) (*pb.Resource, error) {
	runner, ok := s.impl.(TransactionRunner)
	if !ok {
		return nil, errUnsupported("transaction")
	}
	resource, err := runner.Transaction(ctx, req.GetJson())
	return resourceResult("transaction", resource, err)
}
