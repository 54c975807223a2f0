package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jmoiron/sqlx"
	"go.opentelemetry.io/otel/trace"

	"importops/config"
	"importops/db"
	"importops/httpapi"
	"importops/httpserver"
	"importops/media"
	"importops/opens"
	"importops/telemetry"
	"importops/tracking"
)

// secretKeySetting is where a generated SECRET_KEY is kept.
const secretKeySetting = "media_secret_key"

// app is the wired server: a database pool and the root handler.
type app struct {
	cfg     config.Config
	log     *slog.Logger
	conn    *sqlx.DB
	store   *db.Store
	handler *httpapi.Handler
	// tracking answers public lookups; listener keeps its cache in step
	// with every replica's writes.
	tracking *tracking.Service
	listener *tracking.Listener
	media    media.Storage
	// opens counts tracking-link opens; nil with OPEN_COUNTING=off.
	opens *opens.Counter
	// stopTracing flushes the spans not yet exported; nil without tracing.
	stopTracing func(context.Context) error
}

func (a *app) Close() error {
	a.listener.Close()
	err := a.conn.Close()
	if a.stopTracing != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if terr := a.stopTracing(ctx); terr != nil {
			a.log.Warn("tracing: flush spans", "error", terr)
		}
	}
	return err
}

// newApp opens and migrates the database and builds the HTTP handler.
func newApp(ctx context.Context, cfg config.Config, log *slog.Logger) (*app, error) {
	log.Info("starting", "database", db.Redact(cfg.DatabaseURL), "listen_database", db.Redact(cfg.DatabaseListenURL),
		"db_pool_mode", cfg.DBPoolMode, "env", cfg.Env,
		"public_base_url", cfg.PublicBaseURL, "media_dir", cfg.MediaDir, "media_store", cfg.MediaStore, "rate_limits", cfg.RateLimits)
	var tp trace.TracerProvider
	var stopTracing func(context.Context) error
	if cfg.Tracing {
		var err error
		if tp, stopTracing, err = telemetry.Start(ctx); err != nil {
			return nil, err
		}
		log.Info("tracing: exporting spans over OTLP")
	}
	conn, applied, err := openDB(ctx, cfg, tp)
	if err != nil {
		if stopTracing != nil {
			_ = stopTracing(ctx)
		}
		return nil, err
	}
	for _, name := range applied {
		log.Info("applied migration", "name", name)
	}
	store := newStore(cfg, conn)
	key, err := secretKey(ctx, cfg, store, log)
	if err != nil {
		conn.Close()
		return nil, err
	}
	storage, err := media.Open(ctx, cfg) // MEDIA_DIR, or the MEDIA_STORE bucket
	if err != nil {
		conn.Close()
		return nil, err
	}
	// The public cache is only used while its listener is connected.
	publicViews := tracking.NewCachedService(store, cfg.PublicBaseURL, cfg.PublicCacheSize)
	listener := publicViews.Listen(tracking.ListenConfig{DatabaseURL: cfg.DatabaseListenURL, Logger: log})
	var counter *opens.Counter
	if cfg.OpenCounting {
		counter = opens.New(store, log)
	}
	handler := httpapi.New(httpapi.Deps{
		Config:   cfg,
		Store:    store,
		Media:    storage,
		Signer:   media.NewSigner(key),
		Tracking: publicViews,
		OnServed: counter.Hook(httpapi.ClientAddr),
		Logger:   log,
		Tracer:   tp,
	})
	return &app{cfg: cfg, log: log, conn: conn, store: store, handler: handler,
		tracking: publicViews, listener: listener, media: storage, opens: counter, stopTracing: stopTracing}, nil
}

// secretKey is SECRET_KEY when set; otherwise a random key generated on
// the first start and kept in the database, so that every replica and
// every restart signs media URLs alike.
func secretKey(ctx context.Context, cfg config.Config, store *db.Store, log *slog.Logger) ([]byte, error) {
	if cfg.SecretKey != "" {
		if len(cfg.SecretKey) < 32 {
			log.Warn("SECRET_KEY is shorter than 32 bytes; use a long random value")
		}
		return []byte(cfg.SecretKey), nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("generate secret key: %w", err)
	}
	key, err := store.SettingOrInit(ctx, secretKeySetting, fresh)
	if err != nil {
		return nil, fmt.Errorf("load secret key: %w", err)
	}
	if len(key) == 0 {
		return nil, errors.New("load secret key: the stored key is empty")
	}
	return key, nil
}

// serve runs the server until ctx is cancelled.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	defer a.sweepMedia(ctx)() // stopped before the database closes
	return a.listenAndServe(ctx, nil)
}

// listenAndServe serves until ctx is cancelled, then shuts down gracefully.
// ready, when not nil, is called with the bound address before requests
// are accepted.
func (a *app) listenAndServe(ctx context.Context, ready func(net.Addr)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", a.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.ListenAddr, err)
	}
	srv := httpserver.New(a.handler, a.log)
	if ready != nil {
		ready(ln.Addr())
	}
	// Pending opens are flushed once a second, and a last time after the
	// server has stopped taking requests.
	countCtx, stopCounting := context.WithCancel(context.WithoutCancel(ctx))
	counted := make(chan struct{})
	go func() { a.opens.Run(countCtx); close(counted) }()
	defer func() { stopCounting(); <-counted }()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.log.Info("listening", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("serve HTTP: %w", err)
	case <-ctx.Done():
	}
	// /readyz answers 503 from now on; requests are still served for the
	// drain delay, while load balancers take the server out of rotation.
	a.handler.Drain()
	if d := a.cfg.ShutdownDrainDelay; d > 0 {
		a.log.Info("draining", "delay", d.String())
		select {
		case err := <-errc:
			return fmt.Errorf("serve HTTP: %w", err)
		case <-time.After(d):
		}
	}
	// Streams would keep Shutdown waiting: after the drain they complete,
	// and their clients reconnect to a replica that is not stopping.
	a.handler.EndStreams()
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := httpserver.Shutdown(shutdownCtx, srv); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve HTTP: %w", err)
	}
	a.log.Info("stopped")
	return nil
}
