package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/asctest"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/icstest"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
	"github.com/periscope-sunset/periscope-sunset/sunset"
	"github.com/periscope-sunset/periscope-sunset/sunset/gate"
)

// stateBackend is where a test keeps the runbook's state: a local folder
// or a prefix on versitygw.
type stateBackend struct {
	env   []string // environment for the binary
	flags []string // --state URL, plus --s3-path-style on S3
	store blob.Store
}

// run runs a runbook command: words (the command path and any arguments),
// then the state flags, then more flags.
func (b stateBackend) run(t *testing.T, words []string, flags ...string) result {
	t.Helper()
	args := append(append(append([]string{}, words...), b.flags...), flags...)
	return run(t, b.env, args...)
}

func stateBackends(t *testing.T, fn func(t *testing.T, b stateBackend)) {
	t.Run("local", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "sunset-state")
		st, _ := blob.NewFile(dir)
		fn(t, stateBackend{flags: []string{"--state", dir}, store: st})
	})
	t.Run("s3", func(t *testing.T) {
		srv := s3test.Start(t)
		bucket := srv.NewBucket(t)
		fn(t, stateBackend{
			env:   srv.Env(),
			flags: []string{"--state", "s3://" + bucket + "/ops/sunset", "--s3-path-style"},
			store: srv.Store(t, bucket, "ops/sunset"),
		})
	})
}

