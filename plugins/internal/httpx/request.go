package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/go-resty/resty/v2"

	"github.com/healthhub/healthhub/sdk"
)

// Request is one call to the vendor service.
type Request struct {
	// Op names the call in errors and logs, such as "chat" or "fhir read
	// Patient". It must not contain patient data.
	Op     string
	Method string
	// Path is resolved against the base URL. Ignored when URL is set.
	Path string
	// URL is an absolute URL to call in place of Path, such as a paging
	// link the service returned. It must be on the base URL's host.
	URL   *url.URL
	Query url.Values
	// Header is added to the client's headers for this request.
	Header http.Header
	// Body is sent as is, with the Content-Type set in Header.
	Body []byte
	// Form holds form fields: sent as multipart/form-data together with
	// Files, or URL-encoded when there are no Files.
	Form  url.Values
	Files []File
	// Stream leaves the response body unread in Response.Stream.
	Stream bool
}

// File is one file part of a multipart request.
type File struct {
	Field, Name, ContentType string
	Content                  io.Reader
}

// Response is a 2xx response.
type Response struct {
	Status int
	Header http.Header
	// Body is the whole body; nil for a streamed request.
	Body []byte
	// Stream is the unread body of a streamed request. The caller must
	// close it, which also releases the call's context.
	Stream io.ReadCloser
}

// Do sends req and returns the response when its status is 2xx. Any other
// outcome is an error: an *sdk.Outcome for upstream statuses, timeouts and
// transport failures, or the context's error wrapped when the caller
// cancelled.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	target, err := c.target(req)
	if err != nil {
		return nil, err
	}

	ctx, cancel, guard := c.callContext(ctx, req)
	ctx = context.WithValue(ctx, opKey{}, req.Op)
	r := c.newRestyRequest(ctx, req)

	resp, err := r.Execute(req.Method, target.String())
	if err == nil && resp.IsSuccess() {
		return c.success(ctx, resp, req, cancel, guard), nil
	}
	if guard != nil {
		guard.stop()
	}
	defer cancel(nil)
	if req.Stream && resp != nil {
		defer drain(resp.RawBody())
	}
	return nil, c.failure(ctx, req, resp, err)
}

type opKey struct{}

func opFrom(ctx context.Context) string {
	op, _ := ctx.Value(opKey{}).(string)
	return op
}

// target resolves the request URL and checks that it stays on the
// service's host.
func (c *Client) target(req Request) (*url.URL, error) {
	if req.URL == nil {
		return c.Resolve(req.Path), nil
	}
	if !req.URL.IsAbs() || req.URL.Scheme != c.opts.BaseURL.Scheme || req.URL.Host != c.opts.BaseURL.Host {
		return nil, sdk.Invalidf("", "%s: URL on host %q is not on the configured service %s://%s; the plugin sends data only to the configured host",
			req.Op, req.URL.Host, c.opts.BaseURL.Scheme, c.opts.BaseURL.Host)
	}
	return req.URL, nil
}

var (
	errCallTimeout = errors.New("call timed out")
	errIdleTimeout = errors.New("stream idle timeout")
)

// callContext bounds a call. A buffered call gets a deadline, which the
// retry logic reads. A streamed call gets a watchdog timer instead, because
// its limit changes from Timeout to StreamIdleTimeout once the headers
// arrive.
func (c *Client) callContext(ctx context.Context, req Request) (context.Context, context.CancelCauseFunc, *watchdog) {
	if !req.Stream {
		timed, cancelTimeout := context.WithTimeoutCause(ctx, c.opts.Timeout, errCallTimeout)
		return timed, func(error) { cancelTimeout() }, nil
	}
	streamCtx, cancel := context.WithCancelCause(ctx)
	return streamCtx, cancel, newWatchdog(c.opts.Timeout, cancel)
}

func (c *Client) newRestyRequest(ctx context.Context, req Request) *resty.Request {
	r := c.resty.R().SetContext(ctx)
	for name, values := range req.Header {
		for _, value := range values {
			r.Header.Add(name, value)
		}
	}
	if req.Query != nil {
		r.SetQueryParamsFromValues(req.Query)
	}
	if req.Body != nil {
		r.SetBody(req.Body)
	}
	if req.Form != nil {
		r.SetFormDataFromValues(req.Form)
	}
	for _, f := range req.Files {
		r.SetMultipartField(f.Field, f.Name, f.ContentType, f.Content)
	}
	if req.Stream {
		r.SetDoNotParseResponse(true)
	}
	return r
}

func (c *Client) success(ctx context.Context, resp *resty.Response, req Request, cancel context.CancelCauseFunc, guard *watchdog) *Response {
	out := &Response{Status: resp.StatusCode(), Header: resp.Header()}
	if !req.Stream {
		cancel(nil)
		out.Body = resp.Body()
		return out
	}
	guard.idle(c.opts.StreamIdleTimeout)
	out.Stream = &streamBody{client: c, ctx: ctx, op: req.Op, body: resp.RawBody(), guard: guard, cancel: cancel}
	return out
}
