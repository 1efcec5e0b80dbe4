//go:build unix

package export

import (
	"os"
	"syscall"
)

// openFlags make the open itself safe should the file change after
// openRegular looked at it: O_NOFOLLOW fails on a link, O_NONBLOCK keeps
// a FIFO from waiting for a writer.
const openFlags = os.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK | syscall.O_CLOEXEC