func keysUnder(t *testing.T, st blob.Store, prefix string) []string {
	t.Helper()
	var keys []string
	if err := st.List(context.Background(), prefix, func(i blob.Info) error {
		keys = append(keys, i.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

func auditEvents(t *testing.T, b stateBackend) []sunset.Event {
	t.Helper()
	r := b.run(t, []string{"runbook", "audit"}, "--json").want(t, 0)
	var events []sunset.Event
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	for dec.More() {
		var e sunset.Event
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("audit --json: %v\n%s", err, r.stdout)
		}
		events = append(events, e)
	}
	return events
}

func TestSignupsE2E(t *testing.T) {
	stateBackends(t, func(t *testing.T, b stateBackend) {
		r := b.run(t, []string{"signups", "status"}).want(t, 0)
		if !strings.Contains(r.stdout, "sign-ups:    open") {
			t.Fatalf("fresh status:\n%s", r.stdout)
		}
		r = b.run(t, []string{"signups", "block"}, "--reason", "Periscope is shutting down", "--info-url", "https://example.com/bye",
			"--sunset-date", "2027-03-31", "--tz", "America/Los_Angeles", "--actor", "ana", "--dry-run").want(t, 0)
		if !strings.Contains(r.stdout, "would block sign-ups: flag version 0 -> 1") || !strings.Contains(r.stdout, "nothing was changed") {
			t.Fatalf("dry run:\n%s", r.stdout)
		}
		if keys := keysUnder(t, b.store, ""); len(keys) != 0 {
			t.Fatalf("dry run stored %v", keys)
		}
		b.run(t, []string{"signups", "block"}, "--reason", "Periscope is shutting down", "--info-url", "https://example.com/bye",
			"--sunset-date", "2027-03-31", "--tz", "America/Los_Angeles", "--actor", "ana").want(t, 0)
		r = b.run(t, []string{"signups", "status"}, "--json").want(t, 0)
		var st struct {
			sunset.Flag
			Gate gate.State `json:"gate"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
			t.Fatal(err)
		}
		la, _ := time.LoadLocation("America/Los_Angeles")
		if !st.Blocked || st.UpdatedBy != "ana" || st.Version != 1 || !st.SunsetDate.Equal(time.Date(2027, 3, 31, 0, 0, 0, 0, la)) ||
			!st.Gate.Blocked || st.Gate.InfoURL != "https://example.com/bye" {
			t.Fatalf("status after block: %+v", st)
		}
		r = b.run(t, []string{"signups", "unblock"}, "--reason", "blocked by mistake", "--actor", "bo").want(t, 0)
		if !strings.Contains(r.stdout, "sign-ups unblocked (flag version 2, by bo)") {
			t.Fatalf("unblock:\n%s", r.stdout)
		}
		r = b.run(t, []string{"signups", "block"}, "--reason", "x", "--info-url", "not a url", "--actor", "ana").want(t, 1)
		if !strings.Contains(r.stderr, "info URL") {
			t.Errorf("bad --info-url: %s", r.stderr)
		}
		r = b.run(t, []string{"signups", "block"}, "--reason", "x", "--sunset-date", "next week", "--actor", "ana").want(t, 1)
		if !strings.Contains(r.stderr, "--sunset-date") || !strings.Contains(r.stderr, "--help") {
			t.Errorf("bad --sunset-date: %s", r.stderr)
		}
		events := auditEvents(t, b)
		if len(events) != 2 || events[0].Action != "signups.block" || events[0].Actor != "ana" ||
			events[1].Action != "signups.unblock" || events[1].Actor != "bo" {
			t.Fatalf("audit: %+v", events)
		}
	})
}

// TestConcurrentBlockE2E runs several `signups block` processes at once.
// Whoever runs first wins; a process that read the same version as a
// winner loses with the clear error. Either way no change is lost: every
// success is one stored version and one audit entry. (The library test
// TestConcurrentBlock forces every writer to read the same version.)
func TestConcurrentBlockE2E(t *testing.T) {
	stateBackends(t, func(t *testing.T, b stateBackend) {
		const n = 6
		results := make([]result, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				results[i] = b.run(t, []string{"signups", "block"}, "--reason", fmt.Sprintf("reason %d", i), "--actor", fmt.Sprintf("op%d", i))
			})
		}
		wg.Wait()
		conflict := regexp.MustCompile(`the sign-up flag changed since it was read \(by op\d at [^)]+\); rerun to see the new state`)
		wins := 0
		for i, r := range results {
			switch {
			case r.code == 0:
				wins++
			case r.code == 1 && conflict.MatchString(r.stderr):
			default:
				t.Errorf("op%d: exit %d\n%s", i, r.code, r.stderr)
			}
		}
		versions := len(keysUnder(t, b.store, "signups/flag/"))
		blocks := 0
		for _, e := range auditEvents(t, b) {
			if e.Action == "signups.block" {
				blocks++
			}
		}
		if wins == 0 || versions != wins || blocks != wins {
			t.Fatalf("%d processes won, %d flag versions stored, %d audited: want them equal and > 0", wins, versions, blocks)
		}
		t.Logf("%d of %d concurrent blocks won", wins, n)
	})
}

// ascEnv points the binary at the fake App Store Connect.
func ascEnv(t *testing.T, asc *asctest.Server) []string {
	return []string{
		"PERISCOPE_SUNSET_ASC_BASE_URL=" + asc.URL,
		"PERISCOPE_SUNSET_ASC_KEY_FILE=" + asc.WriteKey(t, t.TempDir()),
		"PERISCOPE_SUNSET_ASC_KEY_ID=" + asc.KeyID,
		"PERISCOPE_SUNSET_ASC_ISSUER_ID=" + asc.IssuerID,
		"PERISCOPE_SUNSET_ASC_APP_ID=" + asc.AppID,
	}
}

func stepStates(t *testing.T, b stateBackend) map[string]sunset.StepStatus {
	t.Helper()
	r := b.run(t, []string{"runbook", "status"}, "--json").want(t, 0)
	var doc struct {
		Plan  sunset.Schedule     `json:"plan"`
		Steps []sunset.StepStatus `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	out := map[string]sunset.StepStatus{}
	for _, s := range doc.Steps {
		out[s.Step] = s
	}
	return out
}

// TestRunbookE2E schedules a delisting, ticks it through an App Store
// Connect error and its retry, confirms the Google step, and reads the
// status, calendar and audit trail.
func TestRunbookE2E(t *testing.T) {
	stateBackends(t, func(t *testing.T, b stateBackend) {
		asc := asctest.Start(t, "USA", "GBR", "FRA", "DEU", "JPN")
		withASC := b
		withASC.env = append(append([]string{}, b.env...), ascEnv(t, asc)...)

		r := b.run(t, []string{"runbook", "tick"}, "--actor", "cron").want(t, 1)
		if !strings.Contains(r.stderr, "no delisting scheduled yet") {
			t.Fatalf("tick with no schedule:\n%s", r.stderr)
		}
		r = b.run(t, []string{"delist", "schedule"}, "--at", "2021-03-31", "--tz", "America/Los_Angeles",
			"--stores", "apple,google", "--info-url", "https://example.com/bye", "--actor", "ana").want(t, 0)
		if !strings.Contains(r.stdout, "scheduled: delisting from apple and google at 2021-03-31T00:00:00-07:00") ||
			!strings.Contains(r.stdout, "signups-blocked      2021-03-01 00:00 PST") {
			t.Fatalf("schedule:\n%s", r.stdout)
		}

		objects := len(keysUnder(t, b.store, ""))
		r = withASC.run(t, []string{"runbook", "tick"}, "--actor", "cron", "--dry-run").want(t, 0)
		if !strings.Contains(r.stdout, "would run delist-apple") || !strings.Contains(r.stdout, "nothing was changed") {
			t.Fatalf("tick --dry-run:\n%s", r.stdout)
		}
		if len(asc.Calls()) != 0 || len(keysUnder(t, b.store, "")) != objects {
			t.Fatalf("tick --dry-run changed something: %d App Store calls", len(asc.Calls()))
		}

		asc.FailNext("PATCH", 500, "UNEXPECTED_ERROR", "An unexpected error occurred on the server side.")
		r = withASC.run(t, []string{"runbook", "tick"}, "--actor", "cron").want(t, 1)
		for _, want := range []string{"FAILED    delist-apple", "UNEXPECTED_ERROR", "opened    delist-google", "Play Console",
			"runbook confirm delist-google --evidence TEXT", "ran       signups-blocked", "the next tick retries them"} {
			if !strings.Contains(r.stdout+r.stderr, want) {
				t.Errorf("first tick output lacks %q:\n%s\n%s", want, r.stdout, r.stderr)
			}
		}
		if s := stepStates(t, b)[sunset.StepDelistApple]; s.State != sunset.StateFailed || !strings.Contains(s.Error, "500") {
			t.Fatalf("delist-apple after the error answer: %+v", s)
		}
		r = withASC.run(t, []string{"runbook", "tick"}, "--actor", "cron").want(t, 0)
		if !strings.Contains(r.stdout, "ran       delist-apple         done: App Store app "+asc.AppID) {
			t.Fatalf("retry tick:\n%s", r.stdout)
		}
		if a := asc.Available(); len(a) != 0 {
			t.Fatalf("still on the App Store in %v", a)
		}
		for code, n := range asc.Patches() {
			if n != 1 {
				t.Errorf("%s made unavailable %d times", code, n)
			}
		}
		b.run(t, []string{"runbook", "confirm", "delist-google", "--evidence", "unpublished in Play Console, OPS-42"}, "--actor", "ana").want(t, 0)
		r = b.run(t, []string{"runbook", "confirm", "delist-google", "--evidence", "again"}, "--actor", "ana").want(t, 1)
		if !strings.Contains(r.stderr, "already done (by ana") {
			t.Errorf("second confirm: %s", r.stderr)
		}

		states := stepStates(t, b)
		for step, want := range map[string]string{
			sunset.StepSignupsBlocked: sunset.StateDone, sunset.StepAnnouncement: sunset.StateAwaiting,
			sunset.StepDelistApple: sunset.StateDone, sunset.StepDelistGoogle: sunset.StateDone,
			sunset.StepReadOnly: sunset.StateDone, sunset.StepExportWindowOpen: sunset.StateAwaiting,
			sunset.StepExportWindowClose: sunset.StateAwaiting,
		} {
			if states[step].State != want {
				t.Errorf("%s is %s, want %s", step, states[step].State, want)
			}
		}
		if g := states[sunset.StepDelistGoogle]; g.Actor != "ana" || g.Evidence != "unpublished in Play Console, OPS-42" {
			t.Errorf("delist-google: %+v", g)
		}
		r = b.run(t, []string{"runbook", "status"}).want(t, 0)
		if !regexp.MustCompile(`delist-google\s+2021-03-31 00:00 PDT\s+done\s+ana\s+unpublished in Play Console, OPS-42`).MatchString(r.stdout) {
			t.Errorf("status table:\n%s", r.stdout)
		}
		r = b.run(t, []string{"signups", "status"}).want(t, 0)
		if !strings.Contains(r.stdout, "BLOCKED") || !strings.Contains(r.stdout, "read-only:   2021-03-31 07:00 UTC") {
			t.Errorf("sign-ups after the runbook:\n%s", r.stdout)
		}

		r = b.run(t, []string{"runbook", "ics"}).want(t, 0)
		cal, err := icstest.Parse([]byte(r.stdout))
		if err != nil || len(cal.Children) != 7 {
			t.Fatalf("runbook ics: %v\n%s", err, r.stdout)
		}

		var trail []string
		for _, e := range auditEvents(t, b) {
			trail = append(trail, e.Actor+" "+e.Action+" "+e.Subject+" "+e.Result)
		}
		for _, want := range []string{"ana delist.schedule runbook ok", "cron signups.block signups ok",
			"cron runbook.step delist-apple failed", "cron runbook.step delist-apple done",
			"cron runbook.step delist-google awaiting confirmation", "ana runbook.confirm delist-google done"} {
			if !slicesContains(trail, want) {
				t.Errorf("audit trail lacks %q:\n%s", want, strings.Join(trail, "\n"))
			}
		}
		r = b.run(t, []string{"runbook", "audit"}).want(t, 0)
		if !regexp.MustCompile(`cron\s+runbook.step\s+delist-apple\s+failed\s+make unavailable in USA .*App Store Connect PATCH`).MatchString(r.stdout) {
			t.Errorf("audit table:\n%s", r.stdout)
		}
		checkNoSecrets(t, b.store, asc)
	})
}

// checkNoSecrets: nothing in the state store holds key material or a token.
func checkNoSecrets(t *testing.T, st blob.Store, asc *asctest.Server) {
	t.Helper()
	keyPEM, _ := os.ReadFile(asc.WriteKey(t, t.TempDir()))
	body := strings.Join(strings.Split(string(keyPEM), "\n")[1:3], "")
	for _, k := range keysUnder(t, st, "") {
		rc, err := st.Get(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		for _, secret := range []string{"PRIVATE KEY", body[:40], "eyJhbGciOiJFUzI1NiIs", "Bearer "} {
			if strings.Contains(string(b), secret) {
				t.Errorf("%s holds a secret (%q)", k, secret[:10])
			}
		}
	}
}

func slicesContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestConcurrentTicksE2E runs several ticks at once, as cron on several
// machines would: each step runs exactly once.
func TestConcurrentTicksE2E(t *testing.T) {
	stateBackends(t, func(t *testing.T, b stateBackend) {
		asc := asctest.Start(t, "USA", "GBR", "FRA", "DEU", "JPN", "BRA")
		b.run(t, []string{"delist", "schedule"}, "--at", "2021-03-31", "--stores", "apple,google", "--actor", "ana").want(t, 0)
		withASC := b
		withASC.env = append(append([]string{}, b.env...), ascEnv(t, asc)...)
		const n = 5
		results := make([]result, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { results[i] = withASC.run(t, []string{"runbook", "tick"}, "--actor", fmt.Sprintf("cron%d", i)) })
		}
		wg.Wait()
		ran := map[string]int{}
		line := regexp.MustCompile(`(?m)^(ran|opened)\s+(\S+)`)
		for i, r := range results {
			if r.code != 0 {
				t.Fatalf("tick %d: exit %d\n%s\n%s", i, r.code, r.stdout, r.stderr)
			}
			for _, m := range line.FindAllStringSubmatch(r.stdout, -1) {
				ran[m[2]]++
			}
		}
		for step, s := range stepStates(t, b) {
			if ran[step] != 1 || s.Attempt != 1 {
				t.Errorf("%s: run by %d ticks, attempt %d; want exactly once", step, ran[step], s.Attempt)
			}
			if recs := keysUnder(t, b.store, "runbook/steps/"+step+"/"); len(recs) != 2 {
				t.Errorf("%s: records %v, want one claim and one result", step, recs)
			}
		}
		for code, n := range asc.Patches() {
			if n != 1 {
				t.Errorf("%s made unavailable %d times, want once", code, n)
			}
		}
		if len(asc.Available()) != 0 || len(keysUnder(t, b.store, "signups/flag/")) != 1 {
			t.Errorf("available in %v; flag versions %d", asc.Available(), len(keysUnder(t, b.store, "signups/flag/")))
		}
	})
}

// startGate runs `signups gate` and returns its address once it listens.
func startGate(t *testing.T, b stateBackend, upstream string) string {
	t.Helper()
	args := append([]string{"signups", "gate", "--upstream", upstream, "--listen", "127.0.0.1:0", "--refresh", "100ms",
		"--signup-route", "POST /signup", "--signup-route", "POST /api/v1/users"}, b.flags...)
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"PERISCOPE_SUNSET_STATUS_PATH=/api/sunset.json"}, b.env...)
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := regexp.MustCompile(`listening on http://(\S+),`).FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("gate did not exit cleanly on SIGTERM: %v\n%s", err, stderr.String())
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Error("gate did not stop within 10s of SIGTERM")
		}
	})
	select {
	case a := <-addr:
		return a
	case err := <-exited:
		t.Fatalf("gate exited: %v\n%s", err, stderr.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("gate did not start\n%s", stderr.String())
	}
	return ""
}

// TestGateE2E runs the gate proxy from the binary in front of a real
// upstream, blocks sign-ups while it runs, and proves it with verify.
func TestGateE2E(t *testing.T) {
	stateBackends(t, func(t *testing.T, b stateBackend) {
		var mu sync.Mutex
		var signups int
		app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(strings.ToLower(r.URL.Path), "sign") || strings.Contains(r.URL.Path, "users") ||
				strings.Contains(r.URL.Path, "sunset") {
				mu.Lock()
				signups++
				mu.Unlock()
			}
			w.WriteHeader(http.StatusCreated)
		}))
		defer app.Close()
		addr := startGate(t, b, app.URL)
		endpoint := "http://" + addr + "/signup"

		r := b.run(t, []string{"signups", "verify", "--endpoint", endpoint}, "--actor", "ana").want(t, 1)
		if !strings.Contains(r.stdout, "NOT PROVEN") || !strings.Contains(r.stdout, "201 Created") {
			t.Fatalf("verify of an open sign-up:\n%s", r.stdout)
		}
		b.run(t, []string{"signups", "block"}, "--reason", "closing", "--info-url", "https://example.com/bye",
			"--sunset-date", "2027-03-31T00:00:00-07:00", "--actor", "ana").want(t, 0)
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := http.Post(endpoint, "application/json", strings.NewReader("{}"))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusGone {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("the gate did not pick up the block within 10s")
			}
			time.Sleep(50 * time.Millisecond)
		}
		mu.Lock()
		before := signups
		mu.Unlock()
		for _, target := range []string{"/SIGNUP", "/signup/", "//signup", "/a/../signup", "/%73ignup", "/%2573ignup",
			"/api%2Fv1%2Fusers", "/api/v1/users.json", "/signup?x=1"} {
			for _, method := range []string{"POST", "post"} {
				code := rawStatus(t, addr, method, target)
				if code != http.StatusGone {
					t.Errorf("%s %s = %d, want 410", method, target, code)
				}
			}
		}
		mu.Lock()
		if signups != before {
			t.Errorf("%d blocked sign-ups reached the app", signups-before)
		}
		mu.Unlock()

		r = b.run(t, []string{"signups", "verify", "--endpoint", endpoint}, "--actor", "ana").want(t, 0)
		if !strings.Contains(r.stdout, "PROVEN: POST "+endpoint+" answered 410 Gone (code signups_closed), Sunset: Wed, 31 Mar 2027 07:00:00 GMT") ||
			!strings.Contains(r.stdout, `Link: <https://example.com/bye>; rel="sunset"`) {
			t.Fatalf("verify:\n%s", r.stdout)
		}
		checkStatusDocument(t, "http://"+addr+"/api/sunset.json")
		mu.Lock()
		if signups != before {
			t.Errorf("the status document reached the app")
		}
		mu.Unlock()

		var verifies []string
		for _, e := range auditEvents(t, b) {
			if e.Action == "signups.verify" {
				verifies = append(verifies, e.Result)
			}
		}
		if strings.Join(verifies, ",") != "failed,proven" {
			t.Errorf("audited verifies %v, want failed then proven", verifies)
		}
	})
}

