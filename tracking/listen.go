package tracking

import (
	"errors"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"

	"importops/db"
)

// ListenConfig says how a Listener reaches PostgreSQL.
type ListenConfig struct {
	DatabaseURL string
	// AppName is the application_name of the listening connection, which
	// names it in pg_stat_activity. Default "importops-listener".
	AppName string
	// Dialer opens the connection; nil is a plain TCP dialer.
	Dialer pq.Dialer
	// MinReconnect and MaxReconnect bound the wait between attempts to
	// reconnect (doubling from the first to the second); default 100 ms
	// and 5 s.
	MinReconnect, MaxReconnect time.Duration
	// PingInterval is how often the connection is checked; a ping not
	// answered within PingInterval turns the cache off until one is.
	// This catches a connection that died without closing. Default 5 s.
	PingInterval time.Duration
	Logger       *slog.Logger
}

// Listener keeps Services' caches in step with the writes of every
// replica: it LISTENs on db.PublicChannel and drops the views each
// notification names. While its connection is down, and until it has been
// re-established and LISTEN issued again, the caches are off (flushed, and
// every lookup reads the database): notifications sent meanwhile are lost,
// so nothing cached before can be trusted.
type Listener struct {
	pl   *pq.Listener
	log  *slog.Logger
	done chan struct{}
	wg   sync.WaitGroup

	mu        sync.Mutex
	caches    map[*cache]struct{}
	watchers  map[*watchers]struct{}
	up        bool // connected, per the last pq event
	listening bool // LISTEN acknowledged
	pingOK    bool // the last ping was answered in time
	closed    bool
}

// Listen starts keeping s's cache and its streams (Watch) in step with
// the database, on a connection of its own. It returns at once; the cache
// goes on when the connection is up and LISTEN is acknowledged.
func (s *Service) Listen(cfg ListenConfig) *Listener {
	l := NewListener(cfg)
	l.Add(s)
	return l
}

// NewListener connects to the database and LISTENs, for the Services
// added to it. Close it when done.
func NewListener(cfg ListenConfig) *Listener {
	l := &Listener{log: cfg.Logger, done: make(chan struct{}), pingOK: true,
		caches: make(map[*cache]struct{}), watchers: make(map[*watchers]struct{})}
	if l.log == nil {
		l.log = slog.Default()
	}
	if cfg.AppName == "" {
		cfg.AppName = "importops-listener"
	}
	if cfg.MinReconnect <= 0 {
		cfg.MinReconnect = 100 * time.Millisecond
	}
	if cfg.MaxReconnect < cfg.MinReconnect {
		cfg.MaxReconnect = max(5*time.Second, cfg.MinReconnect)
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 5 * time.Second
	}
	dsn := withAppName(cfg.DatabaseURL, cfg.AppName)
	if cfg.Dialer != nil {
		l.pl = pq.NewDialListener(cfg.Dialer, dsn, cfg.MinReconnect, cfg.MaxReconnect, l.event)
	} else {
		l.pl = pq.NewListener(dsn, cfg.MinReconnect, cfg.MaxReconnect, l.event)
	}
	l.wg.Add(3)
	go l.listen()
	go l.receive()
	go l.watch(cfg.PingInterval)
	return l
}

// Add puts s's cache and streams in the Listener's care: the cache on at
// once if the Listener is connected (it starts empty), and both in step
// from then on. The returned func takes them out again and turns the
// cache off.
func (l *Listener) Add(s *Service) (remove func()) {
	c := s.cache
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return func() {}
	}
	l.watchers[s.watch] = struct{}{}
	if c != nil {
		l.caches[c] = struct{}{}
		c.setOn(l.ok())
	}
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.watchers, s.watch)
		if c != nil {
			delete(l.caches, c)
			c.setOn(false)
		}
	}
}

// Close stops listening and turns the caches off.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	for c := range l.caches {
		c.setOn(false)
	}
	l.caches, l.watchers = nil, nil
	l.mu.Unlock()
	close(l.done)
	err := l.pl.Close()
	l.wg.Wait()
	return err
}

// listen issues LISTEN; pq issues it again on every reconnection.
func (l *Listener) listen() {
	defer l.wg.Done()
	if err := l.pl.Listen(db.PublicChannel); err != nil {
		if !errors.Is(err, net.ErrClosed) {
			l.log.Error("public cache: LISTEN failed; the cache stays off", "error", err)
		}
		return
	}
	l.set(func() { l.listening = true })
}

// receive applies notifications in the order they were committed.
func (l *Listener) receive() {
	defer l.wg.Done()
	for n := range l.pl.Notify {
		if n != nil && n.Channel != db.PublicChannel {
			continue
		}
		l.mu.Lock()
		for c := range l.caches {
			if n == nil {
				// Sent after a reconnection: what was missed is unknown.
				c.flush()
			} else {
				c.invalidate(n.Extra)
			}
		}
		// After the caches: a stream's re-read must not find what the
		// change replaced.
		for w := range l.watchers {
			if n == nil {
				w.all()
			} else {
				w.changed(n.Extra)
			}
		}
		l.mu.Unlock()
	}
}

// event follows pq's view of the connection. It runs on pq's goroutine,
// before the notifications received after it.
func (l *Listener) event(ev pq.ListenerEventType, err error) {
	switch ev {
	case pq.ListenerEventConnected, pq.ListenerEventReconnected:
		l.log.Info("public cache: listening", "event", ev.String())
		l.set(func() { l.up, l.pingOK = true, true })
	case pq.ListenerEventDisconnected, pq.ListenerEventConnectionAttemptFailed:
		l.log.Warn("public cache: listener connection lost; cache off until it is back", "event", ev.String(), "error", err)
		l.set(func() { l.up = false })
	}
}

// watch pings the connection every interval. A connection can die without
// closing (a dropped route, a frozen server); notifications stop arriving
// and no event says so. A ping not answered within interval turns the
// cache off until one is.
func (l *Listener) watch(interval time.Duration) {
	defer l.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
		}
		res := make(chan error, 1)
		go func() { res <- l.pl.Ping() }()
		var err error
		select {
		case err = <-res:
		case <-time.After(interval):
			l.log.Warn("public cache: listener ping unanswered; cache off until it is")
			l.set(func() { l.pingOK = false })
			select {
			case err = <-res:
			case <-l.done:
				return
			}
		case <-l.done:
			return
		}
		// A failed ping while disconnected is pq's business: the events
		// already turned the cache off, and a reconnection turns it on.
		l.set(func() { l.pingOK = err == nil || !l.up })
	}
}

// set changes the state under the lock and switches the caches when the
// verdict changes; a switch either way flushes them.
func (l *Listener) set(change func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	was := l.ok()
	change()
	if now := l.ok(); now != was {
		for c := range l.caches {
			c.setOn(now)
		}
		if now {
			// Back in step: whatever changed while we were not is unknown.
			for w := range l.watchers {
				w.all()
			}
		}
	}
}

// ok is the verdict: notifications are reaching us. l.mu is held.
func (l *Listener) ok() bool { return l.up && l.listening && l.pingOK && !l.closed }

// withAppName sets application_name on a URL or key=value connection
// string, unless it names one already.
func withAppName(dsn, name string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return dsn
		}
		q := u.Query()
		if q.Get("application_name") == "" {
			q.Set("application_name", name)
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	if strings.Contains(dsn, "application_name=") {
		return dsn
	}
	return strings.TrimSpace(dsn + " application_name=" + name)
}
