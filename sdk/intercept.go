package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
)

// Call names one provider call for an Interceptor.
type Call struct {
	// Provider is the provider's Info.Name.
	Provider string
	// Kind is the kind whose implementation serves the call.
	Kind Kind
	// Method is the interface method called, such as "Put", "Chat",
	// "Configure" or "CheckHealth".
	Method string
}

// Interceptor runs around every call of a provider wrapped by Intercept.
// Before the call it may reject it by returning an error, or return a new
// context for it (with a deadline, say). It returns a finish function that
// Intercept calls exactly once with the call's error when the call is over.
// The caller gets the error that finish returns, so finish may wrap or
// replace it.
//
// Storage.Get is over when its reader returns an error other than io.EOF
// (finish then gets that error and its result is what Read returns), when
// it reaches io.EOF, or when it is closed, whichever comes first.
type Interceptor func(ctx context.Context, call Call) (context.Context, func(error) error, error)

// Intercept returns a provider that runs ic around every call of p. The
// implementations of the result satisfy the same optional per-kind
// interfaces as those of p (StudyReader, ChatStreamer and so on). Every one
// is also a Configurer, HealthChecker and DataUseReporter. Where p's
// implementation lacks one of these, the wrapper behaves as Provider does
// without it: an empty config is accepted, health is good, and DataUse is
// Info.DataUse.
func Intercept(p Provider, ic Interceptor) Provider {
	out := Provider{Info: p.Info}
	wrap := func(kind Kind, impl any) interceptedMeta {
		return interceptedMeta{c: &interception{name: p.Info.Name, kind: kind, ic: ic}, impl: impl, info: p.Info}
	}
	if p.Storage != nil {
		out.Storage = interceptedStorage{wrap(KindStorage, p.Storage), p.Storage}
	}
	if p.Transcriber != nil {
		out.Transcriber = interceptTranscriber(wrap(KindTranscription, p.Transcriber), p.Transcriber)
	}
	if p.ImageAnalyzer != nil {
		out.ImageAnalyzer = interceptImaging(wrap(KindImaging, p.ImageAnalyzer), p.ImageAnalyzer)
	}
	if p.ChatModel != nil {
		out.ChatModel = interceptChat(wrap(KindLLM, p.ChatModel), p.ChatModel)
	}
	if p.EHR != nil {
		out.EHR = interceptEHR(wrap(KindEHR, p.EHR), p.EHR)
	}
	return out
}

type interception struct {
	name string
	kind Kind
	ic   Interceptor
}

func (c *interception) run(ctx context.Context, method string, fn func(context.Context) error) error {
	ctx, finish, err := c.ic(ctx, Call{Provider: c.name, Kind: c.kind, Method: method})
	if err != nil {
		return err
	}
	return finish(fn(ctx))
}

// interceptedMeta implements the meta interfaces for every wrapper.
type interceptedMeta struct {
	c    *interception
	impl any
	info Info
}

func (m interceptedMeta) Configure(ctx context.Context, config json.RawMessage) error {
	configurer, ok := m.impl.(Configurer)
	if !ok {
		if isEmptyConfig(config) {
			return nil
		}
		return Invalidf("", "configure %s: the provider takes no configuration; remove its configuration object", m.info.Name)
	}
	return m.c.run(ctx, "Configure", func(ctx context.Context) error { return configurer.Configure(ctx, config) })
}

func (m interceptedMeta) CheckHealth(ctx context.Context) error {
	checker, ok := m.impl.(HealthChecker)
	if !ok {
		return nil
	}
	return m.c.run(ctx, "CheckHealth", checker.CheckHealth)
}

func (m interceptedMeta) DataUse() DataUse {
	if reporter, ok := m.impl.(DataUseReporter); ok {
		return reporter.DataUse()
	}
	return m.info.DataUse
}

// ---- storage ----

type interceptedStorage struct {
	interceptedMeta
	impl Storage
}

func (s interceptedStorage) Put(ctx context.Context, key string, body io.Reader, opts PutOptions) (info ObjectInfo, err error) {
	err = s.c.run(ctx, "Put", func(ctx context.Context) (err error) {
		info, err = s.impl.Put(ctx, key, body, opts)
		return err
	})
	return info, err
}

