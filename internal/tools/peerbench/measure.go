package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// usage is what one measured run cost its client.
type usage struct {
	Wall      time.Duration
	User, Sys time.Duration // CPU of the client process and the children it waited for
	MaxRSSKiB int64         // largest peak RSS of any one client process
	SumRSSKiB int64         // peak RSS summed over concurrent processes (shard runs)
	ServerCPU time.Duration // CPU the S3 server spent meanwhile
	Procs     int
}

func (u usage) CPU() time.Duration { return u.User + u.Sys }

// job is one client process to run.
type job struct {
	path string
	args []string
	env  []string
}

func (j job) String() string {
	return strings.Join(append([]string{j.path}, j.args...), " ")
}

// measure runs the jobs at once, each directly (never through a shell: the
// rusage wait4 returns covers the process and the children it reaped, so a
// shell in between would hide nothing but would add its own figures), and
// returns wall time until the last one ends, their summed CPU and their
// peak RSS. serverPID, when not 0, is the S3 server, whose CPU is read
// from /proc before and after.
func measure(ctx context.Context, jobs []job, serverPID int) (usage, error) {
	srv0 := procCPU(serverPID)
	cmds := make([]*exec.Cmd, len(jobs))
	outs := make([]*tailBuffer, len(jobs))
	start := time.Now()
	for i, j := range jobs {
		cmd := exec.CommandContext(ctx, j.path, j.args...)
		cmd.Env = j.env
		outs[i] = &tailBuffer{max: 8 << 10}
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		if err := cmd.Start(); err != nil {
			for _, c := range cmds[:i] {
				c.Process.Kill()
				c.Wait()
			}
			return usage{}, fmt.Errorf("start %s: %w", j.path, err)
		}
		cmds[i] = cmd
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, cmd := range cmds {
		wg.Go(func() { errs[i] = cmd.Wait() })
	}
	wg.Wait()
	u := usage{Wall: time.Since(start), Procs: len(jobs)}
	u.ServerCPU = procCPU(serverPID) - srv0
	for i, cmd := range cmds {
		ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		if ok {
			u.User += time.Duration(ru.Utime.Nano())
			u.Sys += time.Duration(ru.Stime.Nano())
			u.MaxRSSKiB = max(u.MaxRSSKiB, ru.Maxrss) // KiB on Linux
			u.SumRSSKiB += ru.Maxrss
		}
		if errs[i] != nil {
			return u, fmt.Errorf("%s: %w\n%s", jobs[i], errs[i], outs[i])
		}
	}
	return u, nil
}

// procCPU is a process's user+sys CPU from /proc/<pid>/stat, or 0.
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14, stime 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const clkTck = 100 // USER_HZ, 100 on every Linux architecture Go supports
	return time.Duration(ut+st) * time.Second / clkTck
}

// tailBuffer keeps the last max bytes written, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
