package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/go-resty/resty/v2"

	"github.com/healthhub/healthhub/sdk"
)

// failure converts a call that did not end in a 2xx response into an error.
func (c *Client) failure(ctx context.Context, req Request, resp *resty.Response, err error) error {
	var stop *retryStopError
	if errors.As(err, &stop) && resp != nil && resp.RawResponse != nil {
		return c.statusError(req, resp, stop.Error())
	}
	if err == nil {
		return c.statusError(req, resp, "")
	}

	var outcome *sdk.Outcome
	if errors.As(err, &outcome) {
		return fmt.Errorf("%s: %w", req.Op, err)
	}

	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, errCallTimeout), errors.Is(err, context.DeadlineExceeded), isNetTimeout(err):
		return c.timeoutOutcome(req.Op)
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", req.Op, ctx.Err())
	case errors.Is(err, resty.ErrResponseBodyTooLarge):
		return sdk.Upstreamf(sdk.CodeTooLong, "%s: response from %s is larger than %d bytes; raise max_response_bytes if this is expected", req.Op, c.host, c.opts.MaxResponseBytes)
	}
	return sdk.Upstreamf(sdk.CodeTransient, "%s: request to %s failed: %v; check that the service is up there and that the plugin's endpoint points at it",
		req.Op, c.host, transportCause(err))
}

func (c *Client) timeoutOutcome(op string) error {
	return sdk.Upstreamf(sdk.CodeTimeout, "%s: %s did not answer within %s; raise timeout if the service is slow", op, c.host, c.opts.Timeout)
}

// statusError builds the outcome for a non-2xx response: one issue for the
// status, whose diagnostic carries the vendor's message, followed by the
// issues the vendor's error body lists.
func (c *Client) statusError(req Request, resp *resty.Response, note string) error {
	status := resp.StatusCode()
	if status == http.StatusUnauthorized && c.opts.Unauthorized != nil {
		c.opts.Unauthorized()
	}

	body := resp.Body()
	if req.Stream {
		body = readLimited(resp.RawBody(), 64<<10)
	}
	message, issues := c.parseError(status, body)

	diagnostic := fmt.Sprintf("%s: %s returned HTTP %d %s", req.Op, c.host, status, http.StatusText(status))
	if message != "" {
		diagnostic += ": " + message
	}
	if note != "" {
		diagnostic += " (" + note + ")"
	}
	first := sdk.Issue{Severity: sdk.SeverityError, Code: StatusCode(status), Diagnostics: diagnostic, Source: sdk.SourceUpstream}
	return sdk.NewOutcome(append([]sdk.Issue{first}, issues...)...)
}

func (c *Client) parseError(status int, body []byte) (string, []sdk.Issue) {
	if c.opts.ParseError != nil {
		message, issues := c.opts.ParseError(status, body)
		for i := range issues {
			if issues[i].Source == "" {
				issues[i].Source = sdk.SourceUpstream
			}
		}
		return truncate(message, 500), issues
	}
	return errorSnippet(body), nil
}

// StatusCode maps an HTTP status to the FHIR issue-type code the hub uses
// for it.
func StatusCode(status int) sdk.IssueCode {
	switch status {
	case http.StatusUnauthorized:
		return sdk.CodeLogin
	case http.StatusForbidden:
		return sdk.CodeForbidden
	case http.StatusNotFound:
		return sdk.CodeNotFound
	case http.StatusGone:
		return sdk.CodeDeleted
	case http.StatusConflict, http.StatusPreconditionFailed:
		return sdk.CodeConflict
	case http.StatusRequestEntityTooLarge:
		return sdk.CodeTooLong
	case http.StatusMethodNotAllowed, http.StatusNotAcceptable, http.StatusUnsupportedMediaType, http.StatusNotImplemented:
		return sdk.CodeNotSupported
	case http.StatusTooManyRequests:
		return sdk.CodeThrottled
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return sdk.CodeTimeout
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return sdk.CodeTransient
	}
	if status >= 400 && status < 500 {
		return sdk.CodeInvalid
	}
	return sdk.CodeException
}

// transportCause returns the error without the request URL that
// *url.Error adds, because the URL may carry search parameters with
// patient data.
func transportCause(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err.Error()
	}
	return err.Error()
}

func isNetTimeout(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

func readLimited(body io.Reader, limit int64) []byte {
	if body == nil {
		return nil
	}
	data, _ := io.ReadAll(io.LimitReader(body, limit))
	return data
}