func (s interceptedStorage) Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error) {
	ctx, finish, err := s.c.ic(ctx, Call{Provider: s.c.name, Kind: s.c.kind, Method: "Get"})
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	body, info, err := s.impl.Get(ctx, key)
	if err != nil {
		return nil, ObjectInfo{}, finish(err)
	}
	return &interceptedBody{body: body, finish: finish}, info, nil
}

// interceptedBody calls finish once, when the read ends or the body is
// closed.
type interceptedBody struct {
	body   io.ReadCloser
	finish func(error) error
	once   sync.Once
}

func (b *interceptedBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		b.once.Do(func() { _ = b.finish(nil) })
	default:
		b.once.Do(func() { err = b.finish(err) })
	}
	return n, err
}

func (b *interceptedBody) Close() error {
	err := b.body.Close()
	b.once.Do(func() { _ = b.finish(nil) })
	return err
}

func (s interceptedStorage) Stat(ctx context.Context, key string) (info ObjectInfo, err error) {
	err = s.c.run(ctx, "Stat", func(ctx context.Context) (err error) {
		info, err = s.impl.Stat(ctx, key)
		return err
	})
	return info, err
}

func (s interceptedStorage) Delete(ctx context.Context, key string) error {
	return s.c.run(ctx, "Delete", func(ctx context.Context) error { return s.impl.Delete(ctx, key) })
}

func (s interceptedStorage) List(ctx context.Context, opts ListOptions) (page ListPage, err error) {
	err = s.c.run(ctx, "List", func(ctx context.Context) (err error) {
		page, err = s.impl.List(ctx, opts)
		return err
	})
	return page, err
}

// ---- transcription ----

type interceptedTranscriber struct {
	interceptedMeta
	impl Transcriber
}

type interceptedStreamingTranscriber struct {
	interceptedTranscriber
	streamer StreamingTranscriber
}

func interceptTranscriber(m interceptedMeta, impl Transcriber) Transcriber {
	base := interceptedTranscriber{m, impl}
	if streamer, ok := impl.(StreamingTranscriber); ok {
		return interceptedStreamingTranscriber{base, streamer}
	}
	return base
}

func (t interceptedTranscriber) Transcribe(ctx context.Context, req TranscriptionRequest) (out *Transcript, err error) {
	err = t.c.run(ctx, "Transcribe", func(ctx context.Context) (err error) {
		out, err = t.impl.Transcribe(ctx, req)
		return err
	})
	return out, err
}

func (t interceptedStreamingTranscriber) TranscribeStream(ctx context.Context, req TranscriptionRequest, emit func(Segment) error) (out *Transcript, err error) {
	err = t.c.run(ctx, "TranscribeStream", func(ctx context.Context) (err error) {
		out, err = t.streamer.TranscribeStream(ctx, req, emit)
		return err
	})
	return out, err
}

// ---- imaging ----

type interceptedImaging struct {
	interceptedMeta
	impl ImageAnalyzer
}

type interceptedImagingStudy struct{ interceptedImaging }

type interceptedImagingDeidentify struct{ interceptedImaging }

type interceptedImagingFull struct{ interceptedImaging }

func interceptImaging(m interceptedMeta, impl ImageAnalyzer) ImageAnalyzer {
	base := interceptedImaging{m, impl}
	_, study := impl.(StudyReader)
	_, deidentify := impl.(Deidentifier)
	switch {
	case study && deidentify:
		return interceptedImagingFull{base}
	case study:
		return interceptedImagingStudy{base}
	case deidentify:
		return interceptedImagingDeidentify{base}
	}
	return base
}

func (m interceptedImaging) Analyze(ctx context.Context, req ImagingRequest) (out *ImagingResult, err error) {
	err = m.c.run(ctx, "Analyze", func(ctx context.Context) (err error) {
		out, err = m.impl.Analyze(ctx, req)
		return err
	})
	return out, err
}

func (m interceptedImaging) readStudy(ctx context.Context, req ImagingRequest) (out *Study, err error) {
	err = m.c.run(ctx, "ReadStudy", func(ctx context.Context) (err error) {
		out, err = m.impl.(StudyReader).ReadStudy(ctx, req)
		return err
	})
	return out, err
}