// checkStatusDocument reads the gate's status document (its path set by
// PERISCOPE_SUNSET_STATUS_PATH) after the block.
func checkStatusDocument(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st gate.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d, %v", url, resp.StatusCode, err)
	}
	if !st.SignupsBlocked || st.Since == nil || st.Sunset == nil || st.Sunset.Format(time.RFC3339) != "2027-03-31T07:00:00Z" ||
		st.InfoURL != "https://example.com/bye" || !strings.Contains(st.Message, "closing") || resp.Header.Get("ETag") == "" {
		t.Errorf("status document %+v, headers %v", st, resp.Header)
	}
}

// rawStatus sends one request line as given, so no client cleans the path.
func rawStatus(t *testing.T, addr, method, target string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: app\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", method, target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestActorDefault(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	run(t, []string{"USER=carol"}, "signups", "block", "--reason", "a", "--state", dir).want(t, 0)
	run(t, nil, "signups", "block", "--reason", "b", "--state", dir).want(t, 0)
	run(t, []string{"USER=carol", "PERISCOPE_SUNSET_ACTOR=dan"}, "signups", "block", "--reason", "c", "--state", dir).want(t, 0)
	r := run(t, nil, "runbook", "audit", "--state", dir).want(t, 0)
	if !regexp.MustCompile(`(?s)carol\s+signups.block.*unknown\s+signups.block.*dan\s+signups.block`).MatchString(r.stdout) {
		t.Fatalf("actors:\n%s", r.stdout)
	}
}

