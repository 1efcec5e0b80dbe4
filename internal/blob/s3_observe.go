package blob

import (
	"context"
	"errors"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// observeAttempts adds a middleware to the deserialize step, which runs
// inside the retry loop, so that it sees every attempt: a throttled request
// retried twice reports three calls.
func observeAttempts(fn func(op string, status int)) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("PeriscopeObserveAttempt",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				status := 0
				if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil {
					status = resp.StatusCode
				} else if re := (*smithyhttp.ResponseError)(nil); errors.As(err, &re) && re.Response != nil {
					status = re.Response.StatusCode
				}
				fn(awsmiddleware.GetOperationName(ctx), status)
				return out, md, err
			}), middleware.Before)
	}
}

// countAttempts counts the attempts of one call into n (per-call option;
// the attempts of one call run one after another).
func countAttempts(n *int) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("PeriscopeCountAttempts",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				*n++
				return next.HandleDeserialize(ctx, in)
			}), middleware.Before)
	}
}
