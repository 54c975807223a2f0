package apptest

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"importops/auth"
	"importops/db"
	"importops/db/dbtest"
)

// BuildServer builds the importops binary (go build) into a directory
// that lives as long as the test, and returns its path.
func BuildServer(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file)) // the module: apptest's parent
	bin := filepath.Join(t.TempDir(), "importops")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Process is the server binary running as a child process over the test
// database, for tests that kill it. Its Env has no Server handler of its
// own: Do, Upload and Get go to the process through loopback.
type Process struct {
	*Env
	bin  string
	vars []string
	cmd  *exec.Cmd
	exit chan struct{}
	logs *processLog
}

// StartProcess runs bin serve with env added to a minimal environment
// (DATABASE_URL is the test database's, LISTEN_ADDR a free loopback port,
// MEDIA_DIR env["MEDIA_DIR"] or a fresh directory), and waits until
// /readyz answers. The process is killed when t ends.
func StartProcess(t testing.TB, conn *sqlx.DB, bin string, env map[string]string) *Process {
	t.Helper()
	vars := map[string]string{
		"DATABASE_URL": dbtest.URL(t), "LISTEN_ADDR": "127.0.0.1:0", "MEDIA_DIR": t.TempDir(),
		"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"),
		// Tests are not about hashing cost, as in New.
		"BCRYPT_COST": strconv.Itoa(bcrypt.MinCost),
	}
	for k, v := range env {
		vars[k] = v
	}
	p := &Process{bin: bin, logs: &processLog{}}
	for k, v := range vars {
		p.vars = append(p.vars, k+"="+v)
	}
	cost, err := strconv.Atoi(vars["BCRYPT_COST"])
	if err != nil {
		t.Fatalf("BCRYPT_COST %q", vars["BCRYPT_COST"])
	}
	p.Env = &Env{Store: db.NewStore(conn), MediaDir: vars["MEDIA_DIR"], Passwords: auth.NewPasswords(cost)}
	t.Cleanup(func() {
		p.Kill(t)
		if t.Failed() {
			t.Logf("server logs:\n%s", p.logs.String())
		}
	})
	p.Start(t)
	return p
}

// Start starts the process (again, after Kill) and waits until it is ready.
func (p *Process) Start(t testing.TB) {
	t.Helper()
	cmd := exec.Command(p.bin, "serve")
	cmd.Env = p.vars
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.bin, err)
	}
	p.cmd, p.exit = cmd, make(chan struct{})
	addr := make(chan string, 1)
	go func() {
		defer close(p.exit)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.logs.add(line)
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				addr <- rec.Addr
			}
		}
		cmd.Wait()
	}()
	select {
	case a := <-addr:
		p.BaseURL = "http://" + a
	case <-p.exit:
		t.Fatalf("the server exited before listening:\n%s", p.logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not listen within 30s:\n%s", p.logs.String())
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(transport.CloseIdleConnections)
	p.Server = &Server{URL: p.BaseURL, client: &http.Client{Transport: transport}}
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := p.Server.client.Get(p.BaseURL + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not answer 200 within 15s (%v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill ends the process with SIGKILL, as a crash or the OOM killer would,
// and waits until it is gone.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exit
	p.cmd = nil
}

// Pid is the running process's id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Logs are the lines the process has logged so far.
func (p *Process) Logs() string { return p.logs.String() }

type processLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *processLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}

func (l *processLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
