//go:build !unix

package export

import "os"

// openFlags: without O_NOFOLLOW and O_NONBLOCK, openRegular relies on
// its Lstat before and its SameFile check after the open.
const openFlags = os.O_RDONLY
