package sdk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/healthhub/healthhub/sdk/internal/pb"
)

// statusError turns an error a provider returned into a gRPC status error
// whose details carry the outcome, with every issue that names no source
// marked as raised by the plugin.
func statusError(err error) error {
	if err == nil {
		return nil
	}
	outcome := AsOutcome(err).WithSource(SourcePlugin)
	st := status.New(grpcCode(outcome), outcome.Error())
	detailed, detailErr := st.WithDetails(outcomeToPB(outcome))
	if detailErr != nil {
		return st.Err()
	}
	return detailed.Err()
}

// rpcError turns the error of a gRPC call made with ctx back into the error
// the provider returned. When ctx has ended, the error wraps ctx.Err() so
// that callers can match context.Canceled and context.DeadlineExceeded.
// Status errors without an outcome come from the transport and become
// outcomes whose source is the hub.
func rpcError(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", op, ctxErr)
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", op, err)
	}
	if st.Code() == codes.DeadlineExceeded {
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < deadlineSlack {
			// The plugin's copy of the deadline fired a moment before
			// ours: report it as the caller's own deadline.
			<-ctx.Done()
			return fmt.Errorf("%s: %w", op, ctx.Err())
		}
	}
	for _, detail := range st.Details() {
		if outcome, ok := detail.(*pb.Outcome); ok {
			return outcomeFromPB(outcome)
		}
	}
	o := Errorf(transportCode(st.Code()), "%s: plugin call failed: %s: %s", op, st.Code(), st.Message())
	o.Issues[0].Source = SourceHub
	return o
}

// deadlineSlack is the time before the caller's deadline within which a
// DeadlineExceeded status from the plugin counts as that deadline. gRPC
// sends the remaining time to the plugin, whose timer fires independently
// of the caller's.
const deadlineSlack = time.Second

// grpcCode picks the gRPC status code for an outcome from its first
// error-level issue. The code only helps gRPC tooling; the outcome in the
// details is what the client reads.
func grpcCode(o *Outcome) codes.Code {
	for _, mapping := range []struct {
		sentinel error
		code     codes.Code
	}{
		{ErrNotFound, codes.NotFound},
		{ErrInvalid, codes.InvalidArgument},
		{ErrConflict, codes.Aborted},
		{ErrForbidden, codes.PermissionDenied},
		{ErrNotSupported, codes.Unimplemented},
		{ErrTooLarge, codes.OutOfRange},
		{ErrUnavailable, codes.Unavailable},
		{ErrTimeout, codes.DeadlineExceeded},
	} {
		if errors.Is(o, mapping.sentinel) {
			return mapping.code
		}
	}
	for _, issue := range o.Issues {
		if issue.Code == CodeIncomplete {
			return codes.Canceled
		}
	}
	return codes.Unknown
}

// transportCode maps the status code of a failed call that carries no
// outcome, such as a lost connection, to an issue code.
func transportCode(c codes.Code) IssueCode {
	switch c {
	case codes.Unavailable:
		return CodeTransient
	case codes.DeadlineExceeded:
		return CodeTimeout
	case codes.Canceled:
		// The caller's context is still live (rpcError checks it first),
		// so the connection ended the call, as when the plugin stops.
		return CodeTransient
	case codes.ResourceExhausted:
		return CodeTooLong
	case codes.Unimplemented:
		return CodeNotSupported
	case codes.InvalidArgument:
		return CodeInvalid
	case codes.NotFound:
		return CodeNotFound
	case codes.PermissionDenied, codes.Unauthenticated:
		return CodeForbidden
	default:
		return CodeException
	}
}

func outcomeToPB(o *Outcome) *pb.Outcome {
	out := &pb.Outcome{Issues: make([]*pb.Issue, len(o.Issues))}
	for i, issue := range o.Issues {
		out.Issues[i] = &pb.Issue{
			Severity:    string(issue.Severity),
			Code:        string(issue.Code),
			Path:        issue.Path,
			Expression:  issue.Expression,
			Diagnostics: issue.Diagnostics,
			Rule:        issue.Rule,
			Source:      string(issue.Source),
		}
	}
	return out
}

func outcomeFromPB(o *pb.Outcome) *Outcome {
	out := &Outcome{Issues: make([]Issue, len(o.GetIssues()))}
	for i, issue := range o.GetIssues() {
		out.Issues[i] = Issue{
			Severity:    Severity(issue.GetSeverity()),
			Code:        IssueCode(issue.GetCode()),
			Path:        issue.GetPath(),
			Expression:  issue.GetExpression(),
			Diagnostics: issue.GetDiagnostics(),
			Rule:        issue.GetRule(),
			Source:      Source(issue.GetSource()),
		}
	}
	return out
}
