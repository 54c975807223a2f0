// Command sseload opens N concurrent graphql-sse subscriptions to
// publicTrackingUpdated on one server, waits until every stream has its
// first event, notes the server's RSS, changes the vehicle's stage through
// the API, and measures how long each stream takes to receive the change.
// scripts/load-sse runs it against a scratch server.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:18090", "the server's origin")
	token := flag.String("token", "", "a staff bearer token of the link's organization")
	vehicle := flag.String("vehicle", "", "the vehicle whose stage is changed")
	slug := flag.String("slug", "", "the tracking link's slug")
	n := flag.Int("n", 2000, "concurrent subscribers")
	pid := flag.Int("pid", 0, "the server's process id, for its RSS")
	within := flag.Duration("within", 2*time.Second, "every subscriber must receive the change within this")
	flag.Parse()
	if err := run(*base, *token, *vehicle, *slug, *n, *pid, *within); err != nil {
		fmt.Fprintln(os.Stderr, "sseload:", err)
		os.Exit(1)
	}
}

const subscription = `subscription ($s: String!) { publicTrackingUpdated(slug: $s) { progress { current } } }`

func run(base, token, vehicle, slug string, n, pid int, within time.Duration) error {
	client := &http.Client{Transport: &http.Transport{
		MaxConnsPerHost: 0, MaxIdleConnsPerHost: n + 16,
		DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	}}
	rssBefore, err := rss(pid)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{"query": subscription, "variables": map[string]string{"s": slug}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var first, failed atomic.Int64
	firstDone := make(chan struct{})
	var changedAt atomic.Int64 // unix nanos of the mutation's return
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	var errOnce sync.Once
	var firstErr error
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := stream(ctx, client, base, body, func(current string, k int) bool {
				if k == 0 {
					if first.Add(1) == int64(n) {
						close(firstDone)
					}
					return true
				}
				if current == "DELIVERED" {
					lat[i] = time.Duration(time.Now().UnixNano() - changedAt.Load())
					return false
				}
				return true
			})
			if err != nil && ctx.Err() == nil {
				failed.Add(1)
				errOnce.Do(func() { firstErr = err })
			}
		}()
		if i%100 == 99 {
			time.Sleep(10 * time.Millisecond) // a ramp, not a SYN flood
		}
	}
	select {
	case <-firstDone:
	case <-time.After(60 * time.Second):
		cancel()
		return fmt.Errorf("only %d of %d streams had their first event after 60s (%d failed; first error: %v)", first.Load(), n, failed.Load(), firstErr)
	}
	opened := time.Since(start)
	time.Sleep(time.Second) // settle
	rssOpen, err := rss(pid)
	if err != nil {
		return err
	}

	mutation, _ := json.Marshal(map[string]any{
		"query":     `mutation ($v: ID!) { updateVehicle(id: $v, input: {stage: DELIVERED}) { stage } }`,
		"variables": map[string]string{"v": vehicle},
	})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(mutation))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	changedAt.Store(time.Now().UnixNano())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("change the stage: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("change the stage: status %d", res.StatusCode)
	}

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(within + 10*time.Second):
		cancel()
		<-done
	}
	got := 0
	var sorted []time.Duration
	for _, d := range lat {
		if d > 0 {
			got++
			sorted = append(sorted, d)
		}
	}
	slices.Sort(sorted)
	pct := func(p float64) time.Duration {
		if len(sorted) == 0 {
			return 0
		}
		return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
	}
	late := 0
	for _, d := range sorted {
		if d > within {
			late++
		}
	}
	fmt.Printf("subscribers: %d (all had their first event %s after the first opened)\n", n, opened.Round(time.Millisecond))
	fmt.Printf("received the stage change: %d of %d; within %s: %d\n", got, n, within, got-late)
	fmt.Printf("latency from the mutation's start: p50 %s, p99 %s, max %s\n",
		pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), pct(1).Round(time.Millisecond))
	fmt.Printf("server RSS: %.1f MiB before, %.1f MiB with %d streams open: +%.1f MiB\n",
		mib(rssBefore), mib(rssOpen), n, mib(rssOpen-rssBefore))
	if got != n || late > 0 {
		return fmt.Errorf("%d of %d subscribers did not receive the change within %s (%d failed streams; first error: %v)", n-got+late, n, within, failed.Load(), firstErr)
	}
	if rssOpen-rssBefore >= 100<<20 {
		return fmt.Errorf("RSS grew by %.1f MiB, want < 100 MiB", mib(rssOpen-rssBefore))
	}
	return nil
}

// stream reads one subscription; each event's progress.current goes to
// on, with its index, until on returns false or the stream ends.
func stream(ctx context.Context, client *http.Client, base string, body []byte, on func(current string, k int) bool) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", res.StatusCode)
	}
	sc := bufio.NewScanner(res.Body)
	k := 0
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Data struct {
				PublicTrackingUpdated *struct {
					Progress struct{ Current string }
				}
			}
			Errors []json.RawMessage
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			return err
		}
		if len(ev.Errors) > 0 || ev.Data.PublicTrackingUpdated == nil {
			return fmt.Errorf("event: %s", line)
		}
		if !on(ev.Data.PublicTrackingUpdated.Progress.Current, k) {
			return nil
		}
		k++
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("stream ended")
}

// rss is the resident set size of process pid, in bytes (Linux).
func rss(pid int) (int64, error) {
	if pid == 0 {
		return 0, nil
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("read the server's RSS: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc/<pid>/status")
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
