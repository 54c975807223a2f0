package httpapi

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestKeyedLimiterAllow(t *testing.T) {
	k := newKeyedLimiter[string](budget{name: "t", every: time.Hour, burst: 3}, 10)
	for i := range 3 {
		if _, ok := k.allow("a"); !ok {
			t.Fatalf("request %d refused within the burst", i+1)
		}
	}
	wait, ok := k.allow("a")
	if ok {
		t.Fatal("a request over the burst was allowed")
	}
	if wait <= 0 || wait > time.Hour {
		t.Errorf("retry after %v, want within the refill period", wait)
	}
	if _, ok := k.allow("b"); !ok {
		t.Error("another key was refused: keys must not share a budget")
	}
}

func TestKeyedLimiterBeginSpendsOnlyFailures(t *testing.T) {
	k := newKeyedLimiter[string](budget{name: "t", every: time.Hour, burst: 2}, 10)
	for i := range 10 {
		end, _, ok := k.begin("a")
		if !ok {
			t.Fatalf("attempt %d refused although none failed", i+1)
		}
		end(false)
	}
	for i := range 2 {
		end, _, ok := k.begin("a")
		if !ok {
			t.Fatalf("failure %d refused within the burst", i+1)
		}
		end(true)
	}
	if _, wait, ok := k.begin("a"); ok || wait <= 0 {
		t.Errorf("after the burst of failures: ok %v, wait %v; want refused with a wait", ok, wait)
	}
}

// Concurrent attempts each hold a unit while in flight: however many
// start at once, no more than the budget may fail.
func TestKeyedLimiterBeginConcurrent(t *testing.T) {
	k := newKeyedLimiter[string](budget{name: "t", every: time.Hour, burst: 5}, 10)
	var mu sync.Mutex
	var admitted []func(bool)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if end, _, ok := k.begin("a"); ok {
				mu.Lock()
				admitted = append(admitted, end)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(admitted) != 5 {
		t.Fatalf("%d concurrent attempts admitted, want 5 (the burst)", len(admitted))
	}
	for _, end := range admitted {
		end(true)
		end(true) // a second end is a no-op
	}
	if _, _, ok := k.begin("a"); ok {
		t.Error("an attempt was admitted after the budget was spent")
	}
}

func TestKeyedLimiterIsBounded(t *testing.T) {
	k := newKeyedLimiter[string](budget{name: "t", every: time.Millisecond, burst: 1}, 100)
	for i := range 10_000 {
		k.allow(fmt.Sprint("key-", i))
	}
	if n := k.keys.Len(); n > 100 {
		t.Errorf("the limiter holds %d keys, more than its bound of 100", n)
	}
	// Idle keys (refilled buckets) are dropped as new keys arrive, long
	// before the bound.
	time.Sleep(5 * time.Millisecond)
	for i := range 10 {
		k.allow(fmt.Sprint("fresh-", i))
	}
	if n := k.keys.Len(); n > 100-10 {
		t.Errorf("the limiter holds %d keys after 10 new ones, want idle ones dropped", n)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, 1500 * time.Millisecond: 2, 10 * time.Second: 10} {
		if got := retryAfterSeconds(d); got != want {
			t.Errorf("retryAfterSeconds(%v) = %d, want %d", d, got, want)
		}
	}
}
