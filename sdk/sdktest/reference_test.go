package sdktest_test

import (
	"context"
	"io"

	"github.com/healthhub/healthhub/sdk"
)

// readAllContext reads r to its end, at most limit bytes, checking ctx
// between reads. It is how the reference providers of these tests take
// their input.
func readAllContext(ctx context.Context, r io.Reader, limit int64) ([]byte, error) {
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if int64(len(out)) > limit {
			return nil, sdk.Errorf(sdk.CodeTooLong, "input is larger than %d bytes", limit)
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
