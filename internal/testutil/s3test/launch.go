package s3test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Gateway is a running versitygw process. Launch starts one without a
// testing.TB, for programs such as the peer benchmark; tests use Start.
type Gateway struct {
	Endpoint  string // http://127.0.0.1:port
	AccessKey string
	SecretKey string
	Region    string

	cmd    *exec.Cmd
	exited chan error
}

// Launch starts versitygw with its posix backend on dir, listening on a
// free loopback port with random root credentials, and waits until it
// answers. Its output goes to out; extra flags (such as --keep-alive) go
// before the backend.
func Launch(bin, dir string, out io.Writer, extra ...string) (*Gateway, error) {
	var err error
	for range 3 { // another process may take the free port first
		var g *Gateway
		if g, err = launchOnce(bin, dir, out, extra); err == nil {
			return g, nil
		}
	}
	return nil, fmt.Errorf("start versitygw: %w", err)
}

func launchOnce(bin, dir string, out io.Writer, extra []string) (*Gateway, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	g := &Gateway{Endpoint: "http://" + addr, AccessKey: randomHex(10), SecretKey: randomHex(20), Region: "us-east-1"}
	args := append([]string{"--port", addr, "--region", g.Region,
		"--access", g.AccessKey, "--secret", g.SecretKey, "--quiet"}, extra...)
	g.cmd = exec.Command(bin, append(args, "posix", dir)...)
	g.cmd.Env = cleanEnv()
	g.cmd.Stdout, g.cmd.Stderr = out, out
	if err := g.cmd.Start(); err != nil {
		return nil, err
	}
	g.exited = make(chan error, 1)
	go func() { g.exited <- g.cmd.Wait() }()
	if err := g.waitReady(); err != nil {
		g.Stop()
		return nil, err
	}
	return g, nil
}

// PID is the server's process id.
func (g *Gateway) PID() int { return g.cmd.Process.Pid }

// Stop kills the server and waits for it to end.
func (g *Gateway) Stop() {
	g.cmd.Process.Kill()
	err := <-g.exited
	g.exited <- err // a second Stop returns at once
}

// waitReady polls until the server answers HTTP at all (an unsigned
// request gets 403, which is fine) or its process exits.
func (g *Gateway) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-g.exited:
			g.exited <- err // Stop waits on it too
			return fmt.Errorf("versitygw exited: %v", err)
		default:
		}
		if resp, err := client.Get(g.Endpoint); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("versitygw did not answer at %s within %v", g.Endpoint, startTimeout)
}

// cleanEnv keeps the gateway's own settings from leaking in from the
// developer's environment.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VGW_") && !strings.HasPrefix(kv, "ROOT_") {
			env = append(env, kv)
		}
	}
	return env
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
