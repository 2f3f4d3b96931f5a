package sdk

import (
	"encoding/json"
	"net/url"
	"sort"
	"time"

	"github.com/healthhub/healthhub/sdk/internal/pb"
)

// Conversions between the sdk types and their wire form. Each pair is
// lossless for every field the sdk type has.

func infoToPB(i Info) *pb.Info {
	kinds := make([]string, len(i.Kinds))
	for n, k := range i.Kinds {
		kinds[n] = string(k)
	}
	return &pb.Info{
		Name:            i.Name,
		Version:         i.Version,
		Kinds:           kinds,
		ProtocolVersion: int32(i.ProtocolVersion),
		Capabilities:    i.Capabilities,
		DataUse:         dataUseToPB(i.DataUse),
	}
}

func infoFromPB(i *pb.Info) Info {
	kinds := make([]Kind, len(i.GetKinds()))
	for n, k := range i.GetKinds() {
		kinds[n] = Kind(k)
	}
	return Info{
		Name:            i.GetName(),
		Version:         i.GetVersion(),
		Kinds:           kinds,
		ProtocolVersion: int(i.GetProtocolVersion()),
		Capabilities:    i.GetCapabilities(),
		DataUse:         dataUseFromPB(i.GetDataUse()),
	}
}

func dataUseToPB(d DataUse) *pb.DataUse {
	return &pb.DataUse{
		Egress:        d.Egress,
		Hosts:         d.Hosts,
		Region:        d.Region,
		Baa:           d.BAA,
		RetentionDays: int32(d.RetentionDays),
	}
}

func dataUseFromPB(d *pb.DataUse) DataUse {
	return DataUse{
		Egress:        d.GetEgress(),
		Hosts:         d.GetHosts(),
		Region:        d.GetRegion(),
		BAA:           d.GetBaa(),
		RetentionDays: int(d.GetRetentionDays()),
	}
}

func objectInfoToPB(o ObjectInfo) *pb.ObjectInfo {
	var modTime int64
	if !o.ModTime.IsZero() {
		modTime = o.ModTime.UnixNano()
	}
	return &pb.ObjectInfo{
		Key:             o.Key,
		Size:            o.Size,
		ContentType:     o.ContentType,
		Metadata:        o.Metadata,
		Sha256:          o.SHA256,
		ModTimeUnixNano: modTime,
	}
}

func objectInfoFromPB(o *pb.ObjectInfo) ObjectInfo {
	info := ObjectInfo{
		Key:         o.GetKey(),
		Size:        o.GetSize(),
		ContentType: o.GetContentType(),
		Metadata:    o.GetMetadata(),
		SHA256:      o.GetSha256(),
	}
	if ns := o.GetModTimeUnixNano(); ns != 0 {
		info.ModTime = time.Unix(0, ns).UTC()
	}
	return info
}

func segmentToPB(s Segment) *pb.Segment {
	out := &pb.Segment{
		StartNanos: int64(s.Start),
		EndNanos:   int64(s.End),
		Text:       s.Text,
		Confidence: s.Confidence,
	}
	for _, w := range s.Words {
		out.Words = append(out.Words, &pb.Word{
			StartNanos: int64(w.Start),
			EndNanos:   int64(w.End),
			Text:       w.Text,
			Confidence: w.Confidence,
		})
	}
	return out
}

func segmentFromPB(s *pb.Segment) Segment {
	out := Segment{
		Start:      time.Duration(s.GetStartNanos()),
		End:        time.Duration(s.GetEndNanos()),
		Text:       s.GetText(),
		Confidence: s.GetConfidence(),
	}
	for _, w := range s.GetWords() {
		out.Words = append(out.Words, Word{
			Start:      time.Duration(w.GetStartNanos()),
			End:        time.Duration(w.GetEndNanos()),
			Text:       w.GetText(),
			Confidence: w.GetConfidence(),
		})
	}
	return out
}

func transcriptToPB(t *Transcript) *pb.Transcript {
	out := &pb.Transcript{
		Text:          t.Text,
		Language:      t.Language,
		DurationNanos: int64(t.Duration),
		Model:         t.Model,
		Segments:      make([]*pb.Segment, len(t.Segments)),
	}
	for i, s := range t.Segments {
		out.Segments[i] = segmentToPB(s)
	}
	return out
}

