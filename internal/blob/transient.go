package blob

import (
	"errors"
	"io"
	"net"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// IsTransient reports whether err is the kind of failure that may well
// succeed if the whole operation is tried again later: throttling, server
// errors, timeouts, connections reset or cut short mid-body. The SDK
// already retries single requests; this is for callers that retry a larger
// unit of work, such as one user's export, whose streamed reads the SDK
// cannot replay. Missing objects, refused writes and bad input are never
// transient.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, ErrNotExist) || errors.Is(err, ErrPrecondition) {
		return false
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) {
		if code := resp.HTTPStatusCode(); code == 429 || code >= 500 {
			return true
		}
	}
	var nerr net.Error
	return errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) ||
		(errors.As(err, &nerr) && nerr.Timeout())
}
