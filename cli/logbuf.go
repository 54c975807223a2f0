package cli

import (
	"bufio"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logFlushInterval bounds how late a log line may reach stderr.
const logFlushInterval = 100 * time.Millisecond

// withBufferedLog runs fn with a logger in format ("text" or "json", see
// config.LogFormat) whose lines are written in batches at most
// logFlushInterval apart. One write system call per
// request was the largest cost left on the public hot path; batching keeps
// one line per request at a fraction of it. Everything is flushed when fn
// returns, so only a crash of the process itself can lose the last batch.
func withBufferedLog(w io.Writer, format string, fn func(*slog.Logger) error) error {
	sink := &lineBuffer{w: bufio.NewWriterSize(w, 64<<10)}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(logFlushInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				sink.flush()
			case <-stop:
				return
			}
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
		sink.flush()
	}()
	return fn(slog.New(newLogHandler(sink, format)))
}

// newLogHandler writes JSON lines, or for "text" key=value lines that
// start with the time of day: a developer reads them in a terminal.
func newLogHandler(w io.Writer, format string) slog.Handler {
	if format != "text" {
		return slog.NewJSONHandler(w, nil)
	}
	return slog.NewTextHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.String(slog.TimeKey, a.Value.Time().Format("15:04:05.000"))
			}
			return a
		},
	})
}

// lineBuffer is a bufio.Writer safe for the logger and the flusher.
type lineBuffer struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Write(p)
}

func (b *lineBuffer) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	_ = b.w.Flush()
}