func TestSunsetHelp(t *testing.T) {
	for _, args := range [][]string{
		{"signups", "--help"}, {"signups", "block", "--help"}, {"signups", "unblock", "--help"}, {"signups", "status", "--help"},
		{"signups", "gate", "--help"}, {"signups", "verify", "--help"}, {"delist", "schedule", "--help"},
		{"runbook", "--help"}, {"runbook", "status", "--help"}, {"runbook", "tick", "--help"}, {"runbook", "confirm", "--help"},
		{"runbook", "ics", "--help"}, {"runbook", "audit", "--help"},
	} {
		r := run(t, nil, args...).want(t, 0)
		if !strings.Contains(r.stdout, "USAGE") {
			t.Errorf("%v: no usage:\n%s", args, r.stdout)
		}
		if len(args) == 3 && (!strings.Contains(r.stdout, "$PERISCOPE_SUNSET_STATE") || !strings.Contains(r.stdout, "./sunset-state")) {
			t.Errorf("%v: --state and its environment variable are not shown:\n%s", args, r.stdout)
		}
	}
	r := run(t, nil, "delist", "schedule", "--help").want(t, 0)
	for _, want := range []string{"next March 31", "D-30d", "D+97d", "Examples:", "--dry-run"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("delist schedule --help lacks %q", want)
		}
	}
	if r := run(t, nil, "--help").want(t, 0); !strings.Contains(r.stdout, "signups") || !strings.Contains(r.stdout, "runbook") {
		t.Errorf("the sunset commands are hidden from --help:\n%s", r.stdout)
	}
}
