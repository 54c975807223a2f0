package cli

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer lets the test read what the flusher writes meanwhile.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestBufferedLogReachesTheWriterWhileRunningAndOnReturn(t *testing.T) {
	var out lockedBuffer
	err := withBufferedLog(&out, "json", func(log *slog.Logger) error {
		log.Info("while running")
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(out.String(), "while running") {
			if time.Now().After(deadline) {
				t.Fatal("a log line was not written within 5s while the server runs")
			}
			time.Sleep(10 * time.Millisecond)
		}
		for i := 0; i < 100; i++ {
			log.Info("last words", "i", i)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "last words"); n != 100 {
		t.Fatalf("after return %d of 100 lines were written", n)
	}
}