func transcriptFromPB(t *pb.Transcript) *Transcript {
	out := &Transcript{
		Text:     t.GetText(),
		Language: t.GetLanguage(),
		Duration: time.Duration(t.GetDurationNanos()),
		Model:    t.GetModel(),
	}
	for _, s := range t.GetSegments() {
		out.Segments = append(out.Segments, segmentFromPB(s))
	}
	return out
}

func imagingResultToPB(r *ImagingResult) *pb.ImagingResult {
	out := &pb.ImagingResult{Report: r.Report, Model: r.Model, ModelVersion: r.ModelVersion}
	for _, o := range r.Observations {
		out.Observations = append(out.Observations, o)
	}
	return out
}

func imagingResultFromPB(r *pb.ImagingResult) *ImagingResult {
	out := &ImagingResult{Report: r.GetReport(), Model: r.GetModel(), ModelVersion: r.GetModelVersion()}
	for _, o := range r.GetObservations() {
		out.Observations = append(out.Observations, json.RawMessage(o))
	}
	return out
}

func chatRequestToPB(r ChatRequest) *pb.ChatRequest {
	out := &pb.ChatRequest{
		Model:       r.Model,
		Temperature: r.Temperature,
		MaxTokens:   int32(r.MaxTokens),
		Stop:        r.Stop,
		Messages:    make([]*pb.ChatMessage, len(r.Messages)),
	}
	for i, m := range r.Messages {
		out.Messages[i] = &pb.ChatMessage{Role: m.Role, Content: m.Content}
	}
	return out
}

func chatRequestFromPB(r *pb.ChatRequest) ChatRequest {
	out := ChatRequest{
		Model:       r.GetModel(),
		Temperature: r.Temperature,
		MaxTokens:   int(r.GetMaxTokens()),
		Stop:        r.GetStop(),
	}
	for _, m := range r.GetMessages() {
		out.Messages = append(out.Messages, ChatMessage{Role: m.GetRole(), Content: m.GetContent()})
	}
	return out
}

func chatResponseToPB(r *ChatResponse) *pb.ChatResponse {
	return &pb.ChatResponse{
		Message:      &pb.ChatMessage{Role: r.Message.Role, Content: r.Message.Content},
		Model:        r.Model,
		FinishReason: r.FinishReason,
		Usage: &pb.Usage{
			PromptTokens:     int32(r.Usage.PromptTokens),
			CompletionTokens: int32(r.Usage.CompletionTokens),
			TotalTokens:      int32(r.Usage.TotalTokens),
		},
	}
}

func chatResponseFromPB(r *pb.ChatResponse) *ChatResponse {
	return &ChatResponse{
		Message:      ChatMessage{Role: r.GetMessage().GetRole(), Content: r.GetMessage().GetContent()},
		Model:        r.GetModel(),
		FinishReason: r.GetFinishReason(),
		Usage: Usage{
			PromptTokens:     int(r.GetUsage().GetPromptTokens()),
			CompletionTokens: int(r.GetUsage().GetCompletionTokens()),
			TotalTokens:      int(r.GetUsage().GetTotalTokens()),
		},
	}
}

func searchRequestToPB(r SearchRequest) *pb.SearchRequest {
	out := &pb.SearchRequest{ResourceType: r.ResourceType, PageToken: r.PageToken}
	names := make([]string, 0, len(r.Params))
	for name := range r.Params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		out.Params = append(out.Params, &pb.SearchParam{Name: name, Values: r.Params[name]})
	}
	return out
}

func searchRequestFromPB(r *pb.SearchRequest) SearchRequest {
	out := SearchRequest{ResourceType: r.GetResourceType(), PageToken: r.GetPageToken()}
	if len(r.GetParams()) > 0 {
		out.Params = url.Values{}
		for _, p := range r.GetParams() {
			out.Params[p.GetName()] = append(out.Params[p.GetName()], p.GetValues()...)
		}
	}
	return out
}

func searchPageToPB(p *SearchPage) *pb.SearchPage {
	out := &pb.SearchPage{Total: int64(p.Total), Next: p.Next}
	for _, r := range p.Resources {
		out.Resources = append(out.Resources, r)
	}
	return out
}

func searchPageFromPB(p *pb.SearchPage) *SearchPage {
	out := &SearchPage{Total: int(p.GetTotal()), Next: p.GetNext()}
	for _, r := range p.GetResources() {
		out.Resources = append(out.Resources, json.RawMessage(r))
	}
	return out
}