func (m interceptedImaging) deidentify(ctx context.Context, req ImagingRequest, w io.Writer) (out *DeidentifyResult, err error) {
	err = m.c.run(ctx, "Deidentify", func(ctx context.Context) (err error) {
		out, err = m.impl.(Deidentifier).Deidentify(ctx, req, w)
		return err
	})
	return out, err
}

func (m interceptedImagingStudy) ReadStudy(ctx context.Context, req ImagingRequest) (*Study, error) {
	return m.readStudy(ctx, req)
}

func (m interceptedImagingDeidentify) Deidentify(ctx context.Context, req ImagingRequest, w io.Writer) (*DeidentifyResult, error) {
	return m.deidentify(ctx, req, w)
}

func (m interceptedImagingFull) ReadStudy(ctx context.Context, req ImagingRequest) (*Study, error) {
	return m.readStudy(ctx, req)
}

func (m interceptedImagingFull) Deidentify(ctx context.Context, req ImagingRequest, w io.Writer) (*DeidentifyResult, error) {
	return m.deidentify(ctx, req, w)
}

// ---- llm ----

type interceptedChat struct {
	interceptedMeta
	impl ChatModel
}

type interceptedChatStreamer struct {
	interceptedChat
	streamer ChatStreamer
}

func interceptChat(m interceptedMeta, impl ChatModel) ChatModel {
	base := interceptedChat{m, impl}
	if streamer, ok := impl.(ChatStreamer); ok {
		return interceptedChatStreamer{base, streamer}
	}
	return base
}

func (c interceptedChat) Chat(ctx context.Context, req ChatRequest) (out *ChatResponse, err error) {
	err = c.c.run(ctx, "Chat", func(ctx context.Context) (err error) {
		out, err = c.impl.Chat(ctx, req)
		return err
	})
	return out, err
}

func (c interceptedChatStreamer) ChatStream(ctx context.Context, req ChatRequest, emit func(ChatDelta) error) (out *ChatResponse, err error) {
	err = c.c.run(ctx, "ChatStream", func(ctx context.Context) (err error) {
		out, err = c.streamer.ChatStream(ctx, req, emit)
		return err
	})
	return out, err
}

// ---- ehr ----

type interceptedEHR struct {
	interceptedMeta
	impl EHRConnector
}

type interceptedEHRTransaction struct {
	interceptedEHR
	runner TransactionRunner
}

func interceptEHR(m interceptedMeta, impl EHRConnector) EHRConnector {
	base := interceptedEHR{m, impl}
	if runner, ok := impl.(TransactionRunner); ok {
		return interceptedEHRTransaction{base, runner}
	}
	return base
}

// resourceCall runs one EHR call that returns a resource.
func (e interceptedEHR) resourceCall(ctx context.Context, method string, fn func(context.Context) (json.RawMessage, error)) (out json.RawMessage, err error) {
	err = e.c.run(ctx, method, func(ctx context.Context) (err error) {
		out, err = fn(ctx)
		return err
	})
	return out, err
}

func (e interceptedEHR) Read(ctx context.Context, resourceType, id string) (json.RawMessage, error) {
	return e.resourceCall(ctx, "Read", func(ctx context.Context) (json.RawMessage, error) {
		return e.impl.Read(ctx, resourceType, id)
	})
}

func (e interceptedEHR) Search(ctx context.Context, req SearchRequest) (out *SearchPage, err error) {
	err = e.c.run(ctx, "Search", func(ctx context.Context) (err error) {
		out, err = e.impl.Search(ctx, req)
		return err
	})
	return out, err
}

func (e interceptedEHR) Create(ctx context.Context, resource json.RawMessage) (json.RawMessage, error) {
	return e.resourceCall(ctx, "Create", func(ctx context.Context) (json.RawMessage, error) {
		return e.impl.Create(ctx, resource)
	})
}

func (e interceptedEHR) Update(ctx context.Context, resource json.RawMessage, ifMatch string) (json.RawMessage, error) {
	return e.resourceCall(ctx, "Update", func(ctx context.Context) (json.RawMessage, error) {
		return e.impl.Update(ctx, resource, ifMatch)
	})
}

func (e interceptedEHRTransaction) Transaction(ctx context.Context, bundle json.RawMessage) (json.RawMessage, error) {
	return e.resourceCall(ctx, "Transaction", func(ctx context.Context) (json.RawMessage, error) {
		return e.runner.Transaction(ctx, bundle)
	})
}
